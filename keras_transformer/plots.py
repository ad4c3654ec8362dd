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
