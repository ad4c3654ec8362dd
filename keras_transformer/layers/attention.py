"""Scaled dot-product attention and multi-head attention (Vaswani et al. 2017, Section 3.2).

`scaled_dot_product_attention` is the course-style function (Eq. 1). `MultiHeadSelfAttention`
projects queries, keys and values with one fused matrix and attends over `num_heads` heads;
`MultiHeadCrossAttention` is the encoder-decoder form: queries from the decoder, keys and values
from the encoder outputs (the *context*). Both keep the softmax in float32 under mixed precision
and carry a key/value cache for incremental decoding.
"""

import math

import keras
from keras import ops

from keras_transformer.constants import MASK_BIAS
from keras_transformer.layers.dropout import Dropout
from keras_transformer.layers.masks import (
    as_padding_mask,
    implicit_mask,
    merge_attention_masks,
)
from keras_transformer.layers.results import attention_results
from keras_transformer.layers.validation import check_positive_int, check_rate, head_dim_for


def scaled_dot_product_attention(q, k, v, mask=None):
    """Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V  (Eq. 1 of the paper).

    Args:
        q: tensor of shape `(..., query_length, depth)`.
        k: tensor of shape `(..., key_length, depth)`.
        v: tensor of shape `(..., key_length, depth_v)`.
        mask: optional tensor broadcastable to `(..., query_length, key_length)`, with
            **1 = keep** and 0 = masked out (as made by `create_padding_mask` and
            `create_look_ahead_mask`). Defaults to None.

    Returns:
        `(output, attention_weights)`: output `(..., query_length, depth_v)` and weights
        `(..., query_length, key_length)`, whose rows sum to 1. The softmax runs in float32.

    Example:

    >>> import numpy as np
    >>> q = np.array([[1.0, 0.0]], "float32")
    >>> k = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    >>> v = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    >>> output, weights = scaled_dot_product_attention(q, k, v, mask=np.array([[1.0, 0.0]]))
    >>> np.asarray(weights), np.asarray(output)
    (array([[1., 0.]], dtype=float32), array([[1., 2.]], dtype=float32))
    """
    q, k, v = (ops.convert_to_tensor(t) for t in (q, k, v))
    depth = k.shape[-1]
    if depth is None:
        raise ValueError("scaled_dot_product_attention needs a known last dimension of `k`.")
    logits = ops.cast(ops.matmul(q, ops.swapaxes(k, -1, -2)), "float32") / math.sqrt(depth)
    if mask is not None:
        keep = ops.cast(ops.convert_to_tensor(mask), "bool")
        logits = ops.where(keep, logits, MASK_BIAS)
    weights = ops.cast(ops.softmax(logits, axis=-1), v.dtype)
    return ops.matmul(weights, v), weights


