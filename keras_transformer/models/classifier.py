"""`Classifier`: an encoder-only Transformer (BERT-style) with a softmax head, from the same
blocks, and its configuration with presets."""

import dataclasses
from typing import ClassVar

import keras
from keras import ops

from keras_transformer.constants import PAD_ID
from keras_transformer.layers import EncoderBlock, PositionalEmbedding
from keras_transformer.layers.dropout import Dropout
from keras_transformer.layers.pooling import POOLINGS, SequencePooling
from keras_transformer.models._base import (
    ConfigModel,
    PresetConfig,
    block_arguments,
    check_stack,
    final_norm,
)

# name -> overrides of the defaults; parameters for an 8000-token vocabulary and 2 classes
# (`count_classifier_parameters` gives the exact count of any configuration;
# tests/models/test_presets.py checks each count stated here against the built model).
_PRESETS = {
    # Minutes on 2 CPU cores. 0.62 M parameters.
    "tiny": dict(num_layers=2, hidden_dim=64, intermediate_dim=256, num_heads=4,
                 sequence_length=64),
    # 5.24 M parameters.
    "small": dict(num_layers=4, hidden_dim=256, intermediate_dim=1024, num_heads=4,
                  sequence_length=128),
    # BERT-base's shape (Devlin et al. 2019): 12 layers of 768, 12 heads, 512 positions.
    # 91.6 M parameters (108.9 M with BERT's 30 522 tokens).
    "bert_base": dict(num_layers=12, hidden_dim=768, intermediate_dim=3072, num_heads=12,
                      sequence_length=512),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(PresetConfig):
    """Hyper-parameters of an encoder classifier. The defaults are BERT's arrangement
    (post-norm, GELU, learned positions, pooling the first token); `pooling="mean"`
    averages the real tokens instead.

    Example:

    >>> config = ClassifierConfig.preset("tiny", num_classes=3, segments=2)
    >>> config.num_layers, config.hidden_dim, config.pooling
    (2, 64, 'cls')
    """

    # Vocabulary size (token ids 0 .. vocabulary_size - 1, 0 = padding).
    vocabulary_size: int = 8000
    # Classes of the softmax head.
    num_classes: int = 2
    # Longest input in tokens.
    sequence_length: int = 128
    # Model width d_model.
    hidden_dim: int = 256
    # Inner width d_ff of the feed-forward networks.
    intermediate_dim: int = 1024
    # Attention heads h; must divide hidden_dim.
    num_heads: int = 4
    # Encoder blocks N.
    num_layers: int = 4
    # Residual, embedding and head dropout.
    dropout: float = 0.1
    # Dropout on attention weights.
    attention_dropout: float = 0.0
    # Feed-forward activation.
    activation: str = "gelu"
    # Pre-norm (with a final LayerNorm) when True; post-norm (BERT, the paper) when False.
    normalize_first: bool = False
    # LayerNorm epsilon.
    layer_norm_epsilon: float = 1e-6
    # "learned" or "sinusoidal" positions.
    positions: str = "learned"
    # "cls" (the first token, [START]) or "mean" (the mean over real tokens).
    pooling: str = "cls"
    # Segment embeddings for sentence pairs: 0 (single texts) or 2 (text_a, text_b).
    segments: int = 0

    # The presets: `ClassifierConfig.preset(name, **overrides)`, `preset_names()`.
    PRESETS: ClassVar[dict] = _PRESETS

    def __post_init__(self):
        check_stack(self)
        if not isinstance(self.num_classes, int) or self.num_classes < 2:
            raise ValueError(
                f"num_classes must be an int of at least 2; received {self.num_classes!r}."
            )
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; received {self.pooling!r}.")
        if self.segments not in (0, 2):
            raise ValueError(f"segments must be 0 or 2 (sentence pairs); received {self.segments}.")


# The presets' older name, the same dict.
CLASSIFIER_PRESETS = ClassifierConfig.PRESETS


def count_classifier_parameters(config):
    """Trainable parameters of `Classifier(config)`, without building it."""
    d, ff, n = config.hidden_dim, config.intermediate_dim, config.num_layers
    v = config.vocabulary_size
    block = (4 * d * d + 4 * d) + (2 * d * ff + ff + d) + 2 * (2 * d)
    embeddings = v * d + (config.sequence_length * d if config.positions == "learned" else 0)
    embeddings += config.segments * d
    final_norm = 2 * d if config.normalize_first else 0
    head = d * config.num_classes + config.num_classes
    return n * block + embeddings + final_norm + head


@keras.saving.register_keras_serializable(package="keras_transformer")
class Classifier(ConfigModel):
    """An encoder-only Transformer classifier: token and position (and segment) embedding,
    `num_layers` `EncoderBlock`s, mask-aware pooling (`SequencePooling`), dropout and a
    softmax head.

    Inputs: `token_ids` `(batch, length)`, 0 = padding, `[START]` first (the token `"cls"`
    pooling reads); with `segments=2` also `segment_ids` `(batch, length)`, 0 for the first
    text and 1 for the second. A dict `{"token_ids", "segment_ids"}` in that case, else the
    ids alone. Output: float32 class probabilities `(batch, num_classes)`. Padding never
    changes the prediction: every block gets the padding mask of the ids.

    Args:
        config: `ClassifierConfig`, or a dict of its fields.
        name: str. Defaults to `"classifier"`.
        dtype: the layers' dtype policy; None: the global one. Saved with the model.

    Example:

    >>> import numpy as np
    >>> config = ClassifierConfig.preset("tiny", vocabulary_size=20, num_classes=3)
    >>> model = Classifier(config)
    >>> probabilities = model(np.array([[2, 7, 9, 3, 0, 0]]))
    >>> tuple(probabilities.shape), bool(np.isclose(float(probabilities.numpy().sum()), 1.0))
    ((1, 3), True)
    """

    config_class = ClassifierConfig

    def __init__(self, config, name="classifier", dtype=None, **kwargs):
        config, dtype = self.resolve(config, dtype)

        # === Layers ===
        embedding = PositionalEmbedding(
            config.vocabulary_size,
            config.sequence_length,
            config.hidden_dim,
            positions=config.positions,
            dropout=config.dropout if not config.segments else 0.0,
            dtype=dtype,
            name="embedding",
        )
        segment_embedding = embedding_dropout = None
        if config.segments:  # added to the embeddings before their dropout
            segment_embedding = keras.layers.Embedding(
                config.segments, config.hidden_dim, dtype=dtype, name="segment_embedding"
            )
            embedding_dropout = Dropout(config.dropout, dtype=dtype, name="embedding_dropout")
        blocks = [
            EncoderBlock(**block_arguments(config, f"block_{index}", dtype))
            for index in range(config.num_layers)
        ]
        norm = final_norm(config, "final_norm", dtype) if config.normalize_first else None
        pooling = SequencePooling(config.pooling, dtype=dtype, name="pooling")
        head_dropout = Dropout(config.dropout, dtype=dtype, name="head_dropout")
        head = keras.layers.Dense(
            config.num_classes, activation="softmax", dtype="float32", name="head"
        )

        # === Functional Model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        inputs = token_ids
        padding_mask = ops.not_equal(token_ids, PAD_ID)
        x = embedding(token_ids)
        if segment_embedding is not None:
            segment_ids = keras.Input(shape=(None,), dtype="int32", name="segment_ids")
            inputs = {"token_ids": token_ids, "segment_ids": segment_ids}
            x = embedding_dropout(x + segment_embedding(segment_ids))
        for block in blocks:
            x = block(x, padding_mask=padding_mask)
        if norm is not None:
            x = norm(x)
        x = pooling(x, padding_mask=padding_mask)
        probabilities = head(head_dropout(x))
        super().__init__(inputs=inputs, outputs=probabilities, name=name, **kwargs)

        # === Config and layers ===
        self._set_config(config, embedding)
        self.embedding = embedding
        self.segment_embedding = segment_embedding
        self.blocks = blocks
        self.final_norm = norm
        self.pooling = pooling
        self.head = head
