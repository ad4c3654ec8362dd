"""Token accuracy that ignores padding."""

import keras
from keras import ops

from keras_transformer.backend import fused
from keras_transformer.constants import PAD_ID


def token_weights(labels, padding_id, sample_weight=None):
    """float32 `(batch, length)`: 0 at padding labels, else 1 times the optional
    per-sequence `(batch,)` or per-token `(batch, length)` sample weight."""
    weights = ops.cast(ops.not_equal(labels, padding_id), "float32")
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, "float32")
        if len(sample_weight.shape) == 1:
            sample_weight = ops.expand_dims(sample_weight, -1)
        weights = weights * sample_weight
    return weights


def _is_top(labels, logits):
    """Whether the label is the arg-max, the token greedy decoding picks (the first of tied
    maxima), fused with XLA on TensorFlow."""
    return ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), ops.cast(labels, "int32"))


_fused_is_top = fused(_is_top)


@keras.saving.register_keras_serializable(package="keras_transformer")
class MaskedAccuracy(keras.metrics.Metric):
    """Share of real (non-padding) target tokens whose arg-max prediction is right.

    A token counts as right when its label is the arg-max of its logits, the token greedy
    decoding would pick (of tied maxima, the first).

    Args:
        padding_id: int. The label that marks padding. Defaults to `0`.
        name: str. Defaults to `"masked_accuracy"`.

    Example:

    >>> import numpy as np
    >>> metric = MaskedAccuracy()
    >>> logits = np.array([[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])
    >>> metric.update_state(np.array([[1, 1, 0]]), logits)  # 1 of 2 real tokens right
    >>> float(metric.result())
    0.5
    """

    def __init__(self, padding_id=PAD_ID, name="masked_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.padding_id = int(padding_id)
        self.correct = self.add_variable((), initializer="zeros", name="correct")
        self.total = self.add_variable((), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        mask = token_weights(y_true, self.padding_id, sample_weight)
        hits = ops.cast(_fused_is_top(y_true, y_pred), "float32") * mask
        self.correct.assign_add(ops.sum(hits))
        self.total.assign_add(ops.sum(mask))

    def result(self):
        return ops.divide_no_nan(self.correct, self.total)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}
