"""What EncoderBlock and DecoderBlock share: arguments, sublayer factories, residual wiring."""

import keras

from keras_transformer.layers.dropout import Dropout
from keras_transformer.layers.feed_forward import FeedForward
from keras_transformer.layers.validation import (
    check_positive_float,
    check_positive_int,
    check_rate,
)


class TransformerBlockBase(keras.layers.Layer):
    """Base of the encoder and decoder blocks (not exported).

    Each sub-layer (attention or feed-forward) is wrapped as in Section 5.4 of the paper:
    post-norm `LayerNorm(x + Dropout(sublayer(x)))` by default, or pre-norm
    `x + Dropout(sublayer(LayerNorm(x)))` with `normalize_first=True`.
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.1,
        activation="relu",
        normalize_first=False,
        layer_norm_epsilon=1e-6,
        key_dim=None,
        attention_dropout=0.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int(num_heads, "num_heads")
        self.intermediate_dim = check_positive_int(intermediate_dim, "intermediate_dim")
        self.dropout = check_rate(dropout, "dropout")
        self.activation = keras.activations.get(activation)
        self.normalize_first = bool(normalize_first)
        self.layer_norm_epsilon = check_positive_float(layer_norm_epsilon, "layer_norm_epsilon")
        self.key_dim = check_positive_int(key_dim, "key_dim", allow_none=True)
        self.attention_dropout = check_rate(attention_dropout, "attention_dropout")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True
        self.feed_forward = None
        self._residual_dropout = Dropout(
            self.dropout, dtype=self.dtype_policy, name="residual_dropout"
        )

    def _attention(self, cls, name):
        return cls(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            dropout=self.attention_dropout,
            kernel_initializer=keras.initializers.get(self.kernel_initializer),
            bias_initializer=keras.initializers.get(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def _layer_norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )

    def _build_feed_forward(self, x_shape):
        self.feed_forward = FeedForward(
            hidden_dim=x_shape[-1],
            intermediate_dim=self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=keras.initializers.get(self.kernel_initializer),
            bias_initializer=keras.initializers.get(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feed_forward",
        )
        self.feed_forward.build(x_shape)

    def _check_hidden_dim(self, x_shape):
        hidden_dim = x_shape[-1]
        if hidden_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs inputs with a known last dimension; received "
                f"shape {tuple(x_shape)}."
            )
        if self.key_dim is None and hidden_dim % self.num_heads:
            raise ValueError(
                f"{type(self).__name__}: the hidden size {hidden_dim} is not divisible by "
                f"num_heads={self.num_heads}. Choose num_heads that divides {hidden_dim} or "
                "pass `key_dim`."
            )

    def _sublayer(self, x, norm, fn, training):
        """Residual sub-layer; `fn` maps a tensor to (output, extra)."""
        if self.normalize_first:
            y, extra = fn(norm(x))
            return x + self._residual_dropout(y, training=training), extra
        y, extra = fn(x)
        return norm(x + self._residual_dropout(y, training=training)), extra

    def _feed_forward_sublayer(self, x, norm, training):
        x, _ = self._sublayer(
            x, norm, lambda h: (self.feed_forward(h, training=training), None), training
        )
        return x

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "normalize_first": self.normalize_first,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "key_dim": self.key_dim,
                "attention_dropout": self.attention_dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
