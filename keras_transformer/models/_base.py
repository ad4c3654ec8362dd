"""What the model classes and their configurations share."""

import keras

from keras_transformer.layers._validation import (
    check_fraction,
    check_positive_float,
    check_positive_int,
)
from keras_transformer.layers.positional_embedding import POSITIONS

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


def preset(config_class, presets, name, overrides):
    """`config_class` from the preset `name` with `overrides`."""
    if name not in presets:
        raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(presets)}.")
    return config_class(**{**presets[name], **overrides})


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
