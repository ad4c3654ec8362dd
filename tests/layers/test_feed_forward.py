import numpy as np
import pytest

import keras_transformer as kt
from tests.arrays import as_numpy
from tests.layers.layer_checks import check_layer


def test_equals_relu_two_layer_reference(rng):
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    layer = kt.FeedForward(hidden_dim=6, intermediate_dim=12, bias_initializer="random_normal")
    output = as_numpy(layer(x))
    w1, b1 = (as_numpy(w) for w in layer.intermediate_dense.weights)
    w2, b2 = (as_numpy(w) for w in layer.output_dense.weights)
    np.testing.assert_allclose(output, np.maximum(x @ w1 + b1, 0) @ w2 + b2, atol=1e-5)


def test_dropout_only_in_training(rng):
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    layer = kt.FeedForward(8, 12, dropout=0.5)
    assert np.array_equal(as_numpy(layer(x)), as_numpy(layer(x, training=False)))
    assert np.mean(as_numpy(layer(x, training=True)) == 0) > 0.25


@pytest.mark.parametrize("kwargs", [{"intermediate_dim": 0}, {"hidden_dim": -1}])
def test_invalid_sizes_raise(kwargs):
    arguments = {"hidden_dim": 8, "intermediate_dim": 12, **kwargs}
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        kt.FeedForward(**arguments)


def test_layer_checks(rng):
    check_layer(
        lambda **kw: kt.FeedForward(8, 12, activation="gelu", **kw),
        [rng.normal(size=(2, 5, 8)).astype("float32")],
        expected_output_shape=(2, 5, 8),
    )
