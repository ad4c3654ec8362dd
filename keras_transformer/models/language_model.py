"""`LanguageModel`: a decoder-only Transformer (GPT-style) from the same blocks, with its
cached decoding (`initial_cache`, `decode_step`), and its configuration with presets."""

import dataclasses
from typing import ClassVar

import keras
from keras import ops

from keras_transformer.layers import DecoderBlock, OutputProjection, PositionalEmbedding
from keras_transformer.models._base import (
    ConfigModel,
    PresetConfig,
    block_arguments,
    check_stack,
    final_norm,
)

# name -> overrides of the defaults; parameters for an 8000-token vocabulary, output tied
# (`count_language_model_parameters` gives the exact count of any configuration;
# tests/models/test_presets.py checks each count stated here against the built model).
_PRESETS = {
    # Minutes on 2 CPU cores. 0.62 M parameters (0.51 M embeddings).
    "tiny": dict(num_layers=2, hidden_dim=64, intermediate_dim=256, num_heads=4,
                 sequence_length=128),
    # 5.27 M parameters.
    "small": dict(num_layers=4, hidden_dim=256, intermediate_dim=1024, num_heads=4,
                  sequence_length=256),
    # GPT-2 small's shape (Radford et al. 2019): 12 layers of 768, 12 heads, 1024 positions.
    # 92.0 M parameters with 8000 tokens (124.4 M with GPT-2's 50 257).
    "gpt2_small": dict(num_layers=12, hidden_dim=768, intermediate_dim=3072, num_heads=12,
                       sequence_length=1024),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class LanguageModelConfig(PresetConfig):
    """Hyper-parameters of a decoder-only language model. The defaults are GPT-2's
    arrangement (pre-norm, GELU, learned positions, tied output projection); the paper's is
    `normalize_first=False, activation="relu", positions="sinusoidal"`.

    Example:

    >>> config = LanguageModelConfig.preset("gpt2_small", vocabulary_size=50257)
    >>> config.num_layers, config.hidden_dim, config.num_heads, config.sequence_length
    (12, 768, 12, 1024)
    >>> round(count_language_model_parameters(config) / 1e6, 1)
    124.4
    """

    # Vocabulary size (token ids 0 .. vocabulary_size - 1, 0 = padding).
    vocabulary_size: int = 8000
    # Longest sequence (block) in tokens: the positions the model has.
    sequence_length: int = 256
    # Model width d_model.
    hidden_dim: int = 256
    # Inner width d_ff of the feed-forward networks.
    intermediate_dim: int = 1024
    # Attention heads h; must divide hidden_dim.
    num_heads: int = 4
    # Decoder blocks N.
    num_layers: int = 4
    # Residual and embedding dropout.
    dropout: float = 0.1
    # Dropout on attention weights.
    attention_dropout: float = 0.0
    # Feed-forward activation ("gelu" as GPT-2, "relu" as the paper).
    activation: str = "gelu"
    # Pre-norm (GPT-2, with a final LayerNorm) when True; post-norm (the paper) when False.
    normalize_first: bool = True
    # LayerNorm epsilon.
    layer_norm_epsilon: float = 1e-5
    # "learned" (GPT-2) or "sinusoidal" (the paper) positions.
    positions: str = "learned"
    # Output projection = the token embedding matrix transposed.
    tie_output_projection: bool = True

    # The presets: `LanguageModelConfig.preset(name, **overrides)`, `preset_names()`.
    PRESETS: ClassVar[dict] = _PRESETS

    def __post_init__(self):
        check_stack(self)


# The presets' older name, the same dict.
LANGUAGE_MODEL_PRESETS = LanguageModelConfig.PRESETS


def count_language_model_parameters(config):
    """Trainable parameters of `LanguageModel(config)`, without building it."""
    d, ff, n = config.hidden_dim, config.intermediate_dim, config.num_layers
    v = config.vocabulary_size
    block = (4 * d * d + 4 * d) + (2 * d * ff + ff + d) + 2 * (2 * d)
    embeddings = v * d + (config.sequence_length * d if config.positions == "learned" else 0)
    final_norm = 2 * d if config.normalize_first else 0
    output = 0 if config.tie_output_projection else d * v + v
    return n * block + embeddings + final_norm + output


@keras.saving.register_keras_serializable(package="keras_transformer")
class LanguageModel(ConfigModel):
    """A decoder-only Transformer language model (GPT-style): token and position embedding,
    `num_layers` causal self-attention blocks (`DecoderBlock` without cross-attention), a
    final LayerNorm when pre-norm, and the output projection (tied by default).

    The input is named `token_ids`: int ids `(batch, length)`, 0 = padding; the output is
    float32 next-token logits `(batch, length, vocabulary_size)`, position i predicting
    token i + 1 from tokens 0..i only.

    Cached decoding, for `keras_transformer.decoding`:

    - `initial_cache(batch_size, max_length)` -> empty self-attention caches (a tuple);
    - `decode_step(token_ids, index, cache)` -> `(logits, cache)`: the tokens at positions
      `index ...`; equal to the full model on the whole prefix.

    Args:
        config: `LanguageModelConfig`, or a dict of its fields.
        name: str. Defaults to `"language_model"`.
        dtype: the layers' dtype policy; None: the global one. Saved with the model.

    Example:

    >>> import numpy as np
    >>> config = LanguageModelConfig.preset("tiny", vocabulary_size=20, dropout=0.0)
    >>> model = LanguageModel(config)
    >>> tokens = np.array([[2, 7, 9, 4, 11]])
    >>> full = model(tokens)
    >>> cache = model.initial_cache(batch_size=1, max_length=5)
    >>> steps = []
    >>> for index in range(5):
    ...     logits, cache = model.decode_step(tokens[:, index : index + 1], index, cache)
    ...     steps.append(logits)
    >>> bool(np.allclose(np.concatenate(steps, axis=1), full, atol=1e-4))
    True
    """

    config_class = LanguageModelConfig

    def __init__(self, config, name="language_model", dtype=None, **kwargs):
        config, dtype = self.resolve(config, dtype)

        # === Layers ===
        embedding = PositionalEmbedding(
            config.vocabulary_size,
            config.sequence_length,
            config.hidden_dim,
            positions=config.positions,
            dropout=config.dropout,
            dtype=dtype,
            name="embedding",
        )
        blocks = [
            DecoderBlock(**block_arguments(config, f"block_{index}", dtype))
            for index in range(config.num_layers)
        ]
        norm = final_norm(config, "final_norm", dtype) if config.normalize_first else None
        output_projection = None
        if not config.tie_output_projection:
            output_projection = OutputProjection(
                config.vocabulary_size, dtype=dtype, name="output_projection"
            )

        # === Functional Model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        x = embedding(token_ids)
        for block in blocks:
            x = block(x)
        if norm is not None:
            x = norm(x)
        logits = embedding(x, reverse=True) if output_projection is None else output_projection(x)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=token_ids, outputs=logits, name=name, **kwargs)

        # === Config and layers, for decoding ===
        self._set_config(config, embedding)
        self.embedding = embedding
        self.blocks = blocks
        self.final_norm = norm
        self.output_projection = output_projection

    def initial_cache(self, batch_size, max_length):
        """Empty self-attention caches, one `(batch, 2, max_length, heads, head_dim)` per
        block."""
        return tuple(b.initial_self_attention_cache(batch_size, max_length) for b in self.blocks)

    def decode_step(self, token_ids, index, cache):
        """Runs `token_ids` `(batch, new)` at positions `index ...` through the model.

        Returns `(logits, cache)`: float32 logits `(batch, new, vocabulary_size)` and the
        updated caches.
        """
        x = self.embedding(token_ids, start_index=index, training=False)
        new_cache = []
        for block, block_cache in zip(self.blocks, cache, strict=True):
            x, block_cache = block(
                x,
                self_attention_cache=block_cache,
                self_attention_cache_update_index=index,
                training=False,
            )
            new_cache.append(block_cache)
        if self.final_norm is not None:
            x = self.final_norm(x)
        if self.output_projection is None:
            logits = self.embedding(x, reverse=True)
        else:
            logits = self.output_projection(x)
        return ops.cast(logits, "float32"), tuple(new_cache)
