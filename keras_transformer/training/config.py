"""`TrainConfig`: everything about a training run that is not the model's shape."""

import dataclasses

from keras_transformer.data.pipeline import PADDINGS
from keras_transformer.data.tokenizers import KINDS
from keras_transformer.json_config import JsonConfig
from keras_transformer.training.devices import STRATEGIES


@dataclasses.dataclass(frozen=True)
class TrainConfig(JsonConfig):
    """Data, optimization and run-directory settings of `train()`.

    Example:

    >>> config = TrainConfig(corpus="dates", out="runs/dates", epochs=3)
    >>> TrainConfig.from_json(config.to_json()) == config
    True
    """

    # "dates" (built in) or the path of a TSV file of "source<TAB>target" lines.
    corpus: str = "dates"
    # The run directory: tokenizers, checkpoints, logs, history, the final model.
    out: str = "runs/dates"
    # Passes over the training split.
    epochs: int = 10
    # Sentence pairs per batch.
    batch_size: int = 64
    # "bucketed": batches of similar lengths, each padded to its longest pair; "fixed": every
    # batch padded to the model's sequence_length.
    padding: str = "bucketed"
    # Optimizer steps per epoch; None = one pass over the training split.
    steps_per_epoch: int | None = None
    # "character" or "wordpiece", learnt from the training split only.
    tokenizer: str = "character"
    # Largest vocabulary the tokenizer may learn (per side unless shared).
    max_vocabulary_size: int = 8000
    # Lower-case the text before tokenizing.
    lower_case: bool = False
    # Sizes of the built-in dates corpus splits.
    train_size: int = 20000
    validation_size: int = 1000
    test_size: int = 1000
    # Shares of a TSV corpus held out for validation and test.
    validation_fraction: float = 0.05
    test_fraction: float = 0.05
    # Skip malformed TSV lines (with a warning) instead of stopping.
    skip_malformed: bool = False
    # Label smoothing ε_ls (paper: 0.1).
    label_smoothing: float = 0.1
    # Warm-up steps of the learning-rate schedule (paper: 4000).
    warmup_steps: int = 4000
    # Multiplier of the paper's learning-rate schedule.
    learning_rate_scale: float = 1.0
    # Clip gradients to this global norm; None = no clipping.
    clipnorm: float | None = None
    # float16 on GPU, bfloat16 on CPU, with float32 variables.
    mixed_precision: bool = False
    # Compile the train step with XLA.
    jit_compile: bool = False
    # tf.distribute strategy: "auto" (Mirrored over several local GPUs), "none", "mirrored"
    # (local GPUs, or logical CPUs), "multiworker" (TF_CONFIG).
    strategy: str = "auto"
    # Stop when validation masked accuracy has not improved for this many epochs.
    early_stopping_patience: int | None = None
    # Seed of the data splits, shuffling and initialization.
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size", "max_vocabulary_size", "train_size", "warmup_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer; received {name}={value!r}.")
        for name in ("steps_per_epoch", "early_stopping_patience"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ValueError(f"{name} must be None or a positive integer; received {value!r}.")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; received {self.strategy!r}.")
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}; received {self.padding!r}.")
        if self.tokenizer not in KINDS:
            raise ValueError(f"tokenizer must be one of {KINDS}; received {self.tokenizer!r}.")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1); received {self.label_smoothing}.")
        if self.learning_rate_scale <= 0:
            raise ValueError(
                f"learning_rate_scale must be positive; received {self.learning_rate_scale}."
            )
        if self.clipnorm is not None and self.clipnorm <= 0:
            raise ValueError(f"clipnorm must be None or positive; received {self.clipnorm}.")
