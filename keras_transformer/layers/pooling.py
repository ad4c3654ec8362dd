"""Mask-aware pooling of a sequence into one vector, for classifiers."""

import keras
from keras import ops

from keras_transformer.layers.masks import implicit_mask

POOLINGS = ("cls", "mean")


@keras.saving.register_keras_serializable(package="keras_transformer")
class SequencePooling(keras.layers.Layer):
    """One vector per sequence: the first position's (`"cls"`: the `[START]` token a
    classifier's inputs begin with, as BERT's `[CLS]`) or the mean over the real tokens
    (`"mean"`; padding never counts).

    Call arguments:
        x: `(batch, length, hidden_dim)`.
        padding_mask: `(batch, length)`, 1 = real token. Defaults to the Keras mask of `x`
            (no mask: every position is real).

    Returns:
        `(batch, hidden_dim)`.

    Example:

    >>> import numpy as np
    >>> x = np.arange(12, dtype="float32").reshape(1, 3, 4)
    >>> mask = np.array([[1, 1, 0]])
    >>> np.asarray(SequencePooling("mean")(x, padding_mask=mask)).tolist()
    [[2.0, 3.0, 4.0, 5.0]]
    >>> np.asarray(SequencePooling("cls")(x)).tolist()
    [[0.0, 1.0, 2.0, 3.0]]
    """

    def __init__(self, mode="cls", **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLINGS:
            raise ValueError(f"mode must be one of {POOLINGS}; received {mode!r}.")
        self.mode = mode
        self.supports_masking = True

    def call(self, x, padding_mask=None, mask=None):
        if self.mode == "cls":
            return x[:, 0]
        if padding_mask is None:
            padding_mask = mask if mask is not None else implicit_mask(x)
        if padding_mask is None:
            return ops.mean(x, axis=1)
        weights = ops.cast(padding_mask, x.dtype)[:, :, None]
        total = ops.sum(x * weights, axis=1)
        return total / ops.maximum(ops.sum(weights, axis=1), ops.cast(1, x.dtype))

    def compute_mask(self, x, mask=None):
        return None

    def compute_output_shape(self, x_shape):
        return (x_shape[0], x_shape[-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
