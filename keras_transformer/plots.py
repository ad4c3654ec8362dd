"""PNG plots: training curves (and, with decoding, attention heatmaps)."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_training_curves(history, path):
    """Loss and masked accuracy per epoch, training and validation, from `history.json`
    records (a list of dicts with `epoch` and metric values). Writes a PNG atomically."""
    path = pathlib.Path(path)
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
        axis.legend()
    figure.tight_layout()
    temporary = path.with_name(path.stem + ".tmp.png")
    figure.savefig(temporary, dpi=100)
    plt.close(figure)
    temporary.replace(path)
    return path


def plot_attention(weights, source_tokens, target_tokens, path, title=None):
    """Heatmaps of cross-attention, one panel per head.

    Args:
        weights: array `(heads, target_length, source_length)`; rows sum to 1.
        source_tokens: list of str, the x axis.
        target_tokens: list of str, the y axis (the token produced at each row).
        path: where the PNG is written (atomically).
        title: optional figure title.
    """
    import warnings

    import numpy as np

    path = pathlib.Path(path)
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
    figure.tight_layout()
    temporary = path.with_name(path.stem + ".tmp.png")
    with warnings.catch_warnings():  # fonts without a glyph (e.g. Hangul) only warn
        warnings.simplefilter("ignore")
        figure.savefig(temporary, dpi=100)
    plt.close(figure)
    temporary.replace(path)
    return path
