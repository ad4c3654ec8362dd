import keras
import numpy as np
import pytest

from keras_transformer.training import (
    MaskedAccuracy,
    MaskedSparseCategoricalCrossentropy,
    TransformerSchedule,
)


def _reference_loss(labels, logits, smoothing):
    """Label-smoothed cross-entropy averaged over the non-padding labels (NumPy)."""
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    vocabulary = logits.shape[-1]
    target = np.full(logits.shape, smoothing / vocabulary)
    target += np.eye(vocabulary)[labels] * (1 - smoothing)
    per_token = -(target * log_probs).sum(-1)
    mask = labels != 0
    return per_token[mask].sum() / mask.sum()


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_loss_equals_reference_and_ignores_padding(rng, smoothing):
    labels = np.array([[4, 2, 3, 0, 0], [1, 1, 0, 0, 0]])
    logits = rng.normal(size=(2, 5, 6)).astype("float32")
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=smoothing)
    np.testing.assert_allclose(
        float(loss(labels, logits)), _reference_loss(labels, logits, smoothing), rtol=1e-5
    )
    # More padding (with arbitrary logits) leaves the mean over real tokens unchanged.
    padded_labels = np.pad(labels, ((0, 0), (0, 3)))
    padded_logits = np.concatenate([logits, rng.normal(size=(2, 3, 6)).astype("float32")], 1)
    np.testing.assert_allclose(
        float(loss(padded_labels, padded_logits)), float(loss(labels, logits)), rtol=1e-6
    )


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_loss_gradient_is_softmax_minus_smoothed_target(rng, smoothing, jit_compile):
    """The hand-written gradient equals the analytic one: (softmax - target) on real tokens,
    divided by their number, and 0 on padding."""
    import tensorflow as tf

    labels = np.array([[4, 2, 3, 0, 0], [1, 1, 0, 0, 0]])
    logits = rng.normal(size=(2, 5, 7)).astype("float32") * 3
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=smoothing)

    @tf.function(jit_compile=jit_compile)
    def gradient(logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            value = loss(labels, logits)
        return value, tape.gradient(value, logits)

    value, computed = gradient(tf.constant(logits))
    softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    target = np.full(logits.shape, smoothing / 7) + np.eye(7)[labels] * (1 - smoothing)
    mask = (labels != 0)[..., None]
    expected = (softmax - target) * mask / mask.sum()
    np.testing.assert_allclose(float(value), _reference_loss(labels, logits, smoothing), 1e-5)
    np.testing.assert_allclose(computed.numpy(), expected, atol=1e-6)


def test_loss_sample_weight_and_config(rng):
    labels = np.array([[4, 2, 0], [1, 1, 1]])
    logits = rng.normal(size=(2, 3, 6)).astype("float32")
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.0)
    only_first = float(loss(labels, logits, sample_weight=np.array([1.0, 0.0])))
    np.testing.assert_allclose(only_first, _reference_loss(labels[:1], logits[:1], 0.0), rtol=1e-5)
    clone = MaskedSparseCategoricalCrossentropy.from_config(loss.get_config())
    assert clone.label_smoothing == 0.0 and clone.padding_id == 0
    with pytest.raises(ValueError, match="label_smoothing"):
        MaskedSparseCategoricalCrossentropy(label_smoothing=1.0)


def test_masked_accuracy_counts_only_real_tokens():
    metric = MaskedAccuracy()
    labels = np.array([[3, 1, 0, 0]])
    logits = np.eye(4)[[[3, 2, 1, 1]]]  # right, wrong, then padding
    metric.update_state(labels, logits)
    assert float(metric.result()) == 0.5
    metric.update_state(np.array([[2, 0, 0, 0]]), np.eye(4)[[[2, 0, 0, 0]]])
    assert float(metric.result()) == pytest.approx(2 / 3)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_schedule_follows_equation_three():
    schedule = TransformerSchedule(hidden_dim=512, warmup_steps=4000)
    for step in (1, 100, 4000, 10000, 100000):
        expected = 512**-0.5 * min(step**-0.5, step * 4000**-1.5)
        np.testing.assert_allclose(float(schedule(step - 1)), expected, rtol=1e-5)
    rates = [float(schedule(s)) for s in range(0, 8000, 500)]
    assert int(np.argmax(rates)) == 8  # the peak is at the end of the warm-up


def test_schedule_serializes_inside_an_optimizer():
    schedule = TransformerSchedule(hidden_dim=64, warmup_steps=10, scale=2.0)
    optimizer = keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert float(restored.learning_rate) == pytest.approx(float(schedule(0)))
    assert restored._learning_rate.get_config() == schedule.get_config()


def test_accuracy_counts_the_arg_max_as_greedy_decoding_does():
    """A tie between the label and an earlier token is the earlier token for greedy
    decoding (arg-max takes the first), so it is not a hit."""
    logits = np.array([[[2.0, 2.0, 0.0], [0.0, 2.0, 2.0], [0.0, 1.0, 3.0]]], "float32")
    labels = np.array([[1, 1, 2]], "int32")
    metric = MaskedAccuracy()
    metric.update_state(labels, logits)
    assert float(metric.result()) == pytest.approx(2 / 3)  # token 0 wins the first tie
