"""One layer of the Transformer encoder (Vaswani et al. 2017, Section 3.1, Figure 1 left)."""

import keras

from keras_transformer.layers._block import TransformerBlockBase
from keras_transformer.layers.attention import MultiHeadSelfAttention
from keras_transformer.layers.masks import implicit_mask
from keras_transformer.layers.results import attention_results


@keras.saving.register_keras_serializable(package="keras_transformer")
class EncoderBlock(TransformerBlockBase):
    """Self-attention then a position-wise feed-forward network, each with a residual
    connection and layer normalization.

    Post-norm (the paper): `x = LayerNorm(x + Dropout(SelfAttention(x)))`, then
    `x = LayerNorm(x + Dropout(FFN(x)))`. Pre-norm (`normalize_first=True`):
    `x = x + Dropout(SelfAttention(LayerNorm(x)))`, then `x = x + Dropout(FFN(LayerNorm(x)))`;
    a stack of pre-norm blocks wants one final LayerNorm after it.

    Args:
        num_heads: int. Attention heads h.
        intermediate_dim: int. Inner size d_ff of the feed-forward network.
        dropout: float. Residual dropout on each sub-layer's output. Defaults to `0.1`.
        activation: feed-forward activation. Defaults to `"relu"`.
        normalize_first: bool. Pre-norm when True, post-norm (the paper) when False.
            Defaults to `False`.
        layer_norm_epsilon: float. Defaults to `1e-6`.
        key_dim: int. Per-head size. Defaults to `hidden_dim // num_heads`.
        attention_dropout: float. Dropout on the attention weights. Defaults to `0.0`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        x: `(batch, length, hidden_dim)`.
        padding_mask: `(batch, length)`, 1 = real token. Defaults to the Keras mask of `x`
            (from `PositionalEmbedding(mask_zero=True)` or an earlier block), so masks flow
            through a stack of blocks without being passed by hand.
        attention_mask: optional, broadcastable to `(batch, length, length)`, 1 = keep.
        return_attention_scores: bool. Also return the self-attention weights
            `(batch, num_heads, length, length)`. Defaults to `False`.
        training: bool. Dropout on or off.

    Returns:
        `(batch, length, hidden_dim)` carrying the input's Keras mask; with
        `return_attention_scores`, a dict `{"output", "self_attention"}`.

    Example:

    >>> import numpy as np
    >>> import keras_transformer as kt
    >>> embedding = kt.PositionalEmbedding(vocabulary_size=11, sequence_length=7, hidden_dim=8)
    >>> block = kt.EncoderBlock(num_heads=2, intermediate_dim=12)
    >>> x = block(embedding(np.array([[4, 9, 2, 0, 0], [3, 0, 0, 0, 0]])))
    >>> tuple(x.shape)
    (2, 5, 8)

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Sections 3.1 and 5.4.
    """

    def __init__(self, num_heads, intermediate_dim, **kwargs):
        super().__init__(num_heads, intermediate_dim, **kwargs)
        self.self_attention = self._attention(MultiHeadSelfAttention, "self_attention")
        self.self_attention_norm = self._layer_norm("self_attention_norm")
        self.feed_forward_norm = self._layer_norm("feed_forward_norm")

    def build(self, x_shape):
        self._check_hidden_dim(x_shape)
        self.self_attention.build(x_shape)
        self.self_attention_norm.build(x_shape)
        self.feed_forward_norm.build(x_shape)
        self._build_feed_forward(x_shape)
        self.built = True

    def call(
        self,
        x,
        padding_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        mask=None,
    ):
        if padding_mask is None:
            padding_mask = mask if mask is not None else implicit_mask(x)

        def attend(h):
            result = self.self_attention(
                h,
                padding_mask=padding_mask,
                attention_mask=attention_mask,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if return_attention_scores:
                return result["output"], result["attention_scores"]
            return result, None

        x, scores = self._sublayer(x, self.self_attention_norm, attend, training)
        x = self._feed_forward_sublayer(x, self.feed_forward_norm, training)
        return attention_results(x, None, {"self_attention": scores}, return_attention_scores)

    def compute_output_shape(self, x_shape):
        return x_shape
