"""`build_transformer`: the encoder-decoder of Figure 1 as a functional `keras.Model`."""

import keras

from keras_transformer.layers import (
    DecoderBlock,
    EncoderBlock,
    OutputProjection,
    PositionalEmbedding,
)
from keras_transformer.models.config import TransformerConfig


def build_transformer(config, name="transformer"):
    """Builds the Transformer (Vaswani et al. 2017, Figure 1) from a `TransformerConfig`.

    Inputs are named `encoder_inputs` and `decoder_inputs`: int token ids `(batch, length)`,
    0 = padding. The output is float32 logits `(batch, target_length, target_vocabulary)`
    carrying the decoder's padding mask. Padding masks flow implicitly from the embeddings
    through every block. With `share_embeddings` the source and target use one embedding
    layer; with `tie_output_projection` the logits are the decoder states times the target
    embedding matrix transposed (Section 3.4).

    Args:
        config: `TransformerConfig`, or a dict of its fields.
        name: str. The model's name. Defaults to `"transformer"`.

    Returns:
        A `keras.Model` (not compiled).

    Example:

    >>> import numpy as np
    >>> import keras_transformer as kt
    >>> model = kt.build_transformer(kt.TransformerConfig.preset("tiny", vocabulary_size=11))
    >>> logits = model({"encoder_inputs": np.array([[5, 3, 2, 0]]),
    ...                 "decoder_inputs": np.array([[1, 4, 0]])})
    >>> tuple(logits.shape)
    (1, 3, 11)
    """
    if isinstance(config, dict):
        config = TransformerConfig.from_dict(config)

    # === Layers ===
    def embedding(vocabulary_size, layer_name):
        return PositionalEmbedding(
            vocabulary_size,
            config.sequence_length,
            config.hidden_dim,
            positions=config.positions,
            dropout=config.dropout,
            name=layer_name,
        )

    def block_arguments(prefix, index):
        return dict(
            num_heads=config.num_heads,
            intermediate_dim=config.intermediate_dim,
            dropout=config.dropout,
            activation=config.activation,
            normalize_first=config.normalize_first,
            layer_norm_epsilon=config.layer_norm_epsilon,
            attention_dropout=config.attention_dropout,
            name=f"{prefix}_block_{index}",
        )

    if config.share_embeddings:
        source_embedding = target_embedding = embedding(config.vocabulary_size, "embedding")
    else:
        source_embedding = embedding(config.vocabulary_size, "source_embedding")
        target_embedding = embedding(config.target_vocabulary, "target_embedding")

    # === Functional Model ===
    encoder_inputs = keras.Input(shape=(None,), dtype="int32", name="encoder_inputs")
    decoder_inputs = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")

    x = source_embedding(encoder_inputs)
    for index in range(config.num_layers):
        x = EncoderBlock(**block_arguments("encoder", index))(x)
    if config.normalize_first:
        x = _final_norm(config, "encoder_norm")(x)
    encoder_outputs = x

    y = target_embedding(decoder_inputs)
    for index in range(config.num_layers):
        y = DecoderBlock(**block_arguments("decoder", index))(y, encoder_outputs)
    if config.normalize_first:
        y = _final_norm(config, "decoder_norm")(y)

    if config.tie_output_projection:
        logits = target_embedding(y, reverse=True)
    else:
        logits = OutputProjection(config.target_vocabulary, name="output_projection")(y)
    # Logits in float32 under mixed precision, so the softmax and the loss stay stable
    # (OutputProjection already gives float32; the tied projection gives the compute dtype).
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(
        inputs={"encoder_inputs": encoder_inputs, "decoder_inputs": decoder_inputs},
        outputs=logits,
        name=name,
    )


def _final_norm(config, name):
    return keras.layers.LayerNormalization(epsilon=config.layer_norm_epsilon, name=name)


def count_parameters(config):
    """Number of trainable parameters of `build_transformer(config)`, without building it."""
    if isinstance(config, dict):
        config = TransformerConfig.from_dict(config)
    d, ff, n = config.hidden_dim, config.intermediate_dim, config.num_layers
    attention = 4 * d * d + 4 * d
    feed_forward = 2 * d * ff + ff + d
    norm = 2 * d
    encoder = n * (attention + feed_forward + 2 * norm)
    decoder = n * (2 * attention + feed_forward + 3 * norm)
    finals = 2 * norm if config.normalize_first else 0
    embeddings = config.vocabulary_size * d
    if not config.share_embeddings:
        embeddings += config.target_vocabulary * d
    if config.positions == "learned":
        embeddings += config.sequence_length * d * (1 if config.share_embeddings else 2)
    output = (
        0
        if config.tie_output_projection
        else d * config.target_vocabulary + (config.target_vocabulary)
    )
    return encoder + decoder + finals + embeddings + output
