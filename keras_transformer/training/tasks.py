"""The language-model (`lm`) and classifier (`classify`) tasks of `train()`: their data read
and split, the settings the rule chooses for it, the tokenizer, the model, its loss and its
datasets. Translation's are `training.preparation` and `data.pipeline`.

The rule for these tasks (printed at the start of a run; a flag always wins):

| setting | built-in corpus | the user's files |
|---|---|---|
| tokenizer | character | SentencePiece unigram |
| vocabulary | every character | 4k (N < 10k), 8k (< 100k), 16k (< 1M), 32k pieces |
| model | `tiny` | `tiny` under 1M characters (lm) or 50k examples (classify), else `small` |
| held out | lm: 5 % of the documents each; classify: fixed sizes | 5 % each (hash of the text) |
| batch | lm: 32 blocks of `sequence_length` tokens; classify: 64 examples | the same |
| epochs | lm: 25; classify: 8 | lm: about 30k steps, classify about 10k, within 5-100 |
| warm-up | half an epoch of steps, within 300-4000 | the same |
| learning rate | lm: the paper's schedule; classify: its peak capped at 2.5e-3 | the same |
| early stopping | off | after 5 epochs without a better validation score (no time budget) |
| label smoothing | none | none |

N counts documents (lm) or training examples (classify).
"""

import abc
import dataclasses
import logging
import math

import keras

from keras_transformer.data.corpus import ExampleSplits, split_examples
from keras_transformer.data.date_validity import generate_date_validity
from keras_transformer.data.labelled import (
    balanced_class_weight,
    class_counts,
    label_vocabulary,
    make_classification_dataset,
    read_labelled,
)
from keras_transformer.data.text import make_block_dataset, read_documents
from keras_transformer.data.tokenizers import learn_tokenizer
from keras_transformer.models import (
    Classifier,
    ClassifierConfig,
    LanguageModel,
    LanguageModelConfig,
)
from keras_transformer.training import defaults
from keras_transformer.training.config import BUILT_IN_CORPORA
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy
from keras_transformer.training.metrics import MaskedAccuracy

logger = logging.getLogger("keras_transformer")

# Classes this many times rarer than the most frequent one are reported as an imbalance.
IMBALANCE_RATIO = 3.0


@dataclasses.dataclass
class TaskData:
    """A prepared task's splits, tokenizer, labels (classify) and resolved configs."""

    splits: ExampleSplits
    tokenizer: object
    train_config: object
    model_config: object
    labels: list | None = None


