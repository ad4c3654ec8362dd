"""`TransformerHyperModel`: keras-tuner builds and fits the models of every task (a
Transformer, a language model, a classifier) with the training recipe."""

import keras_tuner

from keras_transformer import tasks
from keras_transformer.models import TransformerConfig
from keras_transformer.training import TrainConfig
from keras_transformer.tuning.space import MODEL_NAMES, TRAINING_NAMES, heads_for, parse_space


class TransformerHyperModel(keras_tuner.HyperModel):
    """A keras-tuner `HyperModel` over the hyper-parameters of a task's model (the
    Transformer's, or a language model's or classifier's: the same names).

    `build(hp)` samples a configuration (num_heads only among the values that divide the
    sampled hidden_dim) and compiles the model with the package's loss, metric, optimizer and
    schedule; `fit(hp, model, ...)` trains it on the same length-bucketed pipeline as
    `train()`, with the sampled batch size.

    Args:
        space: search-space spec for `parse_space` (fix or narrow any entry). Defaults to
            `DEFAULT_SPACE`.
        base_config: the model configuration supplying everything not searched (vocabulary
            sizes, sequence length, ...). Defaults to `TransformerConfig.preset("tiny")`.
        train_config: `TrainConfig` supplying what is not searched (the task, clipnorm,
            precision).
        run: the prepared `Run` whose data trials fit on; needed by `fit`, not `build`.

    Example:

    >>> import keras_tuner
    >>> model = TransformerHyperModel().build(keras_tuner.HyperParameters())
    >>> model.name
    'transformer'
    """

    def __init__(self, space=None, base_config=None, train_config=None, run=None, **kwargs):
        super().__init__(**kwargs)
        self.space = parse_space(space)
        self.base_config = base_config or TransformerConfig.preset("tiny")
        self.train_config = train_config or TrainConfig()
        self.run = run
        self.task = tasks.get(self.train_config.task)

    def sample(self, hp):
        """The `(TransformerConfig, TrainConfig)` of the values `hp` holds (or draws)."""
        values = {}
        for name in MODEL_NAMES + TRAINING_NAMES:
            if name == "num_heads":
                continue
            values[name] = hp.Choice(name, self.space[name], ordered=_ordered(self.space[name]))
        # One head-count choice per hidden size, active only with it, holding only the
        # values that divide it (keras-tuner needs a distinct name for each).
        for candidate in self.space["hidden_dim"]:
            heads = heads_for(candidate, self.space)
            if heads:
                with hp.conditional_scope("hidden_dim", [candidate]):
                    hp.Choice(heads_name(candidate), heads, ordered=True)
        return self.configs(hp.values)

    def configs(self, values):
        """The `(TransformerConfig, TrainConfig)` of a dict of hyper-parameter values (e.g.
        a finished trial's `hyperparameters.values`)."""
        values = dict(values)
        hidden = values["hidden_dim"]
        values["num_heads"] = values.get(heads_name(hidden))
        if values["num_heads"] is None or hidden % values["num_heads"]:
            # No head count of the space divides this hidden size (parse_space allows it when
            # the heads divide other sizes): use its largest divisor among those heads, or 1.
            values["num_heads"] = max(heads_for(hidden, self.space) or [1])
        values["normalize_first"] = bool(values["normalize_first"])  # keras-tuner stores 0/1
        model_config = self.base_config.replace(**{k: values[k] for k in MODEL_NAMES})
        train_config = self.train_config.replace(**{k: values[k] for k in TRAINING_NAMES})
        return model_config, train_config

    def build(self, hp):
        model_config, train_config = self.sample(hp)
        return self.task.compile(self.task.build(model_config), model_config, train_config)

    def fit(self, hp, model, *args, **kwargs):
        """Fits a trial on the run's datasets (`Task.datasets`) with the task's callbacks and
        its validation scores in the logs (translation: the decoded sample's val_chrf and
        val_bleu), so any of the task's objectives can be read."""
        if self.run is None:
            raise ValueError("TransformerHyperModel.fit needs `run`, a prepared Run.")
        _, train_config = self.sample(hp)
        kwargs.setdefault("steps_per_epoch", train_config.steps_per_epoch)
        kwargs.setdefault("shuffle", False)
        train_data, validation_data, options = self.task.datasets(self.run, train_config)
        scores = self.task.selection(
            self.run, train_config.replace(early_stopping_patience=0),
            train_config.validation_sample, keep=False,
        )  # fmt: skip
        callbacks = [*self.task.callbacks(train_config), scores, *kwargs.pop("callbacks", [])]
        return model.fit(train_data, *args, validation_data=validation_data,
                         callbacks=callbacks, **options, **kwargs)  # fmt: skip


def heads_name(hidden_dim):
    """The keras-tuner name of the head count drawn with `hidden_dim`."""
    return f"num_heads_for_hidden_{hidden_dim}"


def _ordered(values):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