class _MultiHeadAttentionBase(keras.layers.Layer):
    """What self- and cross-attention share: arguments, the attention core, output projection."""

    def __init__(
        self,
        num_heads,
        key_dim=None,
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int(num_heads, "num_heads")
        self.key_dim = check_positive_int(key_dim, "key_dim", allow_none=True)
        self.dropout = check_rate(dropout, "dropout")
        self.use_bias = bool(use_bias)
        self.output_dim = check_positive_int(output_dim, "output_dim", allow_none=True)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True
        self.head_dim = None
        self._attention_dropout = Dropout(
            self.dropout, dtype=self.dtype_policy, name="attention_dropout"
        )

    def _dense(self, units, name):
        return keras.layers.Dense(
            units,
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.get(self.kernel_initializer),
            bias_initializer=keras.initializers.get(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def _build_output(self, query_dim, name="output"):
        self.head_dim = head_dim_for(query_dim, self.num_heads, self.key_dim, type(self).__name__)
        units = self.output_dim or query_dim
        if units is None:
            raise ValueError(
                f"{type(self).__name__} needs the last query dimension or `output_dim`; "
                "received a query whose last dimension is None."
            )
        self.output_dense = self._dense(units, name)
        self.output_dense.build((None, None, self.num_heads * self.head_dim))

    def _split_heads(self, x, parts):
        """(batch, length, parts * heads * head_dim) -> `parts` tensors (batch, length, heads,
        head_dim)."""
        # A split (its gradient is one concat), not strided slices of a 5-D view (whose
        # gradients scatter into full-size zeros and add up: a large share of a CPU step).
        shape = ops.shape(x)
        heads = (shape[0], shape[1], self.num_heads, self.head_dim)
        return [ops.reshape(part, heads) for part in ops.split(x, parts, axis=-1)]

    def _attend(self, query, key, value, mask, return_attention_scores, training):
        """query (batch, T, heads, head_dim), key/value (batch, S, heads, head_dim), mask
        broadcastable to (batch, heads, T, S) -> (batch, T, output_dim) [and scores]."""
        # Scaling the query, not the (batch, heads, T, S) logits: one pass less. The mask is
        # added as a (batch|1, 1, T, S) bias of 0 / -1e9 rather than selected with `where`:
        # the same weights, and its gradient is the identity instead of two more selects
        # over the logits (with `keras.ops.dot_product_attention`'s einsum, scaling and
        # select, a training step took ~1.3x longer per attention on CPU).
        query = query * ops.cast(1.0 / math.sqrt(self.head_dim), query.dtype)
        logits = ops.cast(ops.einsum("btnh,bsnh->bnts", query, key), "float32")
        if mask is not None:
            logits = logits + ops.where(mask, 0.0, MASK_BIAS)
        scores = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        context = ops.einsum(
            "bnts,bsnh->btnh", self._attention_dropout(scores, training=training), value
        )
        if not return_attention_scores:
            scores = None
        if mask is not None:
            # A query with no key to attend to (an all-padding sequence, e.g. an empty input)
            # gets nothing rather than a uniform average over padding, so its result does
            # not depend on how much padding there is.
            attends = ops.any(mask, axis=-1)  # (batch|1, 1, T)
            attends_to_something = ops.transpose(attends, (0, 2, 1))[..., None]  # (b, T, 1, 1)
            context = context * ops.cast(attends_to_something, context.dtype)
            if return_attention_scores:
                scores = scores * ops.cast(attends[..., None], scores.dtype)
        shape = ops.shape(context)
        # (batch, T, heads, head_dim) -> (batch, T, heads * head_dim)
        context = ops.reshape(context, (shape[0], shape[1], self.num_heads * self.head_dim))
        return self.output_dense(context), scores

    @staticmethod
    def _length(x):
        """Static length of axis 1 when known, else the dynamic one."""
        return x.shape[1] if x.shape[1] is not None else ops.shape(x)[1]

    def _merged_mask(self, query, key, padding_mask, **kwargs):
        """One boolean (batch|1, 1, query_length, key_length) mask, or None."""
        return merge_attention_masks(
            self._length(query),
            self._length(key),
            batch_size=query.shape[0],
            padding_mask=as_padding_mask(padding_mask),
            **kwargs,
        )

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_dim": self.output_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_transformer")
class MultiHeadSelfAttention(_MultiHeadAttentionBase):
    """Multi-head self-attention with one fused query/key/value projection (paper Section 3.2.2).

    MultiHead(X) = Concat(head_1, ..., head_h) W^O, head_i = Attention(X W_i^Q, X W_i^K,
    X W_i^V). The three projections of all heads are one `(hidden_dim, 3 * h * d_k)` matrix, so
    a layer call does one large matmul instead of three.

    The softmax runs in float32 under mixed precision; masked keys get a -1e9 bias, so their
    weights are exactly 0.

    Args:
        num_heads: int. Number of heads h.
        key_dim: int. Size d_k of each head's queries, keys and values. Defaults to
            `hidden_dim // num_heads`, which requires `num_heads` to divide `hidden_dim`.
        dropout: float. Dropout on the attention weights (training only). Defaults to `0.0`.
        use_bias: bool. Biases in the projections. Defaults to `True`.
        output_dim: int. Size of the output. Defaults to the input's last dimension.
        kernel_initializer: initializer of the projection matrices. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, length, hidden_dim)`. The sequence attending to itself.
        padding_mask: `(batch, length)` (or `(batch, cache_length)` with a cache), 1 = real
            token. Defaults to the Keras mask of `query` (e.g. from
            `PositionalEmbedding(mask_zero=True)`).
        attention_mask: broadcastable to `(batch, length, key_length)`, 1 = keep.
        use_causal_mask: bool. Position i attends to positions <= i only. Defaults to `False`.
        cache: `(batch, 2, cache_length, num_heads, key_dim)` keys and values of earlier
            positions (see `initial_cache`). The new keys/values are written at
            `cache_update_index` and the queries attend to the cache up to their own
            position. Defaults to None.
        cache_update_index: int or scalar int tensor. Position of the first query in the
            cache. Required with `cache`.
        return_attention_scores: bool. Also return the weights `(batch, num_heads, length,
            key_length)`. Defaults to `False`.
        training: bool. Dropout on or off.

    Returns:
        `output` of shape `(batch, length, output_dim)`; with `cache`, always
        `(output, cache)` (the updated cache); with `return_attention_scores`, a dict
        `{"output", "attention_scores"}` (and `"cache"` with a cache).

    Example:

    >>> import numpy as np
    >>> attention = MultiHeadSelfAttention(num_heads=2)
    >>> x = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    >>> result = attention(x, use_causal_mask=True, return_attention_scores=True)
    >>> output, scores = result["output"], result["attention_scores"]
    >>> tuple(output.shape), tuple(scores.shape)
    ((3, 5, 8), (3, 2, 5, 5))
    >>> float(scores[0, 0, 0, 1])  # the first position cannot see the second
    0.0

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Section 3.2 and Figure 2.
    """

    def build(self, query_shape):
        self._build_output(query_shape[-1])
        self.qkv_dense = self._dense(3 * self.num_heads * self.head_dim, "qkv")
        self.qkv_dense.build(query_shape)
        self.built = True

    def initial_cache(self, batch_size, max_length):
        """Zeros of shape `(batch_size, 2, max_length, num_heads, key_dim)`."""
        if self.head_dim is None:
            raise ValueError("Build (or call) the layer once before asking for its cache.")
        shape = (batch_size, 2, max_length, self.num_heads, self.head_dim)
        return ops.zeros(shape, dtype=self.compute_dtype)

    def call(
        self,
        query,
        padding_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        cache=None,
        cache_update_index=None,
        return_attention_scores=False,
        training=None,
        mask=None,
    ):
        q, k, v = self._split_heads(self.qkv_dense(query), 3)
        start_index = 0
        if cache is not None:
            if cache_update_index is None:
                raise ValueError("`cache_update_index` is required when `cache` is passed.")
            start_index = cache_update_index
            # One update of the stacked cache at its place (in place under XLA), instead of
            # slicing out keys and values, updating each and stacking a new cache.
            new = ops.cast(ops.stack((k, v), axis=1), cache.dtype)
            cache = ops.slice_update(cache, [0, 0, cache_update_index, 0, 0], new)
            k, v = cache[:, 0], cache[:, 1]
        else:
            if padding_mask is None:
                padding_mask = mask if mask is not None else implicit_mask(query)
        merged = self._merged_mask(
            query,
            k,
            padding_mask,
            attention_mask=attention_mask,
            use_causal_mask=use_causal_mask,
            start_index=start_index,
        )
        if cache is not None and not use_causal_mask:
            # Cache slots after the last written position hold no keys yet.
            filled = ops.less(
                ops.arange(self._length(k), dtype="int32"),
                ops.cast(start_index, "int32") + self._length(query),
            )
            filled = filled[None, None, None, :]
            merged = filled if merged is None else ops.logical_and(merged, filled)
        output, scores = self._attend(q, k, v, merged, return_attention_scores, training)
        return attention_results(output, cache, {"attention_scores": scores},
                                 return_attention_scores)  # fmt: skip


@keras.saving.register_keras_serializable(package="keras_transformer")
class MultiHeadCrossAttention(_MultiHeadAttentionBase):
    """Multi-head encoder-decoder attention: queries from one sequence, keys and values from a
    context sequence (the encoder outputs), paper Section 3.2.3.

    Keys and values are one fused `(context_dim, 2 * h * d_k)` projection. For incremental
    decoding, `compute_cache(context)` projects the context once; later calls pass that cache
    instead of the context. Arguments as `MultiHeadSelfAttention`.

    Call arguments:
        query: `(batch, query_length, hidden_dim)`.
        context: `(batch, context_length, context_dim)`. Not needed when `cache` is given.
        padding_mask: `(batch, context_length)`, 1 = real context token. Defaults to the Keras
            mask of `context`.
        attention_mask: broadcastable to `(batch, query_length, context_length)`, 1 = keep.
        cache: `(batch, 2, context_length, num_heads, key_dim)` from `compute_cache`.
        return_attention_scores: bool. Also return the weights `(batch, num_heads,
            query_length, context_length)`. Defaults to `False`.
        training: bool. Dropout on or off.

    Returns:
        `output` of shape `(batch, query_length, output_dim)`; with
        `return_attention_scores`, a dict `{"output", "attention_scores"}`.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> decoder_x = rng.normal(size=(2, 3, 8)).astype("float32")
    >>> encoder_x = rng.normal(size=(2, 6, 4)).astype("float32")
    >>> cross = MultiHeadCrossAttention(num_heads=2)
    >>> tuple(cross(decoder_x, encoder_x, padding_mask=np.ones((2, 6))).shape)
    (2, 3, 8)
    >>> cache = cross.compute_cache(encoder_x)
    >>> np.allclose(cross(decoder_x, cache=cache), cross(decoder_x, encoder_x), atol=1e-6)
    True
    """

    def build(self, query_shape, context_shape=None):
        self._build_output(query_shape[-1])
        self.query_dense = self._dense(self.num_heads * self.head_dim, "query")
        self.query_dense.build(query_shape)
        self.key_value_dense = self._dense(2 * self.num_heads * self.head_dim, "key_value")
        context_dim = query_shape[-1] if context_shape is None else context_shape[-1]
        self.key_value_dense.build((None, None, context_dim))
        self.built = True

    def compute_cache(self, context):
        """Keys and values of `context`, `(batch, 2, context_length, num_heads, key_dim)`."""
        if not self.built:
            raise ValueError(
                "Call MultiHeadCrossAttention once (or build it) before `compute_cache`: the "
                "projections are made on the first call."
            )
        return ops.stack(self._keys_and_values(context), axis=1)

    def _keys_and_values(self, context):
        """`[key, value]` of `context`, each `(batch, context_length, num_heads, key_dim)`."""
        return self._split_heads(self.key_value_dense(context), 2)

    def call(
        self,
        query,
        context=None,
        padding_mask=None,
        attention_mask=None,
        cache=None,
        return_attention_scores=False,
        training=None,
    ):
        if cache is None:
            if context is None:
                raise ValueError(
                    "MultiHeadCrossAttention needs `context` (the encoder outputs) or a "
                    "`cache` from `compute_cache(context)`; received neither."
                )
            if padding_mask is None:
                padding_mask = implicit_mask(context)
            # Not through `compute_cache`: slicing a stacked cache would cost a full-size
            # scatter in the gradient.
            key, value = self._keys_and_values(context)
        else:
            key, value = cache[:, 0], cache[:, 1]
        (q,) = self._split_heads(self.query_dense(query), 1)
        merged = self._merged_mask(query, key, padding_mask, attention_mask=attention_mask)
        output, scores = self._attend(q, key, value, merged, return_attention_scores, training)
        return attention_results(output, None, {"attention_scores": scores},
                                 return_attention_scores)  # fmt: skip


__all__ = [
    "MultiHeadCrossAttention",
    "MultiHeadSelfAttention",
    "scaled_dot_product_attention",
]
