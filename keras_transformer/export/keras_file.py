"""`.keras` export of the bare model: every custom object is registered, so
`keras.saving.load_model(path)` needs no `custom_objects`."""

import keras

from keras_transformer.atomic import atomic_path
from keras_transformer.export.target import check_keras_file, remove_stale_staging
from keras_transformer.run import Run


def export_keras(run_dir, path, overwrite=False):
    """Writes the run's trained model, without optimizer state, to a `.keras` file
    (atomically). Raises FileExistsError if `path` exists and `overwrite` is False, or it is
    not an earlier `.keras` export (`check_keras_file`)."""
    path = check_keras_file(path, overwrite)
    model = Run.open(run_dir).load_model()  # loaded with compile=False: weights only
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(path)
    with atomic_path(path) as temporary:
        model.save(temporary)
    return path


def load_keras(path):
    """`keras.saving.load_model` of an exported file (no custom objects needed)."""
    return keras.saving.load_model(path, compile=False)
