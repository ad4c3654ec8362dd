"""Training with `model.fit`: the paper's loss, metric and schedule (any Keras backend), and
`train()` with its `TrainConfig` (TensorFlow: imported on first use)."""

from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy
from keras_transformer.training.metrics import MaskedAccuracy
from keras_transformer.training.schedules import TransformerSchedule

_ON_TENSORFLOW = {
    "TrainConfig": "keras_transformer.training.config",
    "TrainResult": "keras_transformer.training.trainer",
    "compile_model": "keras_transformer.training.trainer",
    "train": "keras_transformer.training.trainer",
}

__all__ = [
    "MaskedAccuracy",
    "MaskedSparseCategoricalCrossentropy",
    "TrainConfig",
    "TrainResult",
    "TransformerSchedule",
    "compile_model",
    "train",
]


def __getattr__(name):
    if name in _ON_TENSORFLOW:
        import importlib

        from keras_transformer.requirements import require_tensorflow

        require_tensorflow(f"keras_transformer.training.{name}")
        return getattr(importlib.import_module(_ON_TENSORFLOW[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
