"""The command line's number types: argparse `type=` converters that check a flag's range
where it is parsed, so `--limit -1` fails as `argument --limit: must be a positive integer;
received '-1'` (exit 2) before any run is opened. Standard library only.

`FIELD_TYPES` gives the converter of each numeric field of `TrainConfig` and the model
configurations (the flags `cli._add_dataclass_flags` generates); its ranges are the ones the
dataclasses' own validation enforces.

Example:

>>> positive_int("3"), fraction("0.1"), probability("1")
(3, 0.1, 1.0)
>>> positive_int("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be a positive integer; received '0'
"""

import argparse
import math


class Number:
    """An argparse `type=`: text -> `kind` (int or float) within `[low, high]` (either end
    open when `low_open` / `high_open`; None = unbounded), else `ArgumentTypeError` saying
    `must be <description>; received '<text>'`. Floats must be finite."""

    def __init__(self, name, kind, description, low=None, high=None, low_open=False,
                 high_open=False):  # fmt: skip
        self.__name__ = name  # what argparse calls the type
        self.kind = kind
        self.description = description
        self.low, self.high = low, high
        self.low_open, self.high_open = low_open, high_open

    def __repr__(self):
        return f"<{self.__name__}: {self.description}>"

    def contains(self, value):
        """Whether `value` (already a number) is in the range."""
        if self.kind is float and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __call__(self, text):
        try:
            value = self.kind(text)
        except (TypeError, ValueError):
            value = None
        if value is None or not self.contains(value):
            raise argparse.ArgumentTypeError(f"must be {self.description}; received {text!r}")
        return value


positive_int = Number("positive_int", int, "a positive integer", low=1)
non_negative_int = Number("non_negative_int", int, "a non-negative integer", low=0)
# Seeds go to keras.utils.set_random_seed (NumPy: 0 .. 2**32 - 1) and to TensorFlow's
# stateless random ops (int32): the range both take.
seed = Number("seed", int, f"an integer in [0, {2**31 - 1}]", low=0, high=2**31 - 1)
positive_float = Number("positive_float", float, "a positive number", low=0, low_open=True)
non_negative_float = Number("non_negative_float", float, "a non-negative number", low=0)
finite_float = Number("finite_float", float, "a finite number")
probability = Number("probability", float, "a number in (0, 1]", low=0, high=1, low_open=True)
fraction = Number("fraction", float, "a number in [0, 1)", low=0, high=1, high_open=True)

NUMBER_TYPES = (positive_int, non_negative_int, seed, positive_float, non_negative_float,
                finite_float, probability, fraction)  # fmt: skip

# The converter of each numeric dataclass field that gets a flag (`TrainConfig`,
# `TransformerConfig`, `LanguageModelConfig`, `ClassifierConfig`): the ranges of their
# `__post_init__` checks (and of `generate_dates_corpus` for the dates sizes); 0 is allowed
# where it means "off".
FIELD_TYPES = {
    # TrainConfig
    "epochs": positive_int,
    "batch_size": positive_int,
    "batch_tokens": positive_int,
    "accumulate_gradients": positive_int,
    "steps_per_epoch": positive_int,
    "max_vocabulary_size": positive_int,
    "tokenizer_sample": positive_int,
    "train_size": positive_int,
    "validation_size": non_negative_int,
    "test_size": non_negative_int,
    "validation_fraction": fraction,
    "test_fraction": fraction,
    "label_smoothing": fraction,
    "block_size": positive_int,
    "warmup_steps": positive_int,
    "learning_rate_scale": positive_float,
    "clipnorm": positive_float,
    "time_budget": positive_float,  # minutes
    "validation_sample": non_negative_int,  # 0: off
    "early_stopping_patience": non_negative_int,  # 0: never stop early
    "average_last": non_negative_int,  # 0 or 1: off
    "seed": seed,
    # the model configurations
    "sequence_length": positive_int,
    "hidden_dim": positive_int,
    "intermediate_dim": positive_int,
    "num_heads": positive_int,
    "num_layers": positive_int,
    "dropout": fraction,
    "attention_dropout": fraction,
    "layer_norm_epsilon": positive_float,
}


def field_type(name, kind):
    """The converter of the dataclass field `name` of type `kind` (int or float)."""
    converter = FIELD_TYPES.get(name)
    if converter is None or converter.kind is not kind:
        raise TypeError(
            f"The {kind.__name__} field {name!r} has no flag range: add it to FIELD_TYPES in "
            "keras_transformer/cli/arguments.py."
        )
    return converter
