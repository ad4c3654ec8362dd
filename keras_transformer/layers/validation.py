"""Argument checks: each returns the value it accepts (an int, a float or None), or raises
`ValueError` naming the argument, the value received and the fix.

A public module: the package's layers, configurations, data, training and decoding code use
these checks, and other packages may import them (`from keras_transformer.layers.validation
import check_positive_int`) to give their own arguments the same errors. The names in
`__all__` are the stable API. Plain Python with no imports, so importing it costs nothing and
the layers stay Keras-only.

Example:

>>> check_positive_int(3, "num_layers")
3
>>> check_fraction(0, "dropout")
0.0
>>> check_positive_int(0, "num_layers", example=6)
Traceback (most recent call last):
...
ValueError: `num_layers` must be a positive integer, e.g. num_layers=6; received num_layers=0.
"""

__all__ = [
    "check_fraction",
    "check_non_negative_int",
    "check_positive_float",
    "check_positive_int",
    "check_rate",
    "head_dim_for",
]


def check_positive_int(value, name, allow_none=False, example=None):
    """An int > 0 (not a bool), or None when `allow_none`."""
    return _check_int(value, name, 1, allow_none, example)


def check_non_negative_int(value, name, allow_none=False, example=None):
    """An int >= 0 (not a bool), or None when `allow_none`."""
    return _check_int(value, name, 0, allow_none, example)


def _check_int(value, name, minimum, allow_none, example):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive integer" if minimum else "a non-negative integer"
        raise ValueError(
            f"`{name}` must be {_or_none(kind, allow_none)}"
            f"{'' if example is None else f', e.g. {name}={example}'}; received {name}={value!r}."
        )
    return value


def check_fraction(value, name, allow_none=False, meaning=None):
    """A number in [0, 1) as a float, or None when `allow_none`; `meaning` (e.g. "a dropout
    rate") says what the value is in the error."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        what = "" if meaning is None else f" is {meaning} and"
        raise ValueError(
            f"`{name}`{what} must be {_or_none('in [0, 1)', allow_none)}; "
            f"received {name}={value!r}."
        )
    return float(value)


def check_rate(value, name):
    """A dropout rate: a number in [0, 1), as a float."""
    return check_fraction(value, name, meaning="a dropout rate")


def check_positive_float(value, name, allow_none=False):
    """A number > 0 (not NaN, not a bool) as a float, or None when `allow_none`."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(
            f"`{name}` must be {_or_none('a positive number', allow_none)}; "
            f"received {name}={value!r}."
        )
    return float(value)


def _or_none(kind, allow_none):
    return f"None or {kind}" if allow_none else kind


def head_dim_for(hidden_dim, num_heads, key_dim, layer_name):
    """The per-head size: `key_dim` when given, else hidden_dim / num_heads (must divide)."""
    if key_dim is not None:
        return key_dim
    if hidden_dim is None:
        raise ValueError(
            f"{layer_name} needs a known last input dimension (the hidden size) to choose the "
            "per-head size; received an input whose last dimension is None. Pass `key_dim`."
        )
    if hidden_dim % num_heads:
        raise ValueError(
            f"{layer_name}: the hidden size {hidden_dim} is not divisible by num_heads="
            f"{num_heads}. Choose num_heads that divides {hidden_dim} (e.g. "
            f"{_divisors(hidden_dim)}) or pass `key_dim` explicitly."
        )
    return hidden_dim // num_heads


def _divisors(n):
    return ", ".join(str(d) for d in range(1, min(n, 64) + 1) if n % d == 0)
