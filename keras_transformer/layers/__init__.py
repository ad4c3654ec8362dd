"""Reusable Transformer layers, written with `keras.ops` only (no backend-specific code)."""

from keras_transformer.layers.attention import (
    MultiHeadCrossAttention,
    MultiHeadSelfAttention,
    scaled_dot_product_attention,
)
from keras_transformer.layers.decoder_block import DecoderBlock
from keras_transformer.layers.dropout import Dropout
from keras_transformer.layers.encoder_block import EncoderBlock
from keras_transformer.layers.feed_forward import FeedForward
from keras_transformer.layers.masks import create_look_ahead_mask, create_padding_mask
from keras_transformer.layers.output_projection import OutputProjection
from keras_transformer.layers.pooling import SequencePooling
from keras_transformer.layers.positional_embedding import PositionalEmbedding, positional_encoding

__all__ = [
    "DecoderBlock",
    "Dropout",
    "EncoderBlock",
    "FeedForward",
    "MultiHeadCrossAttention",
    "MultiHeadSelfAttention",
    "OutputProjection",
    "PositionalEmbedding",
    "SequencePooling",
    "create_look_ahead_mask",
    "create_padding_mask",
    "positional_encoding",
    "scaled_dot_product_attention",
]
