"""Hyper-parameter search with keras-tuner (random, Bayesian, Hyperband; chief/worker mode)."""

from keras_transformer.requirements import require_tensorflow

require_tensorflow("keras_transformer.tuning")

from keras_transformer.tuning.hypermodel import TransformerHyperModel
from keras_transformer.tuning.search import TUNERS, TuneResult, format_trials, train_command, tune
from keras_transformer.tuning.space import DEFAULT_SPACE, parse_space

__all__ = [
    "DEFAULT_SPACE",
    "TUNERS",
    "TransformerHyperModel",
    "TuneResult",
    "format_trials",
    "parse_space",
    "train_command",
    "tune",
]
