"""The Transformer model: its configuration, presets, the model class and its builder."""

from keras_transformer.models.config import PRESETS, TransformerConfig
from keras_transformer.models.transformer import (
    DecoderCache,
    Transformer,
    build_transformer,
    count_parameters,
)

__all__ = [
    "PRESETS",
    "DecoderCache",
    "Transformer",
    "TransformerConfig",
    "build_transformer",
    "count_parameters",
]
