"""The models: the encoder-decoder Transformer, the decoder-only language model and the encoder
classifier, each in its module with its configuration (`TransformerConfig`,
`LanguageModelConfig`, `ClassifierConfig`), presets and parameter count.

Every configuration has the same presets API: `Config.preset(name, **overrides)`,
`Config.preset_names()` and the table `Config.PRESETS`; `PRESETS`, `LANGUAGE_MODEL_PRESETS`
and `CLASSIFIER_PRESETS` are the older names of those tables."""

from keras_transformer.models.classifier import (
    CLASSIFIER_PRESETS,
    Classifier,
    ClassifierConfig,
    count_classifier_parameters,
)
from keras_transformer.models.language_model import (
    LANGUAGE_MODEL_PRESETS,
    LanguageModel,
    LanguageModelConfig,
    count_language_model_parameters,
)
from keras_transformer.models.transformer import (
    PRESETS,
    DecoderCache,
    Transformer,
    TransformerConfig,
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
