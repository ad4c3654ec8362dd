"""The paper's learning-rate schedule with warm-up (Vaswani et al. 2017, Eq. 3)."""

import keras
from keras import ops

from keras_transformer.layers.validation import check_positive_float


@keras.saving.register_keras_serializable(package="keras_transformer")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """lrate = scale · d_model^-0.5 · min(step^-0.5, step · warmup_steps^-1.5)  (Eq. 3).

    The rate grows linearly for `warmup_steps` steps, then decays with the inverse square
    root of the step. Steps count from 1 (Keras passes the 0-based iteration count).

    Args:
        hidden_dim: int. d_model.
        warmup_steps: int. Defaults to `4000` (the paper's).
        scale: float. Multiplies the whole schedule. Defaults to `1.0`.
        steps_per_update: int. Batches per optimizer update under gradient accumulation: Keras
            passes the schedule its batch count, and the schedule counts updates. Defaults
            to `1`.

    Example:

    >>> schedule = TransformerSchedule(hidden_dim=512, warmup_steps=4000)
    >>> round(float(schedule(3999)), 6)  # the peak, at step 4000
    0.000699
    """

    def __init__(self, hidden_dim, warmup_steps=4000, scale=1.0, steps_per_update=1):
        self.hidden_dim = int(check_positive_float(hidden_dim, "hidden_dim"))
        self.warmup_steps = int(check_positive_float(warmup_steps, "warmup_steps"))
        self.scale = check_positive_float(scale, "scale")
        self.steps_per_update = int(check_positive_float(steps_per_update, "steps_per_update"))

    def __call__(self, step):
        if self.steps_per_update > 1:
            step = ops.floor_divide(step, self.steps_per_update)
        step = ops.cast(step, "float32") + 1.0
        rate = ops.minimum(ops.rsqrt(step), step * self.warmup_steps**-1.5)
        return self.scale * self.hidden_dim**-0.5 * rate

    def get_config(self):
        return {
            "hidden_dim": self.hidden_dim,
            "warmup_steps": self.warmup_steps,
            "scale": self.scale,
            "steps_per_update": self.steps_per_update,
        }
