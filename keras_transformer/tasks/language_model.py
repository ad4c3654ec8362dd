"""The language-model task (`--task lm`): a decoder-only `LanguageModel` trained on text
files (documents one per line or separated by blank lines), blocks of `block_size` tokens.

Its numbers for the rule (`tasks.single_tokenizer`): the `tiny` model under 1M training
characters, else `small`; 5 % of the documents held out each; batches of 32 blocks of
`sequence_length` tokens; 25 epochs on the built-in corpus, else about 30k steps; the
paper's schedule uncapped (the tiny model learns the built-in corpus faster).
"""

import logging
import math
import typing

import keras

from keras_transformer.data.text import load_documents, make_block_dataset
from keras_transformer.decoding.options import GENERATION_DEFAULTS
from keras_transformer.models import LanguageModel, LanguageModelConfig
from keras_transformer.tasks.single_tokenizer import SingleTokenizerTask
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy
from keras_transformer.training.metrics import MaskedAccuracy

logger = logging.getLogger("keras_transformer")


class LanguageModelTask(SingleTokenizerTask):
    name = "lm"
    title = "language-model"
    command = "generate"
    built_in_corpus = "python-docs"
    config_class = LanguageModelConfig
    model_class = LanguageModel
    examples = "documents"
    selection_metrics = ("loss",)
    objectives = ("val_loss", "val_masked_accuracy")
    settings: typing.ClassVar[dict] = {"block_size": (None,)}
    decoding_defaults = GENERATION_DEFAULTS
    reported_metrics = ("loss", "masked_accuracy", "perplexity", "val_loss",
                        "val_masked_accuracy", "val_perplexity")  # fmt: skip
    batch_size = 32
    built_in_epochs = 25
    target_steps = 30_000
    capped_peak = False

    def read(self, train_config):
        return load_documents(
            train_config.corpus, train_config.validation_fraction, train_config.test_fraction,
            seed=train_config.seed, sample_size=train_config.tokenizer_sample,
        )  # fmt: skip

    def texts(self, examples):
        return list(examples)

    def choose_model(self, train_config, splits):
        if self.built_in(train_config):
            return LanguageModelConfig.preset("tiny"), "the built-in corpus"
        if splits.streamed:  # counted while the corpus was surveyed
            characters = splits.train.characters
        else:
            characters = sum(len(d) for d in splits.train)
        preset = "tiny" if characters < 1_000_000 else "small"
        return LanguageModelConfig.preset(preset), f"{characters} training characters"

    def own_settings(self, rule, model_config):
        rule.choose("block_size", model_config.sequence_length, "the model's sequence_length")

    def steps_per_epoch(self, train_config, model_config, tokenizer, splits):
        train = self.learning_examples(splits)
        sample = list(train[:: max(1, len(train) // 2000)])  # spread over the file
        tokens = int(tokenizer.tokenize(sample).row_lengths().numpy().sum()) + 2 * len(sample)
        tokens *= len(splits.train) / max(len(sample), 1)
        blocks = tokens / (train_config.block_size or model_config.sequence_length) + 1
        return max(1, math.ceil(blocks / train_config.batch_size))

    def estimated_batches(self, run, train_config):
        return self.steps_per_epoch(train_config, run.model_config, run.tokenizer, run.splits)

    def loss(self, train_config):
        return MaskedSparseCategoricalCrossentropy(self.label_smoothing(train_config))

    def metrics(self):
        return [MaskedAccuracy()]

    def datasets(self, run, train_config=None, epoch=None, shard=(1, 0)):
        config, tokenizer = train_config or run.train_config, run.tokenizer
        block = config.block_size or run.model_config.sequence_length
        if block > run.model_config.sequence_length:
            raise ValueError(
                f"block_size={block} is longer than the model's sequence_length="
                f"{run.model_config.sequence_length}; lower --block-size or raise "
                "--sequence-length."
            )
        train = make_block_dataset(run.splits.train, tokenizer, block, config.batch_size,
                                   shuffle=True, seed=config.seed, epoch=epoch,
                                   **_shard(shard))  # fmt: skip
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
        return self.repeated(train, config), validation, {}

    def callbacks(self, train_config):
        return [Perplexity()] if not train_config.label_smoothing else []

    def evaluate(self, run, split="test", options=None, batch_size=64, progress=True,
                 limit=None, bleu_tokenize=None):  # fmt: skip
        from keras_transformer.evaluation.language_model import evaluate_language_model

        return evaluate_language_model(run, split, batch_size, limit, options=options)

    def report(self, run, results):
        from keras_transformer.evaluation.language_model import language_model_report

        return language_model_report(run.directory, results)

    def predictor(self, run, model=None):
        from keras_transformer.decoding import Generator

        return Generator(model or run.load_model(), run.tokenizer)

    def export_saved_model(self, run, directory, options=None, overwrite=False):
        from keras_transformer.export.language_model import export_language_model

        return export_language_model(run.load_model(), run.tokenizer, directory,
                                     options or self.decoding_defaults,
                                     overwrite=overwrite)  # fmt: skip


def _shard(shard):
    """The `shard` argument of a dataset maker, given only when it splits the data."""
    return {} if tuple(shard) == (1, 0) else {"shard": tuple(shard)}


class Perplexity(keras.callbacks.Callback):
    """Adds `perplexity` and `val_perplexity` (exp of the per-token losses, which are the
    negative log-likelihood without label smoothing) to each epoch's logs."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for prefix in ("", "val_"):
            if f"{prefix}loss" in logs:
                logs[f"{prefix}perplexity"] = math.exp(min(float(logs[f"{prefix}loss"]), 50.0))
