"""Masked sparse cross-entropy with label smoothing (Vaswani et al. 2017, Section 5.4)."""

import keras
from keras import ops

from keras_transformer.backend import fused, replicas_in_sync, sum_over_replicas
from keras_transformer.constants import PAD_ID
from keras_transformer.layers.validation import check_fraction
from keras_transformer.training.metrics import token_weights


def smoothed_cross_entropy(labels, logits, label_smoothing):
    """Per-token label-smoothed cross-entropy from logits, `(batch, length)` float32.

    With z = logits and -log p_v = logsumexp(z) - z_v, the smoothed loss is
    logsumexp(z) - (1 - ε) z_true - ε mean(z), and its gradient is softmax(z) minus the
    smoothed target. Both are written out (`keras.ops.custom_gradient`): automatic
    differentiation of the same formula adds a full-size scatter for `z_true`, an
    accumulation of three full-size gradients and a second softmax (a large share of a CPU
    step at an 8 000-word vocabulary). On the TensorFlow backend the two halves are
    compiled with XLA (fused): the forward pass reads the `(batch, length, vocabulary)`
    logits twice and the backward pass reads them once and writes the gradient, instead of
    about ten separate full-size passes.
    """
    shape = ops.shape(logits)
    vocabulary = logits.shape[-1] if logits.shape[-1] is not None else shape[-1]
    rows = ops.reshape(ops.cast(logits, "float32"), (-1, vocabulary))
    labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
    smoothing = ops.convert_to_tensor(label_smoothing, "float32")

    @ops.custom_gradient
    def loss_and_gradient(rows):
        loss, top, total = _fused_forward(rows, labels, smoothing)

        def gradient(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            return _fused_backward(rows, labels, smoothing, top, total, upstream)

        return loss, gradient

    return ops.reshape(loss_and_gradient(rows), shape[:-1])


def _forward(rows, labels, smoothing):
    """Loss per row, with the row max and the sum of exp(z - max) the gradient reuses."""
    top = ops.max(rows, axis=-1, keepdims=True)
    total = ops.sum(ops.exp(rows - top), axis=-1, keepdims=True)
    true_logit = ops.take_along_axis(rows, labels[:, None], axis=-1)[:, 0]
    loss = ops.squeeze(top + ops.log(total), -1) - (1.0 - smoothing) * true_logit
    return loss - smoothing * ops.mean(rows, axis=-1), top, total


def _backward(rows, labels, smoothing, top, total, upstream):
    """upstream · (softmax(z) - smoothed target), in one pass over the logits."""
    vocabulary = ops.shape(rows)[-1]
    is_true = ops.arange(vocabulary, dtype="int32")[None, :] == labels[:, None]
    target = ops.where(is_true, 1.0 - smoothing, 0.0) + smoothing / ops.cast(vocabulary, "float32")
    return (ops.exp(rows - top) / total - target) * upstream[:, None]


_fused_forward, _fused_backward = fused(_forward), fused(_backward)


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
        self, label_smoothing=0.1, padding_id=PAD_ID, name="masked_sparse_categorical_crossentropy"
    ):
        super().__init__(name=name, reduction="mean_with_sample_weight")
        self.label_smoothing = check_fraction(label_smoothing, "label_smoothing")
        self.padding_id = int(padding_id)

    def __call__(self, y_true, y_pred, sample_weight=None):
        weights = token_weights(y_true, self.padding_id, sample_weight)
        if replicas_in_sync() == 1:
            return super().__call__(y_true, y_pred, sample_weight=weights)
        # Keras sums the replicas' gradients, and its own reduction would make each replica's
        # loss its mean over its own tokens divided by the replicas (a mean of means); this
        # replica's sum over the global count sums to the global per-token mean instead.
        total = ops.sum(self.call(y_true, y_pred) * weights)
        return total / ops.maximum(sum_over_replicas(ops.sum(weights)), 1.0)

    def call(self, y_true, y_pred):
        return smoothed_cross_entropy(y_true, y_pred, self.label_smoothing)

    def get_config(self):
        return {
            "label_smoothing": self.label_smoothing,
            "padding_id": self.padding_id,
            "name": self.name,
        }
