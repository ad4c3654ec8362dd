"""Dropout that draws 8 (or 16) random bits per element instead of a 32-bit float."""

import math

import keras
from keras import ops

# Relative error of the rate beyond which 8-bit thresholds give way to 16-bit ones.
_RATE_TOLERANCE = 0.02


def dropout_threshold(rate):
    """`(bits, threshold)`: an element is dropped when its `bits`-bit random integer is
    below `threshold`, so the rate actually applied is `threshold / 2**bits`.

    8 bits (four decisions per 32-bit random word, as FlashAttention does) whenever that
    keeps the rate within 2 % of the one asked for (0.1 → 26/256 = 0.1016); 16 bits
    otherwise (within 1/65536, e.g. 0.01 → 655/65536).

    >>> dropout_threshold(0.1)
    (8, 26)
    >>> dropout_threshold(0.01)
    (16, 655)
    """
    threshold = round(rate * 256)
    if threshold and abs(threshold / 256 - rate) <= _RATE_TOLERANCE * rate:
        return 8, threshold
    return 16, round(rate * 65536)


def dropout(inputs, rate, seed, noise_shape=None):
    """Inverted dropout: zero a random `rate` of `inputs` and scale the rest up.

    Same contract as `keras.random.dropout`, but random words are drawn for a quarter (or
    half) of the elements, each split into 8-bit (16-bit) integers compared with a
    threshold. Random-number generation is the bulk of dropout's cost on CPU, and a
    training step of the `tutorial` preset draws ~37 million of them; this halves
    dropout's share of the step. Survivors are scaled by `1 / (1 - applied rate)`, so the
    expected output equals `inputs` exactly (see `dropout_threshold` for the applied rate).

    Args:
        inputs: tensor of any floating dtype.
        rate: float in [0, 1].
        seed: a `keras.random.SeedGenerator` (or anything `keras.random` accepts).
        noise_shape: optional shape of the mask, broadcast against `inputs`; `None`
            entries take the size of `inputs`.

    Example:

    >>> import numpy as np, keras
    >>> x = np.ones((4, 1000), "float32")
    >>> y = keras.ops.convert_to_numpy(dropout(x, 0.5, keras.random.SeedGenerator(1)))
    >>> sorted(set(y.ravel().tolist()))
    [0.0, 2.0]
    >>> 0.45 < float((y == 0).mean()) < 0.55
    True
    """
    if not 0 <= rate <= 1:
        raise ValueError(f"dropout rate must be in [0, 1]; received rate={rate}.")
    if rate == 1:
        return ops.zeros_like(inputs)
    bits, threshold = dropout_threshold(rate)
    if threshold == 0:
        return inputs
    # `ops.shape` gives ints where the size is static and tensors where it is not.
    shape = ops.shape(inputs)
    if noise_shape is not None:
        pairs = zip(shape, noise_shape, strict=True)
        shape = tuple(size if dim is None else dim for size, dim in pairs)
    size = math.prod(shape)
    per_word = 32 // bits
    words = (size + per_word - 1) // per_word
    random = keras.random.randint((words, 1), -(2**31), 2**31 - 1, dtype="int32", seed=seed)
    random = ops.reshape(ops.view(random, f"uint{bits}"), (-1,))
    if not (isinstance(size, int) and size == words * per_word):
        random = random[:size]
    random = ops.reshape(random, shape)
    scale = ops.cast(2**bits / (2**bits - threshold), inputs.dtype)
    keep = ops.where(random >= threshold, scale, ops.zeros((), inputs.dtype))
    return inputs * keep


@keras.saving.register_keras_serializable(package="keras_transformer")
class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` with cheaper random numbers (see `dropout`).

    Same arguments, config and seed handling as `keras.layers.Dropout`; the rate applied is
    `rate` rounded to a multiple of 1/256 (when that is within 2 % of it) or of 1/65536.

    Example:

    >>> import numpy as np
    >>> layer = Dropout(0.25, seed=3)
    >>> x = np.ones((2, 400), "float32")
    >>> bool((layer(x) == x).numpy().all())  # inference: identity
    True
    >>> 0.2 < float(np.mean(layer(x, training=True).numpy() == 0)) < 0.3
    True
    """

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return dropout(inputs, self.rate, self.seed_generator, self.noise_shape)
        return inputs
