"""The models: the encoder-decoder Transformer and the decoder-only language model and the encoder
classifier, their
configurations, presets and builders."""

from keras_transformer.models.classifier import (
    CLASSIFIER_PRESETS,
    Classifier,
    ClassifierConfig,
    count_classifier_parameters,
)
from keras_transformer.models.config import PRESETS, TransformerConfig
from keras_transformer.models.language_model import (
    LANGUAGE_MODEL_PRESETS,
    LanguageModel,
    LanguageModelConfig,
    count_language_model_parameters,
)
from keras_transformer.models.transformer import (
    DecoderCache,
    Transformer,
    build_transformer,
    count_parameters,
)

__all__ = [
    "CLASSIFIER_PRESETS",
    "LANGUAGE_MODEL_PRESETS",
    "PRESETS",
    "Classifier",
    "ClassifierConfig",
    "DecoderCache",
    "LanguageModel",
    "LanguageModelConfig",
    "Transformer",
    "TransformerConfig",
    "build_transformer",
    "count_classifier_parameters",
    "count_language_model_parameters",
    "count_parameters",
]
