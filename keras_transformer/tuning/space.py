"""The hyper-parameter search space: defaults, a small JSON spec to fix or narrow any entry,
and validation that fails before any training starts."""

import math
import pathlib

from keras_transformer.json_config import json_text_or_path

# name -> candidate values. Model names are TransformerConfig fields, the rest TrainConfig's.
DEFAULT_SPACE = {
    "num_layers": [1, 2, 3, 4],
    "hidden_dim": [32, 64, 128, 256],
    "num_heads": [2, 4, 8],  # only values that divide the sampled hidden_dim are drawn
    "intermediate_dim": [128, 256, 512, 1024],
    "dropout": [0.0, 0.1, 0.2, 0.3],
    "normalize_first": [False, True],
    "label_smoothing": [0.0, 0.1],
    "warmup_steps": [500, 1000, 4000],
    "learning_rate_scale": [0.5, 1.0, 2.0],
    "batch_size": [32, 64, 128],
}
MODEL_NAMES = (
    "num_layers", "hidden_dim", "num_heads", "intermediate_dim", "dropout", "normalize_first",
)  # fmt: skip
TRAINING_NAMES = ("label_smoothing", "warmup_steps", "learning_rate_scale", "batch_size")
# The keras-tuner algorithms and the objectives `tune` offers.
TUNER_NAMES = ("random", "bayesian", "hyperband")
# Every task's objectives (`Task.objectives`, its default first: translation's validation
# chrF, a language model's val_loss, the log of its validation perplexity, a classifier's
# val_accuracy); all but the losses are maximized.
OBJECTIVE_NAMES = ("val_chrf", "val_bleu", "val_masked_accuracy", "val_accuracy", "val_loss")
MINIMIZED = ("val_loss",)
MAXIMIZED = tuple(name for name in OBJECTIVE_NAMES if name not in MINIMIZED)
# The most candidates a range may span (a tiny step would loop for minutes).
MAX_RANGE_VALUES = 100_000


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# name -> (whether a candidate is allowed, the allowed values in words); the ranges of
# TransformerConfig's and TrainConfig's own checks.
_INTEGERS = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "integers >= 1")
_FRACTIONS = (lambda v: _is_number(v) and 0 <= v < 1, "numbers in [0, 1)")
ALLOWED_VALUES = {
    "num_layers": _INTEGERS,
    "hidden_dim": _INTEGERS,
    "num_heads": _INTEGERS,
    "intermediate_dim": _INTEGERS,
    "dropout": _FRACTIONS,
    "normalize_first": (lambda v: isinstance(v, bool), "true or false"),
    "label_smoothing": _FRACTIONS,
    "warmup_steps": _INTEGERS,
    "learning_rate_scale": (lambda v: _is_number(v) and v > 0, "numbers > 0"),
    "batch_size": _INTEGERS,
}


def _range_values(name, spec):
    """`{"min": a, "max": b, "step": s}` -> the list of values it spans."""
    unknown = set(spec) - {"min", "max", "step"}
    if unknown or not {"min", "max"} <= set(spec):
        raise ValueError(
            f"Search space entry {name!r}: a range is {{'min': a, 'max': b, 'step': s}}; "
            f"received {spec!r}."
        )
    low, high = spec["min"], spec["max"]
    step = spec.get("step", 1 if isinstance(low, int) and isinstance(high, int) else None)
    for key, value in (("min", low), ("max", high), ("step", step)):
        if value is not None and not _is_number(value):
            raise ValueError(
                f"Search space entry {name!r}: a range's {key!r} must be a number; received "
                f"{value!r} in {spec!r}."
            )
    if high < low:
        raise ValueError(f"Search space entry {name!r} is an empty range: min {low} > max {high}.")
    if not step or step <= 0:
        raise ValueError(
            f"Search space entry {name!r}: a float range needs a positive 'step'; received "
            f"{spec!r}."
        )
    if (high - low) / step >= MAX_RANGE_VALUES:
        raise ValueError(
            f"Search space entry {name!r}: the range {spec!r} spans more than "
            f"{MAX_RANGE_VALUES} values; choose a larger 'step'."
        )
    values, value = [], low
    while value <= high + 1e-9:
        values.append(round(value, 10))
        value += step
    return values


def parse_space(spec=None):
    """The full search space: `DEFAULT_SPACE` with the entries of `spec` replaced.

    Args:
        spec: dict (or JSON text, or the path of a JSON file). Each entry is a list of
            candidates (`"num_layers": [2, 4]`), a single value that fixes it
            (`"hidden_dim": 128`), or a range (`"dropout": {"min": 0, "max": 0.3,
            "step": 0.1}`).

    Returns:
        dict name -> list of candidate values.

    Raises:
        ValueError: an unknown name, an empty list or range, a candidate of the wrong type
            or outside the entry's range (`ALLOWED_VALUES`), or head counts that divide none
            of the hidden sizes.

    Example:

    >>> space = parse_space({"num_layers": 2, "hidden_dim": [64, 128]})
    >>> space["num_layers"], space["hidden_dim"]
    ([2], [64, 128])
    """
    if isinstance(spec, (str, pathlib.Path)):
        spec = json_text_or_path(spec, "search space")
    space = {name: list(values) for name, values in DEFAULT_SPACE.items()}
    for name, value in (spec or {}).items():
        if name not in DEFAULT_SPACE:
            raise ValueError(
                f"Unknown hyper-parameter {name!r} in the search space; the names are "
                f"{sorted(DEFAULT_SPACE)}."
            )
        if isinstance(value, dict):
            values = _range_values(name, value)
        elif isinstance(value, list):
            values = value
        else:
            values = [value]
        if not values:
            raise ValueError(f"Search space entry {name!r} is an empty list; give at least one.")
        _check_values(name, values)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if numbers and any(isinstance(v, float) for v in values):
            values = [float(v) for v in values]  # keras-tuner wants one type per choice
        space[name] = values
    _check_heads(space)
    return space


def _check_values(name, values):
    allowed, words = ALLOWED_VALUES[name]
    for value in values:
        if not allowed(value):
            raise ValueError(
                f"Search space entry {name!r} takes {words}; received {value!r}"
                + ("" if len(values) == 1 else f" (in {values!r})")
                + "."
            )


def _check_heads(space):
    useless = [h for h in space["num_heads"] if not any(d % h == 0 for d in space["hidden_dim"])]
    if useless:
        raise ValueError(
            f"num_heads {useless} divide none of the hidden sizes {space['hidden_dim']}; every "
            "head count must divide at least one hidden_dim (heads split the hidden size)."
        )


def heads_for(hidden_dim, space):
    """The head counts of the space that divide `hidden_dim` (possibly empty)."""
    return [h for h in space["num_heads"] if hidden_dim % h == 0]
