"""The output projection: decoder states to float32 logits over the target vocabulary."""

import keras
from keras import ops

from keras_transformer.backend import fused


def _cast_and_add(z, bias):
    return ops.cast(z, "float32") + bias


def _cast_and_add_gradient(upstream, dtype):
    """(gradient of z in `dtype`, gradient of the bias) from the float32 logits' gradient."""
    rows = tuple(range(len(upstream.shape) - 1))
    return ops.cast(upstream, dtype), ops.sum(upstream, axis=rows)


_fused_cast_and_add = fused(_cast_and_add)
_fused_cast_and_add_gradient = fused(_cast_and_add_gradient)


@keras.saving.register_keras_serializable(package="keras_transformer")
class OutputProjection(keras.layers.Dense):
    """`keras.layers.Dense` whose output is float32 logits: `float32(x W) + b`.

    Under mixed precision the matmul runs in the compute dtype (e.g. bfloat16) and the bias is
    added after the cast, in float32 (the bias is read as float32, not autocast), so the logits
    the softmax and the loss see are float32, as Keras recommends for a model's last layer. In
    float32 it is a `Dense`.

    In training, on TensorFlow, the cast and the bias add are one XLA-compiled pass over the
    `(batch, length, vocabulary)` logits, and so are their gradients (the bias gradient, and
    the logits' gradient cast back to the compute dtype). `Dense` followed by a float32 cast
    makes four separate passes there, in bfloat16, which Eigen handles slowly on CPU (the
    step benchmark in benchmarks/README.md measures the difference). Without training
    (evaluation, decoding, export) the same sum is plain `keras.ops`.

    The weights (`kernel`, `bias`) and the config are those of `Dense`, so a model saved with
    a `Dense` output projection loads its weights into this one.

    Example:

    >>> import numpy as np
    >>> projection = OutputProjection(5, dtype="mixed_bfloat16")
    >>> logits = projection(np.ones((2, 3, 4), "float32"))
    >>> tuple(logits.shape), keras.backend.standardize_dtype(logits.dtype)
    ((2, 3, 5), 'float32')
    """

    def build(self, input_shape):
        # Dense's kernel, then a bias that is not cast to the compute dtype when read.
        use_bias, self.use_bias = self.use_bias, False
        super().build(input_shape)
        self.use_bias = use_bias
        if use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                autocast=False,
            )

    def call(self, inputs, training=None):
        # `self.kernel` includes a LoRA update when enabled; a quantized layer is called
        # through Keras' `quantized_call` instead of this method.
        z = ops.matmul(inputs, self.kernel)
        if self.bias is None:
            return self.activation(ops.cast(z, "float32"))
        bias = ops.cast(self.bias, "float32")  # a tensor: custom_gradient takes no variables
        logits = _fused_logits(z, bias) if training else _cast_and_add(z, bias)
        return self.activation(logits)

    def compute_output_spec(self, inputs, training=None):
        shape = self.compute_output_shape(inputs.shape)
        return keras.KerasTensor(shape, dtype="float32")


@ops.custom_gradient
def _fused_logits(z, bias):
    dtype = keras.backend.standardize_dtype(z.dtype)

    def gradient(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream
        return _fused_cast_and_add_gradient(upstream, dtype)

    return _fused_cast_and_add(z, bias), gradient
