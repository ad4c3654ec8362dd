"""Token embedding plus position encoding (Vaswani et al. 2017, Sections 3.4 and 3.5)."""

import math

import keras
from keras import ops

from keras_transformer.constants import PAD_ID
from keras_transformer.layers.dropout import Dropout
from keras_transformer.layers.validation import check_positive_int, check_rate

POSITIONS = ("sinusoidal", "learned")


def _sinusoids(positions, depth, max_wavelength=10000.0):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).

    positions: float32 tensor `(length,)`. Returns float32 `(length, depth)`.
    """
    dims = ops.arange(depth, dtype="float32")
    even_dims = dims - ops.mod(dims, 2.0)  # 2i for both members of a sin/cos pair
    rates = ops.exp(-math.log(max_wavelength) * even_dims / depth)
    angles = ops.expand_dims(positions, 1) * ops.expand_dims(rates, 0)  # (length, depth)
    return ops.where(ops.equal(ops.mod(dims, 2.0), 0.0), ops.sin(angles), ops.cos(angles))


def positional_encoding(length, depth):
    """The paper's sinusoidal position encoding table.

    Even feature indices hold sines, odd ones cosines of the same frequency (Section 3.5), so
    PE(pos + k) is a linear function of PE(pos) for any offset k.

    Args:
        length: int. Number of positions.
        depth: int. Size of each position's vector (the model's `hidden_dim`).

    Returns:
        float32 tensor of shape `(1, length, depth)`: a batch axis first, so it adds to a
        `(batch, length, depth)` embedding directly.

    Example:

    >>> import numpy as np
    >>> pe = np.asarray(positional_encoding(50, 8))
    >>> pe.shape
    (1, 50, 8)
    >>> np.round(pe[0, 1, :4], 4)  # position 1: sin(1), cos(1), sin(0.1), cos(0.1)
    array([0.8415, 0.5403, 0.0998, 0.995 ], dtype=float32)
    """
    check_positive_int(length, "length")
    check_positive_int(depth, "depth")
    table = _sinusoids(ops.arange(length, dtype="float32"), depth)
    return ops.expand_dims(table, 0)


@keras.saving.register_keras_serializable(package="keras_transformer")
class PositionalEmbedding(keras.layers.Layer):
    """Token embedding scaled by √hidden_dim plus a sinusoidal or learned position encoding.

    "In the embedding layers, we multiply those weights by √d_model" (Section 3.4), then add the
    position encoding (Section 3.5) and apply dropout to the sum (Section 5.4). With
    `mask_zero=True` (the default) token id 0 is padding and the layer emits a Keras mask that
    the blocks of this package read.

    Args:
        vocabulary_size: int. Number of token ids.
        sequence_length: int. Longest sequence. Learned positions have exactly this many
            vectors; sinusoidal positions are computed and also work beyond it.
        hidden_dim: int. Size d_model of the output vectors.
        positions: `"sinusoidal"` (the paper) or `"learned"`. Defaults to `"sinusoidal"`.
        mask_zero: bool. Treat token id 0 as padding and emit a mask. Defaults to `True`.
        dropout: float. Dropout on the sum. Defaults to `0.0`.
        scale_embeddings: bool. Multiply token embeddings by √hidden_dim. Defaults to `True`.
        embeddings_initializer: initializer of the token (and learned position) embeddings.
            Defaults to a normal distribution with standard deviation hidden_dim^-0.5, which
            after the √hidden_dim scale gives unit-variance embeddings.
        max_wavelength: float. Longest wavelength of the sinusoids. Defaults to `10000`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        token_ids: int tensor `(batch, length)`.
        start_index: int or scalar int tensor. Position of the first token, for cached
            decoding of one step at a time. Defaults to `0`.
        reverse: bool. When True the input is hidden states `(batch, length, hidden_dim)` and
            the layer returns logits over the vocabulary, `hidden @ token_embeddingsᵀ`: the
            output projection tied to the embedding (Section 3.4). Defaults to `False`.
        training: bool. Dropout on or off.

    Returns:
        `(batch, length, hidden_dim)` in the compute dtype, with a Keras mask
        `token_ids != 0` when `mask_zero` is on; with `reverse=True`,
        `(batch, length, vocabulary_size)` logits.

    Example:

    >>> import numpy as np
    >>> embedding = PositionalEmbedding(vocabulary_size=11, sequence_length=6, hidden_dim=8)
    >>> x = embedding(np.array([[5, 3, 2, 0, 0]]))
    >>> tuple(x.shape), np.asarray(embedding.compute_mask(np.array([[5, 3, 2, 0, 0]]))).tolist()
    ((1, 5, 8), [[True, True, True, False, False]])
    >>> step = embedding(np.array([[2]]), start_index=2)  # same vector as position 2 above
    >>> np.allclose(step[0, 0], x[0, 2], atol=1e-6)
    True

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Sections 3.4, 3.5 and 5.4.
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        hidden_dim,
        positions="sinusoidal",
        mask_zero=True,
        dropout=0.0,
        scale_embeddings=True,
        embeddings_initializer=None,
        max_wavelength=10000.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = check_positive_int(vocabulary_size, "vocabulary_size")
        self.sequence_length = check_positive_int(sequence_length, "sequence_length")
        self.hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        if positions not in POSITIONS:
            raise ValueError(
                f"`positions` must be one of {POSITIONS}; received positions={positions!r}."
            )
        self.positions = positions
        self.mask_zero = bool(mask_zero)
        self.dropout = check_rate(dropout, "dropout")
        self.scale_embeddings = bool(scale_embeddings)
        self.max_wavelength = float(max_wavelength)
        if embeddings_initializer is None:
            embeddings_initializer = keras.initializers.RandomNormal(stddev=hidden_dim**-0.5)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.supports_masking = self.mask_zero

        self.token_embedding = self._embedding(vocabulary_size, "token_embedding")
        self.position_embedding = None
        if positions == "learned":
            self.position_embedding = self._embedding(sequence_length, "position_embedding")
        self._dropout_layer = Dropout(self.dropout, dtype=self.dtype_policy, name="dropout")

    def _embedding(self, input_dim, name):
        return keras.layers.Embedding(
            input_dim,
            self.hidden_dim,
            embeddings_initializer=keras.initializers.get(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, token_ids_shape=None):
        self.token_embedding.build(token_ids_shape)
        if self.position_embedding is not None:
            self.position_embedding.build((None,))
        self.built = True

    def call(self, token_ids, start_index=0, reverse=False, training=None):
        if reverse:
            embeddings = ops.cast(self.token_embedding.embeddings, token_ids.dtype)
            return ops.matmul(token_ids, ops.transpose(embeddings))
        length = token_ids.shape[-1]
        if not isinstance(length, int):  # None, or a symbolic dimension (JAX while building)
            length = None
        if (
            self.positions == "learned"
            and length is not None
            and isinstance(start_index, int)
            and start_index + length > self.sequence_length
        ):
            raise ValueError(
                f"PositionalEmbedding(positions='learned') has {self.sequence_length} positions; "
                f"received {length} tokens starting at position {start_index}. Truncate the "
                "input or build the layer with a larger `sequence_length`."
            )
        if length is None:
            length = ops.shape(token_ids)[-1]
        x = self.token_embedding(token_ids)
        if self.scale_embeddings:
            x = x * ops.cast(math.sqrt(self.hidden_dim), x.dtype)
        positions = ops.arange(length, dtype="int32") + ops.cast(start_index, "int32")
        if self.position_embedding is not None:
            encoding = self.position_embedding(positions)
        else:
            encoding = _sinusoids(
                ops.cast(positions, "float32"), self.hidden_dim, self.max_wavelength
            )
        x = x + ops.cast(ops.expand_dims(encoding, 0), x.dtype)
        return self._dropout_layer(x, training=training)

    def compute_output_spec(self, token_ids, start_index=0, reverse=False, training=None):
        # Declared rather than traced: tracing runs `call` on a placeholder length (83 under
        # PyTorch) that the learned-positions check would refuse.
        if reverse:
            shape = (*token_ids.shape[:-1], self.vocabulary_size)
            return keras.KerasTensor(shape, dtype=token_ids.dtype)
        return keras.KerasTensor((*token_ids.shape, self.hidden_dim), dtype=self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if "float" in keras.backend.standardize_dtype(inputs.dtype):
            return mask  # reverse=True: hidden states in, logits out; keep their mask
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, PAD_ID)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "hidden_dim": self.hidden_dim,
                "positions": self.positions,
                "mask_zero": self.mask_zero,
                "dropout": self.dropout,
                "scale_embeddings": self.scale_embeddings,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "max_wavelength": self.max_wavelength,
            }
        )
        return config
