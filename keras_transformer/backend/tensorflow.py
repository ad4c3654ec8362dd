"""The TensorFlow side of the backend seam (`keras_transformer.backend`)."""

import tensorflow as tf


def fused(function):
    """`function` compiled with XLA, retraced once per distinct input shape at most."""
    return tf.function(function, jit_compile=True, reduce_retracing=True)
