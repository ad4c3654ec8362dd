"""`Task`: what one model family (translation, language model, classifier) brings to the
pipeline. `train`, `evaluate`, `tune`, `export`, `Run` and the command line ask the run's
task (`keras_transformer.tasks.of(run)`) and never name one.
"""

import abc
import dataclasses
import math
import typing

from keras_transformer.training.optimizer import make_optimizer


@dataclasses.dataclass
class Prepared:
    """A prepared task's splits, tokenizer(s), labels (a classifier) and resolved configs.

    `target` is None for a task with one tokenizer (`source` is it)."""

    splits: object
    source: object
    target: object
    train_config: object
    model_config: object
    labels: list | None = None


class Task(abc.ABC):
    """A model family: its corpus, settings rule, tokenizers, model, loss and metrics,
    datasets, callbacks, evaluation and report, predictor and exports."""

    name = None  # the `--task` value
    title = None  # in words: "translation"
    command = None  # the command that uses a trained run: translate, generate, classify
    built_in_corpus = None  # the corpus a run trains on when none is given
    config_class = None  # the model's configuration class
    model_class = None
    examples = "examples"  # what the corpus is made of
    tokenizers = 1  # 2: a source and a target tokenizer
    labelled = False  # whether its runs hold labels (labels.json)
    # The validation scores that may select the kept model (the default first).
    selection_metrics = ("loss",)
    # The objectives `tune` offers (the default, the task's selection score, first) and
    # whether each is maximized.
    objectives = ("val_loss",)
    # TrainConfig fields only this task uses, with their values that mean "not set".
    settings: typing.ClassVar[dict] = {}
    # How the task's predictor decodes unless told otherwise (None: it does not decode).
    decoding_defaults = None
    # The logs `train` prints at the end.
    reported_metrics = ("loss", "val_loss")

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"

    def built_in(self, train_config):
        return train_config.corpus == self.built_in_corpus

    # === Preparing a run ===

    @abc.abstractmethod
    def prepare(self, train_config, model_config=None, model_overrides=None):
        """Reads and splits the corpus (or surveys it, when streamed), chooses every setting
        left unset (printing the choices) and learns the tokenizer(s) from the training
        split. Returns `Prepared`."""

    @abc.abstractmethod
    def load_splits(self, directory):
        """The splits a prepared run saved in `directory`."""

    def label_smoothing(self, train_config):
        """The run's label smoothing: the one set, else none (the loss stays the
        log-likelihood)."""
        return train_config.label_smoothing or 0.0

    # === Training ===

    def build(self, model_config):
        return self.model_class(model_config)

    @abc.abstractmethod
    def loss(self, train_config):
        """The Keras loss of the task's model."""

    @abc.abstractmethod
    def metrics(self):
        """The Keras metrics `fit` reports."""

    def compile(self, model, model_config, train_config):
        """Compiles with the paper's optimizer and schedule and the task's loss and metrics."""
        model.compile(
            optimizer=make_optimizer(model_config, train_config),
            loss=self.loss(train_config),
            metrics=self.metrics(),
            jit_compile=train_config.jit_compile,
        )
        return model

    @abc.abstractmethod
    def datasets(self, run, train_config=None, epoch=None, shard=(1, 0)):
        """`(train, validation or None, fit keyword arguments)` of a prepared run, with the
        batch size of `train_config` (default: the run's). `epoch` keys the training data's
        order to the epoch (`data.pipeline.seeded_passes`); `shard=(count, index)` is this
        worker's share of the training data; with `steps_per_epoch` the training data
        repeats."""

    def callbacks(self, train_config):
        """Callbacks that add the task's own logs (placed before the selection and history)."""
        return []

    def selection(self, run, train_config, sample_size, keep=True):
        """The `ValidationScores` callback that adds the task's validation scores to the
        logs (decoding `sample_size` validation examples where the score needs it) and, with
        `keep`, keeps the best epoch's weights in the run's checkpoints."""
        from keras_transformer.training.selection import ValidationScores

        return ValidationScores(
            (), None, None, run.checkpoints if keep else None,
            metric=train_config.selection_metric, sample_size=0,
            patience=train_config.early_stopping_patience,
        )  # fmt: skip

    def estimated_batches(self, run, train_config):
        """Batches in one pass over a streamed training split."""
        return max(1, math.ceil(len(run.splits.train) / train_config.batch_size))

    # === Using a trained run ===

    @abc.abstractmethod
    def evaluate(self, run, split="test", options=None, batch_size=64, progress=True,
                 limit=None, bleu_tokenize=None):  # fmt: skip
        """The run's scores on one of its splits (a dict; `report` prints it)."""

    @abc.abstractmethod
    def report(self, run, results):
        """`evaluate`'s results in words (what `keras-transformer evaluate` prints)."""

    @abc.abstractmethod
    def predictor(self, run, model=None):
        """What the task's command uses: a `Translator`, `Generator` or `TextClassifier` of
        the run's model (or `model`) and tokenizers."""

    @abc.abstractmethod
    def export_saved_model(self, run, directory, options=None, overwrite=False):
        """Writes a SavedModel that serves the task on strings; returns its path."""

    def check_run(self, run, needed_by):
        """Raises ValueError unless `run` is a run of this task (`needed_by`: what needs it)."""
        from keras_transformer.tasks.registry import of

        task = of(run)
        if task is not self:
            raise ValueError(
                f"{run.directory} is a {task.title} run (task {task.name!r}); {needed_by} "
                f"needs a {self.title} run (task {self.name!r}). Use `keras-transformer "
                f"{task.command} {run.directory} ...` with this run, or train one with "
                f"`keras-transformer train --task {self.name}`."
            )


def describe_model(config):
    """A model configuration in words (what the rule prints)."""
    shared = ", shared embeddings" if getattr(config, "share_embeddings", False) else ""
    return (
        f"{config.num_layers} layers, hidden {config.hidden_dim}, feed-forward "
        f"{config.intermediate_dim}, {config.num_heads} heads, dropout {config.dropout}{shared}, "
        f"{config.sequence_length} positions"
    )
