"""The TensorFlow side of the backend seam (`keras_transformer.backend`)."""

import tensorflow as tf


def fused(function):
    """`function` compiled with XLA, retraced once per distinct input shape at most."""
    return tf.function(function, jit_compile=True, reduce_retracing=True)


def replicas_in_sync():
    """Replicas of the current `tf.distribute` replica context (1 outside of one)."""
    context = tf.distribute.get_replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def sum_over_replicas(value):
    """`value` summed over the replicas in sync (itself with one replica)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)
