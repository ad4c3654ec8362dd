"""Position-wise feed-forward network (Vaswani et al. 2017, Section 3.3, Eq. 2)."""

import keras

from keras_transformer.layers.dropout import Dropout
from keras_transformer.layers.validation import check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="keras_transformer")
class FeedForward(keras.layers.Layer):
    """FFN(x) = max(0, x W1 + b1) W2 + b2, applied to each position separately (Eq. 2).

    Dropout is applied to the output, the "residual dropout" of Section 5.4; the block that
    holds this layer adds the residual.

    Args:
        hidden_dim: int. Output size d_model (usually the input size).
        intermediate_dim: int. Inner size d_ff (2048 in the paper's base model).
        activation: activation of the inner layer. Defaults to `"relu"` (the paper).
        dropout: float. Dropout on the output. Defaults to `0.0`.
        use_bias: bool. Defaults to `True`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        bias_initializer: Defaults to `"zeros"`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        x: `(batch, length, input_dim)`.
        training: bool. Dropout on or off.

    Returns:
        `(batch, length, hidden_dim)`. A Keras mask on `x` passes through unchanged.

    Example:

    >>> import numpy as np
    >>> ffn = FeedForward(hidden_dim=8, intermediate_dim=12)
    >>> tuple(ffn(np.zeros((2, 5, 8), "float32")).shape)
    (2, 5, 8)

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Section 3.3.
    """

    def __init__(
        self,
        hidden_dim,
        intermediate_dim,
        activation="relu",
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        self.intermediate_dim = check_positive_int(intermediate_dim, "intermediate_dim")
        self.activation = keras.activations.get(activation)
        self.dropout = check_rate(dropout, "dropout")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

        def dense(units, activation, name):
            return keras.layers.Dense(
                units,
                activation=activation,
                use_bias=self.use_bias,
                kernel_initializer=keras.initializers.get(self.kernel_initializer),
                bias_initializer=keras.initializers.get(self.bias_initializer),
                dtype=self.dtype_policy,
                name=name,
            )

        self.intermediate_dense = dense(intermediate_dim, self.activation, "intermediate")
        self.output_dense = dense(hidden_dim, None, "output")
        self._dropout_layer = Dropout(self.dropout, dtype=self.dtype_policy, name="dropout")

    def build(self, x_shape):
        self.intermediate_dense.build(x_shape)
        self.output_dense.build(tuple(x_shape[:-1]) + (self.intermediate_dim,))
        self.built = True

    def call(self, x, training=None):
        x = self.output_dense(self.intermediate_dense(x))
        return self._dropout_layer(x, training=training)

    def compute_output_shape(self, x_shape):
        return tuple(x_shape[:-1]) + (self.hidden_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
