"""The one rule engine that chooses the settings a user leaves unset (None): each task states
its own numbers (`Task.prepare`), the engine records every choice with its reason and prints
them at the start of a run. A flag the user gives always wins.
"""

import dataclasses
import logging
import math

logger = logging.getLogger("keras_transformer")

# The paper's schedule peaks at d^-0.5 * warmup^-0.5: 3.6e-3 for d = 256 after 300 steps, too
# high to be safe; a rule that caps the peak keeps it here.
PEAK_LEARNING_RATE = 2.5e-3


def by_size(count, *values):
    """The value for `count` (training pairs, documents or examples): three values split at
    100k and 1M; four at 10k, 100k and 1M."""
    thresholds = (100_000, 1_000_000) if len(values) == 3 else (10_000, 100_000, 1_000_000)
    return values[sum(count >= t for t in thresholds)]


def capped_scale(hidden_dim, warmup_steps):
    """The largest schedule scale up to 1 whose peak stays under `PEAK_LEARNING_RATE`."""
    peak = (hidden_dim * warmup_steps) ** -0.5
    return round(min(1.0, PEAK_LEARNING_RATE / peak), 3)


def warmup_steps(steps_per_epoch):
    """Half an epoch of optimizer steps, within 300-4000."""
    return min(4000, max(300, steps_per_epoch // 2))


def epochs_for(target_steps, steps_per_epoch):
    """Enough epochs for about `target_steps` steps, within 5-100."""
    return min(100, max(5, math.ceil(target_steps / steps_per_epoch)))


class Rule:
    """The settings chosen for one run: `choose` sets a field of `config` left unset and
    records why; `log` prints the choices (and the model chosen, if it was).

    Example:

    >>> import dataclasses
    >>> @dataclasses.dataclass(frozen=True)
    ... class Settings:
    ...     epochs: int | None = None
    ...     seed: int = 0
    >>> rule = Rule(Settings())
    >>> rule.choose("epochs", 10, "the built-in corpus")
    >>> rule.config, rule.notes
    (Settings(epochs=10, seed=0), [('epochs', 10, 'the built-in corpus')])
    """

    def __init__(self, config):
        self.config = config
        self.notes = []

    def choose(self, name, value, reason):
        if getattr(self.config, name) is None and value is not None:
            self.config = dataclasses.replace(self.config, **{name: value})
            self.notes.append((name, value, reason))

    def log(self, model_description=None, model_reason=None):
        """Prints (INFO) the settings chosen, so the user sees them and can override."""
        if not self.notes and model_reason is None:
            return
        logger.info("Settings chosen for this corpus (a flag overrides any of them):")
        for name, value, reason in self.notes:
            logger.info("  --%-24s %-14s (%s)", name.replace("_", "-"), value, reason)
        if model_reason is not None:
            logger.info("  model: %s (%s)", model_description, model_reason)
