"""`TransformerConfig`: the model's hyper-parameters in one dataclass, with presets."""

import dataclasses

from keras_transformer.json_config import JsonConfig
from keras_transformer.layers._validation import check_positive_int
from keras_transformer.models._base import check_stack, preset

# name -> overrides of the defaults. Parameter counts are for a shared 8000-token vocabulary
# with the output projection tied (`TransformerConfig.preset(name, vocabulary_size=8000)`);
# `count_parameters` gives the exact count of any configuration.
PRESETS = {
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
class TransformerConfig(JsonConfig):
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

    @classmethod
    def preset(cls, name, **overrides):
        """A preset (`tiny`, `small`, `tutorial`, `medium`, `base`, `big`) with any field
        overridden."""
        return preset(cls, PRESETS, name, overrides)
