"""Masked sparse cross-entropy with label smoothing (Vaswani et al. 2017, Section 5.4)."""

import keras
from keras import ops

from keras_transformer.training.metrics import token_weights


@keras.saving.register_keras_serializable(package="keras_transformer")
class MaskedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy over token ids that ignores padding labels, with label smoothing.

    The smoothed target puts `1 - label_smoothing` on the true token plus
    `label_smoothing / vocabulary_size` on every token (ε_ls = 0.1 in the paper), so
    loss = (1 - ε) · (-log p_true) + ε · mean_v(-log p_v). Positions whose label is
    `padding_id` get weight 0 and the loss is the mean over the real tokens of the batch
    (not over all positions, which would shrink it as padding grows).

    Args:
        label_smoothing: float in [0, 1). Defaults to `0.1` (the paper's).
        padding_id: int. The label that marks padding. Defaults to `0`.
        name: str. Defaults to `"masked_sparse_categorical_crossentropy"`.

    Call arguments:
        y_true: int labels `(batch, length)`.
        y_pred: logits `(batch, length, vocabulary_size)`.
        sample_weight: optional `(batch,)` or `(batch, length)` weights.

    Example:

    >>> import numpy as np
    >>> loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.0)
    >>> logits = np.log(np.array([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]], "float32"))
    >>> round(float(loss(np.array([[1, 0]]), logits)), 4)  # only the first label is real
    1.3863
    """

    def __init__(
        self, label_smoothing=0.1, padding_id=0, name="masked_sparse_categorical_crossentropy"
    ):
        super().__init__(name=name, reduction="mean_with_sample_weight")
        if not 0 <= label_smoothing < 1:
            raise ValueError(
                f"label_smoothing must be in [0, 1); received label_smoothing={label_smoothing}."
            )
        self.label_smoothing = float(label_smoothing)
        self.padding_id = int(padding_id)

    def __call__(self, y_true, y_pred, sample_weight=None):
        weights = token_weights(y_true, self.padding_id, sample_weight)
        return super().__call__(y_true, y_pred, sample_weight=weights)

    def call(self, y_true, y_pred):
        # With z = logits: -log p_v = logsumexp(z) - z_v, so the smoothed loss is
        # logsumexp(z) - (1 - ε) z_true - ε mean(z): no (batch, length, vocabulary) log-prob
        # tensor is materialized, which matters with large vocabularies.
        logits = ops.cast(y_pred, "float32")
        labels = ops.expand_dims(ops.cast(y_true, "int32"), -1)
        true_logit = ops.squeeze(ops.take_along_axis(logits, labels, axis=-1), -1)
        loss = ops.logsumexp(logits, axis=-1) - (1.0 - self.label_smoothing) * true_logit
        if self.label_smoothing:
            loss -= self.label_smoothing * ops.mean(logits, axis=-1)
        return loss

    def get_config(self):
        return {
            "label_smoothing": self.label_smoothing,
            "padding_id": self.padding_id,
            "name": self.name,
        }
