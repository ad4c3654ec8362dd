"""A shared check every layer passes (in the spirit of keras-hub's `run_layer_test`):
config round trip, symbolic and eager calls agree, one `fit` step moves the weights, and the
layer runs under both mixed-precision policies with float32 variables."""

import keras
import numpy as np

from tests.arrays import as_numpy


def _call(layer, inputs, call_kwargs):
    return layer(*inputs, **call_kwargs)


def check_layer(make_layer, inputs, call_kwargs=None, expected_output_shape=None):
    """`make_layer(**overrides)` builds a fresh layer; `inputs` is a list of NumPy arrays."""
    call_kwargs = call_kwargs or {}

    # Eager call and config round trip: a layer rebuilt from its config, given the same
    # weights, computes the same outputs.
    layer = make_layer()
    output = as_numpy(_call(layer, inputs, call_kwargs))
    if expected_output_shape is not None:
        assert output.shape == expected_output_shape
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    _call(clone, inputs, call_kwargs)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(as_numpy(_call(clone, inputs, call_kwargs)), output, atol=1e-6)
    serialized = keras.saving.serialize_keras_object(layer)
    assert keras.saving.deserialize_keras_object(serialized).get_config() == config

    # Symbolic (functional) call equals the eager call.
    symbolic_inputs = [
        keras.Input(shape=x.shape[1:], batch_size=None, dtype=str(x.dtype)) for x in inputs
    ]
    model = keras.Model(symbolic_inputs, _call(layer, symbolic_inputs, call_kwargs))
    np.testing.assert_allclose(as_numpy(model(inputs)), output, atol=1e-6)

    # One training step changes every trainable weight.
    before = [as_numpy(w) for w in layer.trainable_weights]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    targets = np.random.default_rng(7).normal(size=output.shape).astype("float32")
    model.fit(inputs, targets, epochs=1, batch_size=len(output), verbose=0)
    moved = [
        not np.allclose(b, as_numpy(a))
        for b, a in zip(before, layer.trainable_weights, strict=True)
    ]
    assert before and all(moved), [
        w.path for w, m in zip(layer.trainable_weights, moved, strict=True) if not m
    ]

    # Mixed precision: outputs in the compute dtype, variables in float32.
    for policy, compute_dtype in (("mixed_bfloat16", "bfloat16"), ("mixed_float16", "float16")):
        mixed = make_layer(dtype=policy)
        mixed_output = _call(mixed, inputs, call_kwargs)
        assert keras.backend.standardize_dtype(mixed_output.dtype) == compute_dtype
        assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in mixed.weights)
        mixed.set_weights(layer.get_weights())
        np.testing.assert_allclose(
            as_numpy(keras.ops.cast(_call(mixed, inputs, call_kwargs), "float32")),
            as_numpy(_call(layer, inputs, call_kwargs)),
            atol=0.25,
        )
    return layer