class _Task(abc.ABC):
    """What `train()` needs of a task besides translation."""

    name = None
    examples = "examples"  # what the corpus is made of
    config_class = None
    model_class = None
    batch_size = None
    built_in_epochs = None
    target_steps = None
    # Cap the schedule's peak at `defaults.PEAK_LEARNING_RATE` (else the paper's schedule).
    capped_peak = True

    def built_in(self, train_config):
        return train_config.corpus == BUILT_IN_CORPORA[self.name]

    @abc.abstractmethod
    def read(self, train_config):
        """The `ExampleSplits` of the corpus."""

    @abc.abstractmethod
    def texts(self, examples):
        """The strings of `examples` a tokenizer learns from."""

    @abc.abstractmethod
    def choose_model(self, train_config, splits):
        """`(config, reason)`: the preset the rule gives the corpus."""

    def sized(self, model_config, tokenizer, labels, splits):
        """`model_config` with what the data decides (vocabulary, classes, segments)."""
        return model_config.replace(vocabulary_size=tokenizer.vocabulary_size)

    @abc.abstractmethod
    def steps_per_epoch(self, train_config, model_config, tokenizer, splits):
        """Optimizer steps in one pass over the training split (an estimate for lm)."""

    def prepare(self, train_config, model_config=None, model_overrides=None):
        """Reads and splits the corpus, learns the tokenizer from the training split, and
        chooses (and logs) every setting left unset. Returns `TaskData`."""
        splits = self.read(train_config)
        labels = self.labels(splits)
        builtin = self.built_in(train_config)
        count = len(splits.train)
        notes = []

        def choose(name, value, reason):
            nonlocal train_config
            if getattr(train_config, name) is None:
                train_config = train_config.replace(**{name: value})
                notes.append((name, value, reason))

        kind = ("character", "the built-in corpus") if builtin else ("sentencepiece", "files")
        choose("tokenizer", *kind)
        if not builtin:
            choose(
                "max_vocabulary_size",
                defaults.by_size(count, 4000, 8000, 16000, 32000),
                f"{count} training {self.examples}",
            )
        model_reason = None
        if model_config is None:
            model_config, model_reason = self.choose_model(train_config, splits)
        model_config = model_config.replace(**(model_overrides or {}))
        choose("batch_size", self.batch_size, f"the {self.name} rule")
        choose("label_smoothing", 0.0, "none: the loss stays the log-likelihood")
        tokenizer = learn_tokenizer(
            train_config.tokenizer,
            self.texts(splits.train),
            vocabulary_size=train_config.max_vocabulary_size,
            lower_case=train_config.lower_case,
            model_type=train_config.sentencepiece_model,
            sample_size=train_config.tokenizer_sample,
            seed=train_config.seed,
        )
        model_config = self.sized(model_config, tokenizer, labels, splits)
        if self.name == "lm":
            choose("block_size", model_config.sequence_length, "the model's sequence_length")
        steps = self.steps_per_epoch(train_config, model_config, tokenizer, splits)
        choose("warmup_steps", min(4000, max(300, steps // 2)),
               f"half an epoch of {steps} steps, within 300-4000")  # fmt: skip
        epochs = (self.built_in_epochs if builtin
                  else min(100, max(5, math.ceil(self.target_steps / steps))))  # fmt: skip
        choose("epochs", epochs, "the built-in corpus" if builtin
               else f"about {self.target_steps} steps of {steps} per epoch")  # fmt: skip
        patience = 0 if builtin or train_config.time_budget else 5
        choose("early_stopping_patience", patience,
               "5 epochs without a better validation score" if patience else "off")  # fmt: skip
        choose("average_last", 0, "translation only")
        if train_config.learning_rate_scale is None and self.capped_peak:
            peak = (model_config.hidden_dim * train_config.warmup_steps) ** -0.5
            scale = round(min(1.0, defaults.PEAK_LEARNING_RATE / peak), 3)
            choose("learning_rate_scale", scale, f"peak {defaults.PEAK_LEARNING_RATE:g}")
        choose("learning_rate_scale", 1.0, "the paper's schedule")
        if not (builtin and self.name == "classify"):  # that one has sizes, not fractions
            for name in ("validation_fraction", "test_fraction"):
                choose(name, 0.05, f"5 % of the {self.examples}")
        logger.info(
            "Learnt the %s tokenizer from %d training %s: %d tokens.",
            train_config.tokenizer, count, self.examples, tokenizer.vocabulary_size,
        )  # fmt: skip
        defaults.log_choices(notes, None, None)
        if model_reason is not None:
            logger.info("  model: %s (%s)", _describe(model_config), model_reason)
        return TaskData(splits, tokenizer, train_config, model_config, labels)

    def labels(self, splits):
        return None

    def build(self, model_config):
        return self.model_class(model_config)

    def compile(self, model, model_config, train_config):
        from keras_transformer.training.trainer import make_optimizer

        model.compile(
            optimizer=make_optimizer(model_config, train_config),
            loss=self.loss(train_config),
            metrics=self.metrics(),
            jit_compile=train_config.jit_compile,
        )
        return model

    @abc.abstractmethod
    def datasets(self, run, train_config=None, epoch=None):
        """`(train, validation or None, fit keyword arguments)` of a prepared run, with the
        batch size of `train_config` (default: the run's); `epoch` keys the training data's
        order to the epoch (`data.pipeline.seeded_passes`)."""

    def callbacks(self, train_config):
        return []


def _describe(config):
    return (
        f"{config.num_layers} layers, hidden {config.hidden_dim}, feed-forward "
        f"{config.intermediate_dim}, {config.num_heads} heads, dropout {config.dropout}, "
        f"{config.sequence_length} positions"
    )


def _split(examples, train_config, key=None):
    given = (train_config.validation_fraction, train_config.test_fraction)
    fractions = [0.05 if f is None else f for f in given]
    train, validation, test = split_examples(examples, *fractions, seed=train_config.seed, key=key)
    return ExampleSplits(train, validation, test)


class LanguageModelTask(_Task):
    name = "lm"
    examples = "documents"
    config_class = LanguageModelConfig
    model_class = LanguageModel
    batch_size = 32
    built_in_epochs = 25
    target_steps = 30_000
    # Uncapped: the tiny model learns the built-in corpus faster (README, Results).
    capped_peak = False

    def read(self, train_config):
        return _split(read_documents(train_config.corpus), train_config)

    def texts(self, examples):
        return list(examples)

    def choose_model(self, train_config, splits):
        if self.built_in(train_config):
            return LanguageModelConfig.preset("tiny"), "the built-in corpus"
        characters = sum(len(d) for d in splits.train)
        preset = "tiny" if characters < 1_000_000 else "small"
        return LanguageModelConfig.preset(preset), f"{characters} training characters"

    def steps_per_epoch(self, train_config, model_config, tokenizer, splits):
        sample = splits.train[:: max(1, len(splits.train) // 2000)]  # spread over the file
        tokens = int(tokenizer.tokenize(sample).row_lengths().numpy().sum()) + 2 * len(sample)
        tokens *= len(splits.train) / max(len(sample), 1)
        blocks = tokens / (train_config.block_size or model_config.sequence_length) + 1
        return max(1, math.ceil(blocks / train_config.batch_size))

    def loss(self, train_config):
        return MaskedSparseCategoricalCrossentropy(train_config.label_smoothing)

    def metrics(self):
        return [MaskedAccuracy()]

    def datasets(self, run, train_config=None, epoch=None):
        config, tokenizer = train_config or run.train_config, run.tokenizer
        block = config.block_size or run.model_config.sequence_length
        if block > run.model_config.sequence_length:
            raise ValueError(
                f"block_size={block} is longer than the model's sequence_length="
                f"{run.model_config.sequence_length}; lower --block-size or raise "
                "--sequence-length."
            )
        train = make_block_dataset(run.splits.train, tokenizer, block, config.batch_size,
                                   shuffle=True, seed=config.seed, epoch=epoch)  # fmt: skip
        validation = None
        if run.splits.validation:
            try:
                validation = make_block_dataset(
                    run.splits.validation, tokenizer, block, config.batch_size, shuffle=False
                )
            except ValueError:
                logger.warning(
                    "The validation documents make less than one block of %d tokens: no "
                    "validation loss; the last epoch's weights are kept.", block + 1,
                )  # fmt: skip
        return train, validation, {}

    def callbacks(self, train_config):
        return [Perplexity()] if not train_config.label_smoothing else []


class Perplexity(keras.callbacks.Callback):
    """Adds `perplexity` and `val_perplexity` (exp of the per-token losses, which are the
    negative log-likelihood without label smoothing) to each epoch's logs."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for prefix in ("", "val_"):
            if f"{prefix}loss" in logs:
                logs[f"{prefix}perplexity"] = math.exp(min(float(logs[f"{prefix}loss"]), 50.0))


class ClassifierTask(_Task):
    name = "classify"
    config_class = ClassifierConfig
    model_class = Classifier
    batch_size = 64
    built_in_epochs = 8
    target_steps = 10_000

    def read(self, train_config):
        if self.built_in(train_config):
            train, validation, test = generate_date_validity(
                train_config.train_size, train_config.validation_size,
                train_config.test_size, seed=train_config.seed,
            )  # fmt: skip
            return ExampleSplits(train, validation, test)
        examples = read_labelled(train_config.corpus, train_config.skip_malformed)
        return _split(examples, train_config, key=lambda example: example[:-1])

    def labels(self, splits):
        labels = label_vocabulary(splits.train)
        counts = class_counts(splits.train, labels)
        logger.info(
            "Classes in the training split: %s.",
            ", ".join(f"{label} {count}" for label, count in counts.items()),
        )
        rarest, commonest = min(counts.values()), max(counts.values())
        if commonest >= IMBALANCE_RATIO * max(rarest, 1):
            logger.warning(
                "The classes are imbalanced: the most frequent has %.1f times the examples of "
                "the rarest. Accuracy flatters the frequent classes: read macro-F1 in "
                "`evaluate`, and consider --class-weight balanced.",
                commonest / max(rarest, 1),
            )
        missing = sorted({e[-1] for e in splits.validation + splits.test} - set(labels))
        if missing:
            logger.warning("Held-out labels never seen in training (scored as errors): %s.",
                           missing)  # fmt: skip
        return labels

    def texts(self, examples):
        return [text for example in examples for text in example[:-1]]

    def choose_model(self, train_config, splits):
        count = len(splits.train)
        if self.built_in(train_config):
            return ClassifierConfig.preset("tiny"), "the built-in task"
        preset = "tiny" if count < 50_000 else "small"
        return ClassifierConfig.preset(preset), f"{count} training examples"

    def sized(self, model_config, tokenizer, labels, splits):
        segments = 2 if len(splits.train[0]) == 3 else 0
        return model_config.replace(
            vocabulary_size=tokenizer.vocabulary_size, num_classes=len(labels), segments=segments
        )

    def steps_per_epoch(self, train_config, model_config, tokenizer, splits):
        return max(1, math.ceil(len(splits.train) / train_config.batch_size))

    def loss(self, train_config):
        return keras.losses.CategoricalCrossentropy(label_smoothing=train_config.label_smoothing)

    def metrics(self):
        return [keras.metrics.CategoricalAccuracy(name="accuracy")]

    def datasets(self, run, train_config=None, epoch=None):
        config, labels = train_config or run.train_config, run.labels
        length = run.model_config.sequence_length

        def dataset(examples, shuffle):
            data = make_classification_dataset(
                examples, run.tokenizer, labels, length, config.batch_size, shuffle=shuffle,
                seed=config.seed, known_only=not shuffle, epoch=epoch if shuffle else None,
            )  # fmt: skip
            return data.map(lambda x, y: (x, keras.ops.one_hot(y, len(labels))))

        validation = dataset(run.splits.validation, False) if run.splits.validation else None
        options = {}
        if config.class_weight == "balanced":
            options["class_weight"] = balanced_class_weight(run.splits.train, labels)
            weights = options["class_weight"]
            shown = ", ".join(f"{label} {weights[i]:.3g}" for i, label in enumerate(labels))
            logger.info("Class weights (balanced): %s.", shown)
        return dataset(run.splits.train, True), validation, options


TASK_OBJECTS = {"lm": LanguageModelTask(), "classify": ClassifierTask()}
