"""The earlier home of `TransformerConfig` and its presets, now in
`keras_transformer.models.transformer` beside the model (as each model's configuration is);
this import path keeps working."""

from keras_transformer.models.transformer import PRESETS, TransformerConfig

__all__ = ["PRESETS", "TransformerConfig"]
