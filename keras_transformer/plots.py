"""PNG plots: training curves, confusion matrices (and, with decoding, attention heatmaps)."""

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


def plot_confusion_matrix(confusion, labels, path, title=None):
    """Heatmap of a classifier's confusion matrix, with the count written in each cell.

    Colours are row-normalised (the share of each true class predicted as each class, so a
    perfect classifier shows a dark diagonal whatever the class sizes); the numbers are the
    raw counts. Cells and fonts scale with the number of classes so that 2 to about 30
    classes stay readable; the predicted labels are rotated.

    Args:
        confusion: square array or list of lists of counts, `confusion[true][predicted]`
            (as `classification_scores` returns it).
        labels: list of str, the class names, in class id order.
        path: where the PNG is written (atomically).
        title: optional figure title.

    Returns:
        The `pathlib.Path` of the PNG.

    Raises:
        ValueError: if `confusion` is not a square matrix with one row per label.
    """
    import numpy as np

    confusion = np.asarray(confusion)
    labels = [str(label) for label in labels]
    classes = len(labels)
    if confusion.ndim != 2 or confusion.shape != (classes, classes) or not classes:
        raise ValueError(
            f"`confusion` must be a square matrix with one row and column per label; got "
            f"shape {confusion.shape} for {classes} labels."
        )
    totals = confusion.sum(axis=1, keepdims=True)
    shares = np.divide(
        confusion, totals, out=np.zeros(confusion.shape, "float64"), where=totals > 0
    )
    cell = 0.5 if classes <= 12 else 0.4  # inches
    longest = max(len(label) for label in labels)
    margin = 0.6 + 0.07 * min(longest, 30)  # room for the tick labels
    figure, axis = plt.subplots(
        figsize=(max(4.0, classes * cell + margin + 1.6), max(3.5, classes * cell + margin + 0.6))
    )
    image = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="equal")
    colorbar = figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
    colorbar.set_label("share of the true class")
    font = 10 if classes <= 10 else 8 if classes <= 20 else 7
    number = "{:d}" if confusion.dtype.kind in "iu" else "{:g}"
    for (row, column), count in np.ndenumerate(confusion):
        axis.text(
            column, row, number.format(count), ha="center", va="center", fontsize=font,
            color="white" if shares[row, column] > 0.5 else "black",
        )  # fmt: skip
    tick_font = max(font, 8)
    axis.set_xticks(range(classes))
    axis.set_xticklabels(
        labels, rotation=45, ha="right", rotation_mode="anchor", fontsize=tick_font
    )
    axis.set_yticks(range(classes), labels, fontsize=tick_font)
    axis.set_xlabel("predicted label")
    axis.set_ylabel("true label")
    if title:
        axis.set_title(title)
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
