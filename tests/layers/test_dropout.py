import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.layers import Dropout
from keras_transformer.layers.dropout import dropout, dropout_threshold
from tests.arrays import as_numpy


def _dropped(x, rate, seed=0, noise_shape=None):
    y = dropout(x, rate, keras.random.SeedGenerator(seed), noise_shape)
    return keras.ops.convert_to_numpy(keras.ops.cast(y, "float32"))


@pytest.mark.parametrize(
    "rate, bits, applied",
    [(0.1, 8, 26 / 256), (0.5, 8, 0.5), (0.3, 8, 77 / 256), (0.01, 16, 655 / 65536)],
)
def test_threshold_keeps_rate_close(rate, bits, applied):
    assert dropout_threshold(rate) == (bits, round(applied * 2**bits))
    assert abs(applied - rate) <= 0.02 * rate


@pytest.mark.parametrize("rate", [0.1, 0.01, 0.37])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_drops_the_applied_rate_and_keeps_the_mean(rate, dtype):
    bits, threshold = dropout_threshold(rate)
    applied = threshold / 2**bits
    x = keras.ops.ones((3, 7, 10_001), dtype)  # an odd size: words do not divide it
    y = _dropped(x, rate)
    dropped = float(np.mean(y == 0))
    sigma = np.sqrt(applied * (1 - applied) / y.size)
    assert abs(dropped - applied) < 5 * sigma
    # Survivors are scaled by 1 / (1 - applied): the expectation is the input.
    assert np.allclose(y[y != 0], 1 / (1 - applied), rtol=1e-2)
    assert abs(float(y.mean()) - 1) < 6 * sigma / (1 - applied) + 1e-2 * (dtype == "bfloat16")


@pytest.mark.parametrize("rate", [0.5, 0.01])
def test_neighbours_are_independent(rate):
    # Several decisions come from one random word: pairs of neighbours (same word) and
    # of elements a word apart must both be dropped at rate², and bytes spread evenly.
    y = _dropped(np.ones((400_000,), "float32"), rate, seed=5) == 0
    applied = float(y.mean())
    for gap in (1, 2, 4):
        both = float(np.mean(y[:-gap] & y[gap:]))
        assert abs(both - applied**2) < 5 * np.sqrt(applied**2 / y.size) + 1e-4
    per_position = y.reshape(-1, 4).mean(axis=0)  # position of the byte within its word
    assert np.all(np.abs(per_position - applied) < 5 * np.sqrt(applied / (y.size / 4)))


def test_limits_and_noise_shape():
    x = np.ones((4, 5, 6), "float32")
    with pytest.raises(ValueError, match=r"rate=1\.5"):
        _dropped(x, 1.5)
    assert np.all(_dropped(x, 1.0) == 0)
    assert np.array_equal(_dropped(x, 1e-7), x)  # below 1/65536: nothing to drop
    y = _dropped(x, 0.5, seed=2, noise_shape=(None, 1, None))
    assert np.array_equal(y, np.broadcast_to(y[:, :1], y.shape))
    assert 0 < np.mean(y == 0) < 1


def test_layer_is_identity_at_inference_and_reproducible_by_seed():
    x = np.random.default_rng(0).normal(size=(3, 50)).astype("float32")
    layer = Dropout(0.25, seed=11)
    assert np.array_equal(as_numpy(layer(x)), x)
    first = as_numpy(Dropout(0.25, seed=11)(x, training=True))
    again = as_numpy(Dropout(0.25, seed=11)(x, training=True))
    assert np.array_equal(first, again)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(clone) is Dropout and clone.get_config() == layer.get_config()


def test_gradient_is_the_mask_and_dynamic_shapes_work():
    layer = Dropout(0.5, seed=1)
    inputs = keras.Input((None, 6))
    model = keras.Model(inputs, layer(inputs, training=True))
    x = keras.ops.convert_to_tensor(np.full((2, 9, 6), 3.0, "float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
    gradient = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(gradient, y.numpy() / 3.0)
    assert set(np.unique(gradient)) == {0.0, 2.0}
