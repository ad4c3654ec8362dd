"""PNG plots: training curves (and, with decoding, attention heatmaps)."""

import pathlib
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from keras_transformer.atomic import atomic_path


def plot_training_curves(history, path):
    """Loss and masked accuracy per epoch, training and validation, from `history.json`
    records (a list of dicts with `epoch` and metric values). Writes a PNG atomically."""
    epochs = [record["epoch"] for record in history]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "masked_accuracy"), strict=True):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = [record.get(prefix + metric) for record in history]
            if any(v is not None for v in values):
                axis.plot(epochs, values, style, label=(prefix or "train_") + metric)
        axis.set_xlabel("epoch")
        axis.set_title(metric.replace("_", " "))
        axis.grid(alpha=0.3)
        if axis.lines:  # a metric absent from every record draws no line
            axis.legend()
    return _save(figure, path)


def plot_attention(weights, source_tokens, target_tokens, path, title=None):
    """Heatmaps of cross-attention, one panel per head.

    Args:
        weights: array `(heads, target_length, source_length)`; rows sum to 1.
        source_tokens: list of str, the x axis.
        target_tokens: list of str, the y axis (the token produced at each row).
        path: where the PNG is written (atomically).
        title: optional figure title.
    """
    import numpy as np

    weights = np.asarray(weights)
    heads = weights.shape[0]
    columns = min(heads, 2)
    rows = -(-heads // columns)
    width = max(3.0, 0.35 * len(source_tokens) + 1.5)
    height = max(2.5, 0.35 * len(target_tokens) + 1.0)
    figure, axes = plt.subplots(
        rows, columns, figsize=(columns * width, rows * height), squeeze=False
    )
    for head, axis in enumerate(axes.flat):
        if head >= heads:
            axis.axis("off")
            continue
        axis.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        axis.set_xticks(range(len(source_tokens)), source_tokens, rotation=90, fontsize=8)
        axis.set_yticks(range(len(target_tokens)), target_tokens, fontsize=8)
        axis.set_title(f"head {head + 1}", fontsize=9)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def _save(figure, path):
    """Lays `figure` out, writes it as a PNG at `path` atomically and closes it."""
    try:
        figure.tight_layout()
        with atomic_path(path) as temporary, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fonts without a glyph (e.g. Hangul) only warn
            figure.savefig(temporary, dpi=100, format="png")
    finally:
        plt.close(figure)
    return pathlib.Path(path)
