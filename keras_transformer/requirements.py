"""What needs TensorFlow, and the error that says so.

The layers and models (`keras_transformer.layers`, `keras_transformer.models`, the losses,
metrics and schedules of `keras_transformer.training`) and the decoding searches
(`keras_transformer.decoding`'s `search`, `steps`, `options`, `compiled`) are written with
`keras.ops` and run on every Keras backend (TensorFlow, JAX, PyTorch) with no TensorFlow
installed. The rest of the pipeline is built on TensorFlow: tf.data and tensorflow-text
(`data`, and the tokenizers that `Translator`, `Generator` and `TextClassifier` use),
SavedModel (`export`), `train` and `tune`. Those call `require_tensorflow` when they are
imported.
"""

import importlib.util


def require_tensorflow(what):
    """Raises ImportError, naming `what` and the fix, unless TensorFlow and tensorflow-text
    can be imported."""
    missing = [name for name in ("tensorflow", "tensorflow_text") if not _importable(name)]
    if missing:
        raise ImportError(
            f"{what} needs TensorFlow (tf.data, the tensorflow-text tokenizers, SavedModel); "
            f"{' and '.join(missing)} cannot be imported. Install them with "
            "`pip install tensorflow tensorflow-text` (the versions setup.cfg names). "
            "keras_transformer.layers and keras_transformer.models (and the losses, metrics "
            "and schedules of keras_transformer.training, and the searches of "
            "keras_transformer.decoding) work without it, on any Keras backend."
        )


def _importable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a finder that refuses it, a broken install
        return False
