"""Training with `model.fit`: the paper's loss, metric and schedule, and `train()`."""

from keras_transformer.training.config import TrainConfig
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy
from keras_transformer.training.metrics import MaskedAccuracy
from keras_transformer.training.schedules import TransformerSchedule
from keras_transformer.training.trainer import TrainResult, compile_model, train

__all__ = [
    "MaskedAccuracy",
    "MaskedSparseCategoricalCrossentropy",
    "TrainConfig",
    "TrainResult",
    "TransformerSchedule",
    "compile_model",
    "train",
]
