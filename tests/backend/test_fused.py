"""The backend seam: `fused` XLA-compiles on TensorFlow, computes what the plain function
computes, and is the function itself on a backend without an implementation."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_transformer.backend import fused


def _softmax_minus_target(logits, labels):
    """An element-wise chain over logits, like the loss's backward half."""
    target = ops.one_hot(labels, ops.shape(logits)[-1])
    return ops.exp(logits - ops.max(logits, axis=-1, keepdims=True)) - target


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow backend only")
def test_on_tensorflow_fused_is_an_xla_compiled_tf_function():
    import tensorflow as tf

    compiled = fused(_softmax_minus_target)
    assert isinstance(compiled, tf.types.experimental.PolymorphicFunction)
    assert compiled.python_function is _softmax_minus_target
    logits, labels = tf.zeros((2, 3, 5)), tf.zeros((2, 3), tf.int32)
    graph = compiled.get_concrete_function(logits, labels).function_def
    assert graph.attr["_XlaMustCompile"].b, "compiled without jit_compile=True"


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow backend only")
def test_on_tensorflow_new_shapes_retrace_once_into_a_general_trace():
    compiled = fused(lambda x: x * 2.0 + 1.0)
    for length in (3, 4, 5, 6):  # reduce_retracing: after the second shape, one general trace
        compiled(np.zeros((2, length), "float32"))
    assert compiled.experimental_get_tracing_count() == 2


def test_fused_equals_the_plain_function(rng):
    logits = rng.normal(size=(2, 3, 5)).astype("float32")
    labels = rng.integers(0, 5, size=(2, 3)).astype("int32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(fused(_softmax_minus_target)(logits, labels)),
        ops.convert_to_numpy(_softmax_minus_target(logits, labels)),
        rtol=1e-6,
        atol=1e-6,
    )


@pytest.mark.parametrize("backend", ["jax", "torch", "numpy"])
def test_a_backend_without_an_implementation_gets_the_function_itself(backend, monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    assert fused(_softmax_minus_target) is _softmax_minus_target
