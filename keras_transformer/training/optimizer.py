"""The paper's optimizer: Adam on the warm-up schedule, with gradient accumulation."""

import keras

from keras_transformer.training.schedules import TransformerSchedule


def make_optimizer(model_config, train_config):
    """The paper's optimizer: Adam(0.9, 0.98, 1e-9) on the warm-up schedule for the model's
    width; with `accumulate_gradients` K > 1, Adam averages K batches' gradients per update
    (Keras's gradient accumulation) and the schedule counts updates."""
    scale = train_config.learning_rate_scale
    accumulate = train_config.accumulate_gradients
    schedule = TransformerSchedule(
        model_config.hidden_dim,
        train_config.warmup_steps or 4000,  # unset only when called before `resolve`
        1.0 if scale is None else scale,
        steps_per_update=accumulate,
    )
    return keras.optimizers.Adam(
        schedule,
        beta_1=0.9,
        beta_2=0.98,
        epsilon=1e-9,
        global_clipnorm=train_config.clipnorm,
        gradient_accumulation_steps=accumulate if accumulate > 1 else None,
    )
