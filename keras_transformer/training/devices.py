"""Which devices, distribution strategy and precision a run uses."""

import logging

import tensorflow as tf

logger = logging.getLogger("keras_transformer")


def gpus():
    return tf.config.list_physical_devices("GPU")


def precision_policy(mixed_precision):
    """`mixed_float16` on GPU, `mixed_bfloat16` on CPU, or `float32`."""
    if not mixed_precision:
        return "float32"
    return "mixed_float16" if gpus() else "mixed_bfloat16"


def choose_strategy():
    """MirroredStrategy over the local GPUs when there are several, else the default one
    (which places work on the single GPU, if any, or the CPU)."""
    found = gpus()
    if len(found) > 1:
        logger.info("Training on %d GPUs with MirroredStrategy.", len(found))
        return tf.distribute.MirroredStrategy()
    logger.info("Training on %s.", "1 GPU" if found else "the CPU")
    return tf.distribute.get_strategy()
