"""`SingleTokenizerTask`: the rule and preparation shared by the tasks with one tokenizer
(the language model and the classifier).

The rule (printed at the start of a run; a flag always wins), each task stating its numbers:

| setting | built-in corpus | the user's files |
|---|---|---|
| tokenizer | character | SentencePiece unigram |
| vocabulary | every character | 4k (N < 10k), 8k (< 100k), 16k (< 1M), 32k pieces |
| model | `tiny` | the task's (`choose_model`) |
| held out | the task's | 5 % each (hash of the text) |
| batch | the task's `batch_size` | the same |
| epochs | the task's `built_in_epochs` | about `target_steps` steps, within 5-100 |
| warm-up | half an epoch of steps, within 300-4000 | the same |
| learning rate | the paper's schedule, its peak capped at 2.5e-3 (`capped_peak`) | the same |
| early stopping | off | after 5 epochs without a better validation score (no time budget) |
| label smoothing | none | none |

N counts documents (lm) or training examples (classify).
"""

import abc
import logging

from keras_transformer.data.tokenizers import learn_tokenizer
from keras_transformer.tasks import rule as rules
from keras_transformer.tasks.base import Prepared, Task, describe_model

logger = logging.getLogger("keras_transformer")


class SingleTokenizerTask(Task):
    """A task whose examples are texts (and a label) read by one tokenizer."""

    batch_size = None
    built_in_epochs = None
    target_steps = None
    # Cap the schedule's peak at `rule.PEAK_LEARNING_RATE` (else the paper's schedule).
    capped_peak = True
    # Whether the built-in corpus has split sizes of its own (not fractions).
    built_in_sizes = False

    @abc.abstractmethod
    def read(self, train_config):
        """The splits of the corpus (`ExampleSplits`, or streamed)."""

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

    def labels(self, splits):
        return None

    def own_settings(self, rule, model_config):
        """Chooses the task's own settings (after the model is sized)."""

    def learning_examples(self, splits):
        """The training examples the tokenizer learns from (a streamed corpus's sample)."""
        return splits.sample if getattr(splits, "streamed", False) else splits.train

    def prepare(self, train_config, model_config=None, model_overrides=None):
        splits = self.read(train_config)
        labels = self.labels(splits)
        builtin = self.built_in(train_config)
        count = len(splits.train)
        rule = rules.Rule(train_config)
        kind = ("character", "the built-in corpus") if builtin else ("sentencepiece", "files")
        rule.choose("tokenizer", *kind)
        if not builtin:
            rule.choose(
                "max_vocabulary_size",
                rules.by_size(count, 4000, 8000, 16000, 32000),
                f"{count} training {self.examples}",
            )
        model_reason = None
        if model_config is None:
            model_config, model_reason = self.choose_model(train_config, splits)
        model_config = model_config.replace(**(model_overrides or {}))
        rule.choose("batch_size", self.batch_size, f"the {self.name} rule")
        rule.choose("label_smoothing", 0.0, "none: the loss stays the log-likelihood")
        config = rule.config
        tokenizer = learn_tokenizer(
            config.tokenizer,
            self.texts(self.learning_examples(splits)),
            vocabulary_size=config.max_vocabulary_size,
            lower_case=config.lower_case,
            model_type=config.sentencepiece_model,
            sample_size=config.tokenizer_sample,
            seed=config.seed,
        )
        model_config = self.sized(model_config, tokenizer, labels, splits)
        self.own_settings(rule, model_config)
        steps = self.steps_per_epoch(rule.config, model_config, tokenizer, splits)
        rule.choose("warmup_steps", rules.warmup_steps(steps),
                    f"half an epoch of {steps} steps, within 300-4000")  # fmt: skip
        epochs = self.built_in_epochs if builtin else rules.epochs_for(self.target_steps, steps)
        rule.choose("epochs", epochs, "the built-in corpus" if builtin
                    else f"about {self.target_steps} steps of {steps} per epoch")  # fmt: skip
        patience = 0 if builtin or rule.config.time_budget else 5
        patience_reason = "5 epochs without a better validation score" if patience else "off"
        rule.choose("early_stopping_patience", patience, patience_reason)
        rule.choose("average_last", 0, "translation only")
        if self.capped_peak:
            scale = rules.capped_scale(model_config.hidden_dim, rule.config.warmup_steps)
            rule.choose("learning_rate_scale", scale, f"peak {rules.PEAK_LEARNING_RATE:g}")
        rule.choose("learning_rate_scale", 1.0, "the paper's schedule")
        if not (builtin and self.built_in_sizes):  # those have sizes, not fractions
            for name in ("validation_fraction", "test_fraction"):
                rule.choose(name, 0.05, f"5 % of the {self.examples}")
        logger.info(
            "Learnt the %s tokenizer from %d training %s: %d tokens.",
            rule.config.tokenizer, count, self.examples, tokenizer.vocabulary_size,
        )  # fmt: skip
        rule.log(describe_model(model_config), model_reason)
        return Prepared(splits, tokenizer, None, rule.config, model_config, labels)

    def load_splits(self, directory):
        from keras_transformer.data.corpus import ExampleSplits

        return ExampleSplits.load(directory)

    def repeated(self, dataset, train_config):
        """`dataset`, repeated when `steps_per_epoch` sets the epoch's length."""
        return dataset.repeat() if train_config.steps_per_epoch else dataset
