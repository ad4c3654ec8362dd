"""OutputProjection: float32 logits whatever the policy; the fused training path (one XLA pass
forward and one backward on TensorFlow) computes what the plain formula computes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.layers import OutputProjection
from tests.arrays import as_numpy

BATCH, LENGTH, HIDDEN, VOCAB = 3, 5, 6, 11


def _projection(policy, rng):
    layer = OutputProjection(VOCAB, dtype=policy)
    layer.build((None, None, HIDDEN))
    layer.set_weights(
        [
            rng.normal(size=(HIDDEN, VOCAB)).astype("float32"),
            rng.normal(size=VOCAB).astype("float32"),
        ]
    )
    return layer


def _plain_logits(layer, x):
    """float32(x W) + b, the matmul in the compute dtype, written out with tf ops."""
    kernel = tf.cast(keras.ops.convert_to_tensor(layer.kernel), layer.compute_dtype)
    z = tf.linalg.matmul(tf.cast(x, layer.compute_dtype), kernel)
    return tf.cast(z, "float32") + layer.bias.value  # the bias stays float32


# A few units in the last place of the compute dtype (float32: ~8 ulps of 1.2e-7; float16:
# 2 of 9.8e-4; bfloat16: 2 of 7.8e-3): two matrix products of the same operands need not agree
# bit for bit (the kernel and its summation order depend on the machine, threads, alignment).
TOLERANCE = {"float32": 1e-6, "mixed_float16": 2e-3, "mixed_bfloat16": 1.6e-2}


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("training", [False, True])
def test_logits_are_float32_and_match_the_formula(policy, training, rng):
    layer = _projection(policy, rng)
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    logits = layer(x, training=training)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    expected = as_numpy(_plain_logits(layer, x))
    tolerance = TOLERANCE[policy]
    np.testing.assert_allclose(
        as_numpy(logits), expected, rtol=tolerance, atol=tolerance * np.abs(expected).max()
    )
    symbolic = layer(keras.Input((None, HIDDEN)))
    assert symbolic.dtype == "float32" and symbolic.shape == (None, None, VOCAB)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("training", [False, True])
def test_the_bias_is_added_in_float32_after_the_cast(policy, training, rng):
    # Small integers in x and the kernel: every product and partial sum of x W is an integer
    # below 256, exact in bfloat16 and float16 whatever the kernel or summation order, so
    # float32(x W) + b is one correctly rounded float32 addition, the same on every machine,
    # and exact equality holds. A bias added in the compute dtype would lose its low bits.
    layer = OutputProjection(VOCAB, dtype=policy)
    layer.build((None, None, HIDDEN))
    kernel = rng.integers(-3, 4, size=(HIDDEN, VOCAB)).astype("float32")
    bias = rng.normal(size=VOCAB).astype("float32")
    layer.set_weights([kernel, bias])
    x = rng.integers(-3, 4, size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    logits = as_numpy(layer(x, training=training))
    expected = (x.astype("float64") @ kernel).astype("float32") + bias
    np.testing.assert_array_equal(logits, expected)
    if policy != "float32":  # the check has teeth: the sum in the compute dtype differs
        rounded = keras.ops.cast(keras.ops.cast(expected, layer.compute_dtype), "float32")
        assert not np.array_equal(as_numpy(rounded), expected)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_fused_gradients_equal_automatic_differentiation(policy, rng):
    layer = _projection(policy, rng)
    x = tf.constant(rng.normal(size=(BATCH, LENGTH, HIDDEN)), "float32")
    upstream = tf.constant(rng.normal(size=(BATCH, LENGTH, VOCAB)), "float32")
    sources = [x, layer.kernel.value, layer.bias.value]

    def gradients(logits_of):
        with tf.GradientTape() as tape:
            tape.watch(sources)
            loss = tf.reduce_sum(logits_of() * upstream)
        return tape.gradient(loss, sources)

    fused = gradients(lambda: layer(x, training=True))
    plain = gradients(lambda: _plain_logits(layer, x))
    tolerance = 1e-5 if policy == "float32" else 2e-2
    for got, expected in zip(fused, plain, strict=True):
        np.testing.assert_allclose(
            as_numpy(got), as_numpy(expected), rtol=tolerance, atol=tolerance
        )
    # The gradient of the bias is the column sum of the upstream gradient, in float32.
    np.testing.assert_allclose(fused[2], upstream.numpy().sum(axis=(0, 1)), rtol=1e-5)


def test_fused_path_handles_dynamic_shapes_in_a_compiled_step(rng):
    keras.config.set_dtype_policy("mixed_bfloat16")
    inputs = keras.Input((None, HIDDEN))
    model = keras.Model(inputs, OutputProjection(VOCAB)(keras.layers.Dense(HIDDEN)(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    for length in (4, 7):  # two lengths: the XLA part compiles once per shape
        x = rng.normal(size=(BATCH, length, HIDDEN)).astype("float32")
        history = model.fit(x, np.zeros((BATCH, length, VOCAB), "float32"), epochs=2, verbose=0)
        assert history.history["loss"][1] < history.history["loss"][0]


def test_config_round_trip_and_dense_weights_load(rng):
    layer = _projection("float32", rng)
    clone = OutputProjection.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    # Same weights as a Dense of the same size, so a Dense head's weights load into it.
    dense = keras.layers.Dense(VOCAB)
    dense.build((None, None, HIDDEN))
    dense.set_weights(layer.get_weights())
    clone.build((None, None, HIDDEN))
    clone.set_weights(dense.get_weights())
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    np.testing.assert_allclose(as_numpy(clone(x)), as_numpy(dense(x)), rtol=1e-6, atol=1e-6)
    assert [w.path.split("/")[-1] for w in clone.weights] == ["kernel", "bias"]


def test_without_bias(rng):
    layer = OutputProjection(VOCAB, use_bias=False, dtype="mixed_bfloat16")
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    for training in (False, True):
        logits = layer(x, training=training)
        assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert len(layer.weights) == 1


@pytest.mark.parametrize("training", [False, True])
def test_lora_update_is_part_of_the_logits(training, rng):
    layer = _projection("mixed_bfloat16", rng)
    kernel, bias = layer.get_weights()
    layer.enable_lora(2)
    layer.lora_kernel_b.assign(rng.normal(size=(2, VOCAB)).astype("float32"))
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    logits = layer(x, training=training)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    # Inside the call the LoRA factors are read in bfloat16, hence the tolerance.
    expected = as_numpy(_plain_logits(layer, x))
    np.testing.assert_allclose(as_numpy(logits), expected, rtol=3e-2, atol=3e-2)
    without_lora = x @ kernel + bias
    assert np.abs(expected - without_lora).max() > 0.1  # the update is really there
