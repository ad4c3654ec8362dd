"""The Transformer model: its configuration, presets and functional builder."""

from keras_transformer.models.config import PRESETS, TransformerConfig
from keras_transformer.models.transformer import build_transformer, count_parameters

__all__ = ["PRESETS", "TransformerConfig", "build_transformer", "count_parameters"]
