"""`.keras` export of the bare model: every custom object is registered, so
`keras.saving.load_model(path)` needs no `custom_objects`."""

import pathlib

import keras

from keras_transformer.atomic import atomic_path
from keras_transformer.run import Run


def export_keras(run_dir, path, overwrite=False):
    """Writes the run's trained model, without optimizer state, to a `.keras` file
    (atomically). Raises FileExistsError if `path` exists and `overwrite` is False."""
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"A Keras model file ends with .keras; received {path}.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True (CLI: --overwrite).")
    model = Run.open(run_dir).load_model()  # loaded with compile=False: weights only
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        model.save(temporary)
    return path


def load_keras(path):
    """`keras.saving.load_model` of an exported file (no custom objects needed)."""
    return keras.saving.load_model(path, compile=False)
