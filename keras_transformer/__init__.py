"""keras_transformer: the Transformer of "Attention Is All You Need" as reusable Keras 3 layers.

Public API (docs/architecture.md has a tour):

- layers: `PositionalEmbedding`, `MultiHeadSelfAttention`, `MultiHeadCrossAttention`,
  `FeedForward`, `EncoderBlock`, `DecoderBlock`;
- the models: `TransformerConfig` (with presets), `Transformer` / `build_transformer`;
  `LanguageModelConfig`, `LanguageModel` (decoder-only); `ClassifierConfig`, `Classifier`
  (encoder-only);
- a run directory: `keras_transformer.run.Run`;
- generation: `Translator` and `DecodingOptions` (cached greedy, beam, top-k / top-p;
  TensorFlow, imported on first use: the rest runs on any Keras backend);
- course-style helpers: `positional_encoding`, `create_padding_mask`,
  `create_look_ahead_mask`, `scaled_dot_product_attention`.
"""

# First: in the `keras-transformer` process only, TensorFlow's start-up logging is hidden
# before Keras imports TensorFlow (a no-op anywhere else; see the module).
from keras_transformer.cli import startup as _startup  # noqa: F401
from keras_transformer.layers import (
    DecoderBlock,
    EncoderBlock,
    FeedForward,
    MultiHeadCrossAttention,
    MultiHeadSelfAttention,
    PositionalEmbedding,
    create_look_ahead_mask,
    create_padding_mask,
    positional_encoding,
    scaled_dot_product_attention,
)
from keras_transformer.models import (
    PRESETS,
    Classifier,
    ClassifierConfig,
    LanguageModel,
    LanguageModelConfig,
    Transformer,
    TransformerConfig,
    build_transformer,
    count_parameters,
)

__version__ = "0.1.0"

# Imported when first used: `Translator` tokenizes with tensorflow-text, so that the layers
# and models import on any Keras backend without TensorFlow.
_DECODING = ("DecodingOptions", "Translator")


def __getattr__(name):
    if name in _DECODING:
        from keras_transformer import decoding

        return getattr(decoding, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PRESETS",
    "Classifier",
    "ClassifierConfig",
    "DecoderBlock",
    "DecodingOptions",
    "EncoderBlock",
    "FeedForward",
    "LanguageModel",
    "LanguageModelConfig",
    "MultiHeadCrossAttention",
    "MultiHeadSelfAttention",
    "PositionalEmbedding",
    "Transformer",
    "TransformerConfig",
    "Translator",
    "__version__",
    "build_transformer",
    "count_parameters",
    "create_look_ahead_mask",
    "create_padding_mask",
    "positional_encoding",
    "scaled_dot_product_attention",
]
