"""Which devices, distribution strategy and precision a run uses."""

import contextlib
import ctypes
import gc
import logging

import tensorflow as tf

from keras_transformer.training.multiworker import enable_multiworker_fit

logger = logging.getLogger("keras_transformer")


def gpus():
    return tf.config.list_physical_devices("GPU")


def precision_policy(mixed_precision):
    """`mixed_float16` on GPU, `mixed_bfloat16` on CPU, or `float32`."""
    if not mixed_precision:
        return "float32"
    return "mixed_float16" if gpus() else "mixed_bfloat16"


STRATEGIES = ("auto", "none", "mirrored", "multiworker")


def choose_strategy(name="auto"):
    """The `tf.distribute` strategy for `name`:

    - `"auto"`: MirroredStrategy over the local GPUs when there are several, else `"none"`;
    - `"none"`: the default strategy (the single GPU if there is one, else the CPU);
    - `"mirrored"`: MirroredStrategy over the local GPUs, or over the logical CPU devices
      when there is no GPU (configure them with `tf.config.set_logical_device_configuration`);
    - `"multiworker"`: MultiWorkerMirroredStrategy, the cluster read from `TF_CONFIG`
      (create it before any other TensorFlow op runs). `model.fit` runs under it thanks to
      `multiworker.enable_multiworker_fit`, which works around keras-team/keras#20585.
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}; received {name!r}.")
    found = gpus()
    if name == "multiworker":
        enable_multiworker_fit()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        logger.info("Training with MultiWorkerMirroredStrategy, %d replicas in sync.",
                    strategy.num_replicas_in_sync)  # fmt: skip
        return strategy
    if name == "mirrored" or (name == "auto" and len(found) > 1):
        devices = [d.name for d in tf.config.list_logical_devices("GPU" if found else "CPU")]
        logger.info("Training with MirroredStrategy over %s.", ", ".join(devices))
        return tf.distribute.MirroredStrategy(devices)
    logger.info("Training on %s.", "1 GPU" if found else "the CPU")
    return tf.distribute.get_strategy()


def release_free_memory():
    """Hands the memory freed after a big step (reading a corpus sample, learning a
    tokenizer) back to the system: Python's garbage, then glibc's free heap pages
    (`malloc_trim`), which would otherwise stay in the process for the whole run."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)
