"""The backend seam: code that differs by Keras backend, loaded only on its own backend.

`keras_transformer.backend.<name>` (e.g. `tensorflow.py`) holds what backend `<name>` does
differently. It is imported on first use and only when Keras runs that backend, so the
modules that use the seam (the layers among them) import Keras alone; on a backend without
such a module every function here is the portable default.
"""

import importlib
import importlib.util

import keras


def _implementation():
    """The module of the current Keras backend, or None when it has none."""
    name = f"{__name__}.{keras.backend.backend()}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def fused(function):
    """`function` compiled as one fused kernel where the backend gains from it; else as is.

    On the TensorFlow backend a Keras training step runs as a graph of separate kernels, so
    a chain of element-wise ops over a large tensor (the `(batch, length, vocabulary)`
    logits) reads and writes it once per op. There `fused` compiles `function` with XLA
    (`tf.function(jit_compile=True, reduce_retracing=True)`), making the chain one kernel;
    it is called from inside the ordinary graph-mode step and compiles once per distinct
    input shape. Other backends get `function` unchanged (JAX compiles the whole step
    anyway).

    Args:
        function: a function of tensors written with `keras.ops`.

    Returns:
        A function with the same arguments and results.

    Example:

    >>> import numpy as np
    >>> double = fused(lambda x: x * 2.0)
    >>> float(double(np.float32(1.5)))
    3.0
    """
    implementation = _implementation()
    return function if implementation is None else implementation.fused(function)


def replicas_in_sync():
    """Replicas of the current `tf.distribute` replica context on TensorFlow (1 outside of
    one); 1 on the other backends (their distribution shards the batch, not the loss)."""
    implementation = _implementation()
    return 1 if implementation is None else implementation.replicas_in_sync()


def sum_over_replicas(value):
    """`value` summed over the replicas in sync (itself with one replica, or off TensorFlow)."""
    implementation = _implementation()
    return value if implementation is None else implementation.sum_over_replicas(value)
