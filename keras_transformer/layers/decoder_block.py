"""One layer of the Transformer decoder (Vaswani et al. 2017, Section 3.1, Figure 1 right)."""

import keras

from keras_transformer.layers._block import TransformerBlockBase
from keras_transformer.layers.attention import MultiHeadCrossAttention, MultiHeadSelfAttention
from keras_transformer.layers.masks import implicit_mask
from keras_transformer.layers.results import attention_results


@keras.saving.register_keras_serializable(package="keras_transformer")
class DecoderBlock(TransformerBlockBase):
    """Causal self-attention, cross-attention to the encoder outputs, then a feed-forward
    network; each sub-layer with a residual connection and layer normalization.

    Arguments are those of `EncoderBlock`. Built with encoder outputs (the usual
    encoder-decoder case) the block holds a cross-attention sub-layer; built without, it is a
    decoder-only block (self-attention and feed-forward).

    Incremental decoding: `initial_self_attention_cache(batch, max_length)` gives an empty
    key/value cache, `compute_cross_attention_cache(encoder_outputs)` projects the encoder
    outputs once; each call with `self_attention_cache` and
    `self_attention_cache_update_index` processes one or more new positions and returns the
    updated cache. The result equals the full causal pass.

    Call arguments:
        x: `(batch, target_length, hidden_dim)`, the (embedded) decoder inputs.
        encoder_outputs: `(batch, source_length, encoder_dim)`. Not needed when
            `cross_attention_cache` is given.
        decoder_padding_mask: `(batch, target_length)`, 1 = real token. Defaults to the Keras
            mask of `x`. With a self-attention cache it covers the cache:
            `(batch, cache_length)`, and the Keras mask of `x` is ignored.
        encoder_padding_mask: `(batch, source_length)`, 1 = real token. Defaults to the Keras
            mask of `encoder_outputs`.
        self_attention_cache: `(batch, 2, cache_length, num_heads, key_dim)`.
        self_attention_cache_update_index: int or scalar int tensor: position of `x[:, 0]`.
        cross_attention_cache: `(batch, 2, source_length, num_heads, key_dim)` from
            `compute_cross_attention_cache`. Requires `encoder_padding_mask` when the source
            has padding (a cache carries no Keras mask).
        use_causal_mask: bool. Defaults to `True`; the decoder must not see later targets.
        return_attention_scores: bool. Return a dict with the output and the weights of
            both attentions: `"self_attention"` `(batch, heads, target_length, key_length)`,
            `"cross_attention"` `(batch, heads, target_length, source_length)`.
        training: bool. Dropout on or off.

    Returns:
        `output` `(batch, target_length, hidden_dim)` carrying the Keras mask of `x`; with a
        self-attention cache, always `(output, cache)`; with `return_attention_scores`, a
        dict `{"output", "self_attention", "cross_attention"}` (and `"cache"` with a cache).

    Example:

    >>> import numpy as np
    >>> import keras_transformer as kt
    >>> rng = np.random.default_rng(0)
    >>> encoder_outputs = rng.normal(size=(2, 6, 8)).astype("float32")
    >>> targets = rng.normal(size=(2, 4, 8)).astype("float32")
    >>> block = kt.DecoderBlock(num_heads=2, intermediate_dim=12, dropout=0.0)
    >>> full = block(targets, encoder_outputs)
    >>> cache = block.initial_self_attention_cache(batch_size=2, max_length=4)
    >>> cross_cache = block.compute_cross_attention_cache(encoder_outputs)
    >>> steps = []
    >>> for i in range(4):
    ...     y, cache = block(targets[:, i : i + 1], cross_attention_cache=cross_cache,
    ...                      self_attention_cache=cache, self_attention_cache_update_index=i)
    ...     steps.append(y)
    >>> np.allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    True

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Sections 3.1, 3.2.3 and 5.4.
    """

    def __init__(self, num_heads, intermediate_dim, **kwargs):
        super().__init__(num_heads, intermediate_dim, **kwargs)
        self.self_attention = self._attention(MultiHeadSelfAttention, "self_attention")
        self.self_attention_norm = self._layer_norm("self_attention_norm")
        self.cross_attention = None
        self.cross_attention_norm = None
        self.feed_forward_norm = self._layer_norm("feed_forward_norm")

    def build(self, x_shape, encoder_outputs_shape=None):
        self._check_hidden_dim(x_shape)
        self.self_attention.build(x_shape)
        self.self_attention_norm.build(x_shape)
        if encoder_outputs_shape is not None:
            self.cross_attention = self._attention(MultiHeadCrossAttention, "cross_attention")
            self.cross_attention.build(x_shape, encoder_outputs_shape)
            self.cross_attention_norm = self._layer_norm("cross_attention_norm")
            self.cross_attention_norm.build(x_shape)
        self.feed_forward_norm.build(x_shape)
        self._build_feed_forward(x_shape)
        self.built = True

    def initial_self_attention_cache(self, batch_size, max_length):
        """An empty cache `(batch_size, 2, max_length, num_heads, key_dim)` (zeros)."""
        return self.self_attention.initial_cache(batch_size, max_length)

    def compute_cross_attention_cache(self, encoder_outputs):
        """Keys and values of the encoder outputs, computed once per source sentence."""
        self._require_cross_attention()
        return self.cross_attention.compute_cache(encoder_outputs)

    def _require_cross_attention(self):
        if self.cross_attention is None:
            raise ValueError(
                "This DecoderBlock was built without encoder outputs, so it has no "
                "cross-attention (decoder-only). Call it first with `encoder_outputs` to build "
                "an encoder-decoder block."
            )

    def call(
        self,
        x,
        encoder_outputs=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        use_causal_mask=True,
        return_attention_scores=False,
        training=None,
    ):
        has_context = encoder_outputs is not None or cross_attention_cache is not None
        if has_context:
            self._require_cross_attention()
        elif self.cross_attention is not None:
            raise ValueError(
                "DecoderBlock has a cross-attention sub-layer and needs `encoder_outputs` (or "
                "`cross_attention_cache`); received neither."
            )
        if self_attention_cache is None and decoder_padding_mask is None:
            decoder_padding_mask = implicit_mask(x)
        if encoder_padding_mask is None:
            encoder_padding_mask = implicit_mask(encoder_outputs)
        scores = {}
        new_cache = []

        def self_attend(h):
            result = self.self_attention(
                h,
                padding_mask=decoder_padding_mask,
                use_causal_mask=use_causal_mask,
                cache=self_attention_cache,
                cache_update_index=self_attention_cache_update_index,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if return_attention_scores:
                new_cache.append(result.get("cache"))
                return result["output"], result["attention_scores"]
            if self_attention_cache is not None:
                result, cache = result
                new_cache.append(cache)
            return result, None

        def cross_attend(h):
            result = self.cross_attention(
                h,
                encoder_outputs,
                padding_mask=encoder_padding_mask,
                cache=cross_attention_cache,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if return_attention_scores:
                return result["output"], result["attention_scores"]
            return result, None

        x, scores["self_attention"] = self._sublayer(
            x, self.self_attention_norm, self_attend, training
        )
        if has_context:
            x, scores["cross_attention"] = self._sublayer(
                x, self.cross_attention_norm, cross_attend, training
            )
        x = self._feed_forward_sublayer(x, self.feed_forward_norm, training)
        cache = new_cache[0] if self_attention_cache is not None else None
        return attention_results(x, cache, scores, return_attention_scores)

    def compute_output_shape(self, x_shape, encoder_outputs_shape=None):
        return x_shape
