"""`.keras` export of the bare model: every custom object is registered, so
`keras.saving.load_model(path)` needs no `custom_objects`."""

import pathlib

import keras

from keras_transformer.decoding import Translator


def export_keras(run_dir, path, overwrite=False):
    """Writes the run's trained model, without optimizer state, to a `.keras` file
    (atomically). Raises FileExistsError if `path` exists and `overwrite` is False."""
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"A Keras model file ends with .keras; received {path}.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True (CLI: --overwrite).")
    model = Translator.from_run(run_dir).model  # loaded with compile=False: weights only
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp.keras")
    model.save(temporary)
    temporary.replace(path)
    return path


def load_keras(path):
    """`keras.saving.load_model` of an exported file (no custom objects needed)."""
    return keras.saving.load_model(path, compile=False)
