"""What the model classes and their configurations share: the configurations' checks and
presets (`PresetConfig`), the block and final-norm arguments every model builds its layers
from, and the `ConfigModel` base class."""

from typing import ClassVar

import keras

from keras_transformer.json_config import JsonConfig
from keras_transformer.layers.positional_embedding import POSITIONS
from keras_transformer.layers.validation import (
    check_fraction,
    check_positive_float,
    check_positive_int,
)

_SIZES = ("vocabulary_size", "sequence_length", "hidden_dim", "intermediate_dim", "num_heads",
          "num_layers")  # fmt: skip


def check_stack(config):
    """Validates the fields every configuration has (sizes, heads, rates, positions);
    raises ValueError naming the bad value and the fix."""
    for name in _SIZES:
        check_positive_int(getattr(config, name), name)
    if config.hidden_dim % config.num_heads:
        divisors = [h for h in range(1, 33) if config.hidden_dim % h == 0]
        raise ValueError(
            f"num_heads={config.num_heads} does not divide hidden_dim={config.hidden_dim}; "
            f"choose num_heads from {divisors} or change hidden_dim."
        )
    for name in ("dropout", "attention_dropout"):
        check_fraction(getattr(config, name), name)
    check_positive_float(config.layer_norm_epsilon, "layer_norm_epsilon")
    if config.positions not in POSITIONS:
        raise ValueError(f"positions must be one of {POSITIONS}; received {config.positions!r}.")


class PresetConfig(JsonConfig):
    """Base of the models' configuration dataclasses: `JsonConfig` and one presets API.

    A subclass sets `PRESETS`, `{name: overrides of the defaults}`; `Config.preset(name,
    **overrides)` is that preset with any field overridden and `Config.preset_names()` lists
    the names, in the order of the table.
    """

    PRESETS: ClassVar[dict] = {}

    @classmethod
    def preset(cls, name, **overrides):
        """The preset `name` (one of `preset_names()`) with any field overridden; raises
        ValueError for an unknown name."""
        if name not in cls.PRESETS:
            raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(cls.PRESETS)}.")
        return cls(**{**cls.PRESETS[name], **overrides})

    @classmethod
    def preset_names(cls):
        """The preset names, a tuple in the order of `PRESETS` (smallest first)."""
        return tuple(cls.PRESETS)


def block_arguments(config, name, dtype=None):
    """The keyword arguments of an `EncoderBlock` or `DecoderBlock` of `config` (any model's
    configuration): its sizes, dropout, activation and normalization, `dtype` (the layers'
    dtype policy, None: the global one) and the layer `name`."""
    return dict(
        num_heads=config.num_heads,
        intermediate_dim=config.intermediate_dim,
        dropout=config.dropout,
        activation=config.activation,
        normalize_first=config.normalize_first,
        layer_norm_epsilon=config.layer_norm_epsilon,
        attention_dropout=config.attention_dropout,
        dtype=dtype,
        name=name,
    )


def final_norm(config, name, dtype=None):
    """The LayerNorm that ends a pre-norm stack of `config`, named `name`."""
    return keras.layers.LayerNormalization(
        epsilon=config.layer_norm_epsilon, dtype=dtype, name=name
    )


class ConfigModel(keras.Model):
    """Base of the functional model classes: built from a configuration dataclass
    (`config_class`, or a dict of its fields), saved with it and with the layers' dtype
    policy, so `keras.saving.load_model` rebuilds the same model with no custom objects.
    Subclasses build their layers and graph in `__init__`, call `super().__init__(inputs=...,
    outputs=...)` and then `self._set_config(config, first_layer)`."""

    config_class = None

    @classmethod
    def resolve(cls, config, dtype):
        """`(config, dtype policy or None)` from what `__init__` received."""
        if isinstance(config, dict):
            config = cls.config_class.from_dict(config)
        return config, keras.dtype_policies.get(dtype) if dtype is not None else None

    def _set_config(self, config, first_layer):
        self.config = config
        self._policy_layer = first_layer

    def get_config(self):
        return {
            "config": self.config.to_dict(),
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self._policy_layer.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def sequence_length(self):
        """The positions the model has."""
        return self.config.sequence_length
