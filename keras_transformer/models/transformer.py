"""`Transformer`: the encoder-decoder of Figure 1, a functional `keras.Model` that owns its
cached decoding (`encode`, `initial_cache`, `decode_step`); `build_transformer(config)`; and
its configuration `TransformerConfig` with presets."""

import dataclasses
from typing import ClassVar, NamedTuple

import keras
from keras import ops

from keras_transformer.constants import PAD_ID
from keras_transformer.layers import (
    DecoderBlock,
    EncoderBlock,
    OutputProjection,
    PositionalEmbedding,
)
from keras_transformer.layers.validation import check_positive_int
from keras_transformer.models._base import (
    ConfigModel,
    PresetConfig,
    block_arguments,
    check_stack,
    final_norm,
)

# name -> overrides of the defaults. Parameter counts are for a shared 8000-token vocabulary
# with the output projection tied (`TransformerConfig.preset(name, vocabulary_size=8000)`);
# `count_parameters` gives the exact count of any configuration (tests/models/test_presets.py
# checks each count stated here against the built model).
_PRESETS = {
    # Trains on the dates corpus on 2 CPU cores in minutes. 1.26 M params (1.02 M embeddings).
    "tiny": dict(
        num_layers=2, hidden_dim=64, intermediate_dim=256, num_heads=4, dropout=0.1,
        sequence_length=64,
    ),
    # The TensorFlow tutorial's model (`num_layers=4, d_model=128, dff=512`). 3.90 M params.
    "tutorial": dict(
        num_layers=4, hidden_dim=128, intermediate_dim=512, num_heads=8, dropout=0.1,
        sequence_length=128,
    ),
    # Chosen by `train` for a TSV corpus under 100k pairs. Pre-norm: it takes the high
    # learning rate of a short warm-up without diverging, as short CPU runs need. 7.58 M params.
    "small": dict(
        num_layers=3, hidden_dim=256, intermediate_dim=1024, num_heads=4, dropout=0.1,
        sequence_length=256, share_embeddings=True, normalize_first=True,
    ),
    # Chosen for a TSV corpus of 100k-1M pairs. 13.11 M params.
    "medium": dict(
        num_layers=6, hidden_dim=256, intermediate_dim=1024, num_heads=4, dropout=0.1,
        sequence_length=256, share_embeddings=True, normalize_first=True,
    ),
    # The paper's base model, Table 3. 48.2 M params (63.1 M with its 37k vocabulary).
    "base": dict(
        num_layers=6, hidden_dim=512, intermediate_dim=2048, num_heads=8, dropout=0.1,
        sequence_length=256, share_embeddings=True,
    ),
    # The paper's big model, Table 3 (dropout 0.3 as for EN-DE). 184.5 M params.
    "big": dict(
        num_layers=6, hidden_dim=1024, intermediate_dim=4096, num_heads=16, dropout=0.3,
        sequence_length=256, share_embeddings=True,
    ),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TransformerConfig(PresetConfig):
    """Hyper-parameters of an encoder-decoder Transformer.

    The names are the package's one vocabulary, from layer arguments to CLI flags; paper
    symbols are given once here. Validation runs on construction and raises `ValueError`
    naming the bad value and the fix.

    Example:

    >>> config = TransformerConfig.preset("tutorial", vocabulary_size=8000)
    >>> config.num_layers, config.hidden_dim, config.intermediate_dim, config.num_heads
    (4, 128, 512, 8)
    >>> TransformerConfig.from_json(config.to_json()) == config
    True
    """

    # Source vocabulary size (token ids 0 .. vocabulary_size - 1, 0 = padding).
    vocabulary_size: int = 8000
    # Target vocabulary size; None = same as vocabulary_size (required when shared).
    target_vocabulary_size: int | None = None
    # Longest source / target sequence in tokens (longer inputs are truncated).
    sequence_length: int = 256
    # Model width d_model.
    hidden_dim: int = 512
    # Inner width d_ff of the feed-forward networks.
    intermediate_dim: int = 2048
    # Attention heads h; must divide hidden_dim.
    num_heads: int = 8
    # Encoder blocks and decoder blocks N (each).
    num_layers: int = 6
    # Residual and embedding dropout P_drop.
    dropout: float = 0.1
    # Dropout on attention weights (0 keeps the fused attention path).
    attention_dropout: float = 0.0
    # Feed-forward activation.
    activation: str = "relu"
    # Pre-norm when True (adds a final LayerNorm to each stack); the paper is post-norm.
    normalize_first: bool = False
    # LayerNorm epsilon.
    layer_norm_epsilon: float = 1e-6
    # "sinusoidal" (the paper) or "learned" position encodings.
    positions: str = "sinusoidal"
    # One embedding matrix for source and target (a joint vocabulary), as in the paper.
    share_embeddings: bool = False
    # Output projection = target embedding matrix transposed, as in the paper.
    tie_output_projection: bool = True

    # The presets: `TransformerConfig.preset(name, **overrides)`, `preset_names()`.
    PRESETS: ClassVar[dict] = _PRESETS

    def __post_init__(self):
        check_stack(self)
        check_positive_int(self.target_vocabulary_size, "target_vocabulary_size", allow_none=True)
        if self.share_embeddings and self.target_vocabulary_size not in (
            None,
            self.vocabulary_size,
        ):
            raise ValueError(
                "share_embeddings=True needs one joint vocabulary, but vocabulary_size="
                f"{self.vocabulary_size} and target_vocabulary_size="
                f"{self.target_vocabulary_size}. Set target_vocabulary_size=None or "
                "share_embeddings=False."
            )

    @property
    def target_vocabulary(self):
        """The target vocabulary size (vocabulary_size when not set separately)."""
        return self.target_vocabulary_size or self.vocabulary_size


# The presets' older name (`keras_transformer.PRESETS`), the same dict.
PRESETS = TransformerConfig.PRESETS


def build_transformer(config, name="transformer"):
    """Builds the Transformer (Vaswani et al. 2017, Figure 1) from a `TransformerConfig`:
    `Transformer(config, name=name)`.

    Inputs are named `encoder_inputs` and `decoder_inputs`: int token ids `(batch, length)`,
    0 = padding. The output is float32 logits `(batch, target_length, target_vocabulary)`
    carrying the decoder's padding mask.

    Args:
        config: `TransformerConfig`, or a dict of its fields.
        name: str. The model's name. Defaults to `"transformer"`.

    Returns:
        A `Transformer` (not compiled).

    Example:

    >>> import numpy as np
    >>> import keras_transformer as kt
    >>> model = kt.build_transformer(kt.TransformerConfig.preset("tiny", vocabulary_size=11))
    >>> logits = model({"encoder_inputs": np.array([[5, 3, 2, 0]]),
    ...                 "decoder_inputs": np.array([[1, 4, 0]])})
    >>> tuple(logits.shape)
    (1, 3, 11)
    """
    return Transformer(config, name=name)


class DecoderCache(NamedTuple):
    """What `Transformer.decode_step` reads and updates, one tensor per decoder block.

    (Separate tensors, not one stacked tensor: stacking and slicing would copy every cache
    at every step.)
    """

    # (batch, 2, max_length, num_heads, head_dim) each: keys and values of earlier positions.
    self_attention: tuple
    # (batch, 2, source_length, num_heads, head_dim) each: the encoder outputs projected once.
    cross_attention: tuple


@keras.saving.register_keras_serializable(package="keras_transformer")
class Transformer(ConfigModel):
    """The encoder-decoder of Figure 1, built with the functional API (as KerasHub's
    `Seq2SeqLM` backbones are), with its layers as attributes and its cached decoding.

    Padding masks flow implicitly from the embeddings through every block. With
    `share_embeddings` the source and target use one embedding layer; with
    `tie_output_projection` the logits are the decoder states times the target embedding
    matrix transposed (Section 3.4). Saved to `.keras` with its `TransformerConfig`;
    `keras.saving.load_model` needs no custom objects.

    Cached decoding, for `keras_transformer.decoding` (the search code calls only these):

    - `encode(source_ids)` -> `(encoder_outputs, source_mask)`;
    - `initial_cache(encoder_outputs, max_length)` -> a `DecoderCache` (the cross-attention
      keys and values computed once, empty self-attention caches);
    - `decode_step(token_ids, index, cache, source_mask)` -> `(logits, cache)`: the tokens
      at positions `index ...` through the decoder, float32 logits
      `(batch, new, target_vocabulary)`; equal to the full model on the whole prefix.

    Args:
        config: `TransformerConfig`, or a dict of its fields.
        name: str. Defaults to `"transformer"`.
        dtype: the layers' dtype policy (e.g. `"mixed_bfloat16"`); None, the default: the
            global policy when the model is built. Saved with the model.

    Example:

    >>> import numpy as np
    >>> import keras_transformer as kt
    >>> config = kt.TransformerConfig.preset("tiny", vocabulary_size=11, dropout=0.0)
    >>> model = kt.Transformer(config)
    >>> source, target = np.array([[5, 3, 2, 0]]), np.array([[1, 4, 7]])
    >>> full = model({"encoder_inputs": source, "decoder_inputs": target})
    >>> encoder_outputs, source_mask = model.encode(source)
    >>> cache = model.initial_cache(encoder_outputs, max_length=3)
    >>> steps = []
    >>> for index in range(3):
    ...     logits, cache = model.decode_step(target[:, index : index + 1], index, cache,
    ...                                       source_mask)
    ...     steps.append(logits)
    >>> bool(np.allclose(np.concatenate(steps, axis=1), full, atol=1e-4))
    True
    """

    config_class = TransformerConfig

    def __init__(self, config, name="transformer", dtype=None, **kwargs):
        # Every layer's dtype policy (None: the global one), e.g. "mixed_bfloat16".
        config, dtype = self.resolve(config, dtype)

        # === Layers ===
        def embedding(vocabulary_size, layer_name):
            return PositionalEmbedding(
                vocabulary_size,
                config.sequence_length,
                config.hidden_dim,
                positions=config.positions,
                dropout=config.dropout,
                dtype=dtype,
                name=layer_name,
            )

        if config.share_embeddings:
            source_embedding = target_embedding = embedding(config.vocabulary_size, "embedding")
        else:
            source_embedding = embedding(config.vocabulary_size, "source_embedding")
            target_embedding = embedding(config.target_vocabulary, "target_embedding")
        encoder_blocks = [
            EncoderBlock(**block_arguments(config, f"encoder_block_{i}", dtype))
            for i in range(config.num_layers)
        ]
        decoder_blocks = [
            DecoderBlock(**block_arguments(config, f"decoder_block_{i}", dtype))
            for i in range(config.num_layers)
        ]
        encoder_norm = decoder_norm = output_projection = None
        if config.normalize_first:
            encoder_norm = final_norm(config, "encoder_norm", dtype)
            decoder_norm = final_norm(config, "decoder_norm", dtype)
        if not config.tie_output_projection:
            output_projection = OutputProjection(
                config.target_vocabulary, dtype=dtype, name="output_projection"
            )

        # === Functional Model ===
        encoder_inputs = keras.Input(shape=(None,), dtype="int32", name="encoder_inputs")
        decoder_inputs = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
        x = source_embedding(encoder_inputs)
        for block in encoder_blocks:
            x = block(x)
        if encoder_norm is not None:
            x = encoder_norm(x)
        encoder_outputs = x

        y = target_embedding(decoder_inputs)
        for block in decoder_blocks:
            y = block(y, encoder_outputs)
        if decoder_norm is not None:
            y = decoder_norm(y)
        if output_projection is None:
            logits = target_embedding(y, reverse=True)
        else:
            logits = output_projection(y)
        # Logits in float32 under mixed precision, so the softmax and the loss stay stable
        # (OutputProjection already gives float32; the tied projection gives the compute dtype).
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(
            inputs={"encoder_inputs": encoder_inputs, "decoder_inputs": decoder_inputs},
            outputs=logits,
            name=name,
            **kwargs,
        )

        # === Config and layers, for decoding ===
        self._set_config(config, source_embedding)
        self.source_embedding = source_embedding
        self.target_embedding = target_embedding
        self.encoder_blocks = encoder_blocks
        self.decoder_blocks = decoder_blocks
        self.encoder_norm = encoder_norm
        self.decoder_norm = decoder_norm
        self.output_projection = output_projection

    # === Cached decoding ===

    def encode(self, source_ids):
        """`(batch, source_length)` ids (0 = padding) -> the encoder outputs
        `(batch, source_length, hidden_dim)` and the source padding mask (bool)."""
        source_mask = ops.not_equal(source_ids, PAD_ID)
        x = self.source_embedding(source_ids, training=False)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=source_mask, training=False)
        if self.encoder_norm is not None:
            x = self.encoder_norm(x)
        return x, source_mask

    def initial_cache(self, encoder_outputs, max_length):
        """A `DecoderCache` for `max_length` target positions: the cross-attention keys and
        values of `encoder_outputs` and empty self-attention caches."""
        batch_size = encoder_outputs.shape[0]
        if batch_size is None:
            batch_size = ops.shape(encoder_outputs)[0]
        return DecoderCache(
            self_attention=tuple(
                b.initial_self_attention_cache(batch_size, max_length) for b in self.decoder_blocks
            ),
            cross_attention=tuple(
                b.compute_cross_attention_cache(encoder_outputs) for b in self.decoder_blocks
            ),
        )

    def decode_step(self, token_ids, index, cache, source_mask, return_attention_scores=False):
        """Runs `token_ids` `(batch, new)` at positions `index ...` through the decoder.

        Returns `(logits, cache)`: float32 logits `(batch, new, target_vocabulary)` and the
        updated `DecoderCache`. With `return_attention_scores`, a dict: `"logits"`,
        `"cache"` and `"cross_attention"`, the cross-attention weights of each block.
        """
        y = self.target_embedding(token_ids, start_index=index, training=False)
        self_caches, cross_scores = [], []
        for block, self_cache, cross_cache in zip(
            self.decoder_blocks, cache.self_attention, cache.cross_attention, strict=True
        ):
            result = block(
                y,
                encoder_padding_mask=source_mask,
                cross_attention_cache=cross_cache,
                self_attention_cache=self_cache,
                self_attention_cache_update_index=index,
                return_attention_scores=return_attention_scores,
                training=False,
            )
            if return_attention_scores:
                y, self_cache = result["output"], result["cache"]
                cross_scores.append(result["cross_attention"])
            else:
                y, self_cache = result
            self_caches.append(self_cache)
        if self.decoder_norm is not None:
            y = self.decoder_norm(y)
        if self.output_projection is None:
            logits = self.target_embedding(y, reverse=True)
        else:
            logits = self.output_projection(y)
        logits = ops.cast(logits, "float32")
        cache = cache._replace(self_attention=tuple(self_caches))
        if return_attention_scores:
            return {"logits": logits, "cache": cache, "cross_attention": cross_scores}
        return logits, cache


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
