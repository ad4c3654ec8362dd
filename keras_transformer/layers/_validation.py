"""Argument checks shared by the layers: each raises ValueError naming the value and the fix."""


def check_positive_int(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer; received {name}={value!r}.")
    return value


def check_rate(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(
            f"`{name}` is a dropout rate and must be in [0, 1); received {name}={value!r}."
        )
    return float(value)


def check_positive_float(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"`{name}` must be a positive number; received {name}={value!r}.")
    return float(value)


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
