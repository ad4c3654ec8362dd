"""PNG plots: training curves and attention heatmaps, written whole (atomically)."""

import struct
import warnings
import zlib

import numpy as np
import pytest

from keras_transformer.plots import plot_attention, plot_confusion_matrix, plot_training_curves

HISTORY = [
    {"epoch": 1, "loss": 2.5, "masked_accuracy": 0.4, "val_loss": 2.7, "val_masked_accuracy": 0.35},
    {"epoch": 2, "loss": 1.5, "masked_accuracy": 0.6, "val_loss": 1.9, "val_masked_accuracy": 0.5},
]


def _png_size(path):
    """(width, height) of a PNG, after checking its signature and the IHDR chunk's CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    (crc,) = struct.unpack(">I", data[29:33])
    assert zlib.crc32(data[12:29]) == crc, "the PNG header is corrupt"
    assert data.endswith(b"IEND\xaeB`\x82"), "the PNG is truncated"
    return struct.unpack(">II", data[16:24])


def test_training_curves_are_a_whole_png_and_nothing_else(tmp_path):
    path = tmp_path / "training_curves.png"
    assert plot_training_curves(HISTORY, str(path)) == path
    assert _png_size(path) == (1000, 400)  # figsize (10, 4) at 100 dpi
    assert [p.name for p in tmp_path.iterdir()] == ["training_curves.png"]


@pytest.mark.parametrize(
    "history",
    [
        HISTORY[:1],  # one epoch: single points
        [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0, "val_loss": 1.5}],  # keys missing
        [{"epoch": 1}],  # no metric at all
    ],
    ids=["one-epoch", "missing-keys", "no-metrics"],
)
def test_training_curves_of_short_or_partial_histories(history, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "No artists with labels found to put in legend"
        path = plot_training_curves(history, tmp_path / "curves.png")
    assert _png_size(path) == (1000, 400)


def test_a_failed_write_keeps_the_old_plot_and_no_temporary(tmp_path, monkeypatch):
    path = plot_training_curves(HISTORY, tmp_path / "curves.png")
    before = path.read_bytes()

    def disk_full(source, target):  # the temporary PNG is written; the rename fails
        raise OSError("No space left on device")

    monkeypatch.setattr("os.replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        plot_training_curves(HISTORY[:1], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


@pytest.mark.parametrize("heads", [1, 3])
def test_attention_heatmaps_one_panel_per_head(heads, tmp_path):
    rng = np.random.default_rng(0)
    weights = rng.random((heads, 4, 5))
    weights /= weights.sum(axis=-1, keepdims=True)
    path = plot_attention(
        weights, ["a", "b", "c", "d", "[END]"], ["w", "x", "y", "z"], tmp_path / "a.png", "t"
    )
    width, height = _png_size(path)
    assert width > 0 and height > 0
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


@pytest.mark.parametrize("classes", [2, 30])
def test_confusion_matrix_is_a_whole_png_and_nothing_else(classes, tmp_path):
    rng = np.random.default_rng(0)
    confusion = rng.integers(0, 50, (classes, classes))
    confusion[-1] = 0  # a class with no example: its row is not normalised
    labels = [f"class {i}" for i in range(classes)]
    path = tmp_path / "confusion.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a division by the empty row's zero total
        assert plot_confusion_matrix(confusion.tolist(), labels, str(path), "test") == path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = _png_size(path)
    assert width > 0 and height > 0
    assert [p.name for p in tmp_path.iterdir()] == ["confusion.png"]


def test_confusion_matrix_must_match_the_labels(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(2, 2\) for 3 labels"):
        plot_confusion_matrix([[1, 0], [0, 1]], ["a", "b", "c"], tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []
