"""What marks a directory as a run: `.keras-transformer-run`, written first when a run is
prepared, or (a run written before the marker) a `config.json` and a `train_config.json`
holding a run's settings."""

import json
import pathlib

RUN_MARKER = ".keras-transformer-run"
# Train settings every run's train_config.json holds (recognising runs written before
# RUN_MARKER).
TRAIN_CONFIG_KEYS = ("corpus", "out", "epochs", "seed")


def is_run(directory):
    """Whether `directory` is a run."""
    directory = pathlib.Path(directory)
    if (directory / RUN_MARKER).is_file():
        return True
    train_config = directory / "train_config.json"
    if not ((directory / "config.json").is_file() and train_config.is_file()):
        return False
    try:
        values = json.loads(train_config.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return False
    return isinstance(values, dict) and all(k in values for k in TRAIN_CONFIG_KEYS)
