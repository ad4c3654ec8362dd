"""XLA fusion of element-wise passes over large tensors.

On the TensorFlow backend a Keras training step runs as a graph of separate kernels, so a chain
of element-wise ops over a large tensor (the `(batch, length, vocabulary)` logits) reads and
writes it once per op. `fused(function)` compiles `function` with XLA
(`tf.function(jit_compile=True)`), making the chain one kernel; it is called from inside the
ordinary graph-mode step and compiles once per distinct input shape. Other backends get
`function` unchanged (JAX compiles the whole step anyway).
"""

import keras


def fused(function):
    """`function` compiled with XLA on TensorFlow, as written elsewhere."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True, reduce_retracing=True)
    return function
