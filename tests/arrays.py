"""NumPy views of tensors on any Keras backend.

`np.asarray` fails on a PyTorch tensor that requires grad (a layer's output, a variable);
`keras.ops.convert_to_numpy` works on every backend, and on NumPy arrays and Python values.
"""

import keras


def as_numpy(value, dtype=None):
    """`value` (a tensor, variable, array or Python value) as a NumPy array of `dtype`."""
    array = keras.ops.convert_to_numpy(value)
    return array if dtype is None else array.astype(dtype)
