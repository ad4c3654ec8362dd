"""The translation task (`--task translate`, the default): an encoder-decoder `Transformer`
trained on pairs (`source<TAB>target` TSV files, streamed above 200k lines), selected by the
validation chrF of decoded translations. Its rule is `tasks.translation_rule`."""

import dataclasses
import logging
import time
import typing

from keras_transformer.data.corpus import Splits, load_corpus
from keras_transformer.data.pipeline import make_dataset
from keras_transformer.data.tokenizers import learn_tokenizer
from keras_transformer.decoding.options import TRANSLATION_DEFAULTS
from keras_transformer.models import Transformer, TransformerConfig
from keras_transformer.tasks.base import Prepared, Task
from keras_transformer.tasks.translation_rule import (
    pairs_per_token_batch,
    resolve_configs,
    sized_config,
    some_pairs,
)
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy
from keras_transformer.training.metrics import MaskedAccuracy

logger = logging.getLogger("keras_transformer")


class TranslationTask(Task):
    name = "translate"
    title = "translation"
    command = "translate"
    built_in_corpus = "dates"
    config_class = TransformerConfig
    model_class = Transformer
    examples = "pairs"
    tokenizers = 2
    selection_metrics = ("chrf", "bleu", "loss")
    objectives = ("val_chrf", "val_bleu", "val_masked_accuracy", "val_loss")
    settings: typing.ClassVar[dict] = {
        "bleu_tokenize": (None,),
        "validation_sample": (500,),  # the field's default
        "average_last": (None, 0, 1),  # averaging scores decoded translations
        "batch_tokens": (None,),
        "padding": ("bucketed",),  # the field's default
    }
    decoding_defaults = TRANSLATION_DEFAULTS
    reported_metrics = ("loss", "masked_accuracy", "val_loss", "val_masked_accuracy",
                        "val_bleu", "val_chrf")  # fmt: skip

    def prepare(self, train_config, model_config=None, model_overrides=None):
        """Reads and splits the corpus (or surveys it, when it is streamed), chooses the unset
        settings, and learns the tokenizers from the training split only (one joint tokenizer
        when the embeddings are shared), or from a seeded sample of it.

        Returns:
            `Prepared`; its `model_config` has the tokenizers' vocabulary sizes.
        """
        given, given_model = train_config, model_config
        shared = (model_overrides or {}).get(
            "share_embeddings",
            model_config.share_embeddings if model_config else train_config.corpus != "dates",
        )
        # A joint tokenizer learns from both sides: half as many pairs give the sample's sentences.
        sample_pairs = train_config.tokenizer_sample // (2 if shared else 1)
        splits = load_corpus(
            train_config.corpus,
            train_size=train_config.train_size,
            validation_size=train_config.validation_size,
            test_size=train_config.test_size,
            validation_fraction=train_config.validation_fraction,
            test_fraction=train_config.test_fraction,
            skip_malformed=train_config.skip_malformed,
            seed=train_config.seed,
            sample_pairs=sample_pairs,
        )
        tokens_later = train_config.batch_tokens is not None
        train_config, model_config = resolve_configs(
            train_config, model_config, splits, model_overrides, log=not tokens_later
        )
        options = dict(
            vocabulary_size=train_config.max_vocabulary_size,
            lower_case=train_config.lower_case,
            model_type=train_config.sentencepiece_model,
            sample_size=train_config.tokenizer_sample,
            seed=train_config.seed,
        )
        kind = train_config.tokenizer
        pairs = splits.sample if splits.streamed else splits.train
        started = time.perf_counter()
        if model_config.share_embeddings:
            joint = [text for pair in pairs for text in pair]
            source = target = learn_tokenizer(kind, joint, **options)
        else:
            source = learn_tokenizer(kind, [s for s, _ in pairs], **options)
            target = learn_tokenizer(kind, [t for _, t in pairs], **options)
        logger.info(
            "Learnt the %s tokenizer%s in %.0f s from %d pairs: %d%s tokens.",
            kind, "" if source is target else "s", time.perf_counter() - started, len(pairs),
            source.vocabulary_size,
            "" if source is target else f" + {target.vocabulary_size}",
        )  # fmt: skip
        if tokens_later:  # the steps per epoch need the pairs per batch, from tokenized lengths
            per_batch = pairs_per_token_batch(
                some_pairs(splits), source, target, model_config.sequence_length,
                train_config.batch_tokens,
            )  # fmt: skip
            # The rule gives the same tokenizer and model again (they depend on the pair count).
            train_config, model_config = resolve_configs(
                given, given_model, splits, model_overrides, pairs_per_batch=per_batch
            )
        model_config = sized_config(model_config, source, target)
        if splits.streamed:  # the sample has served; keep a few pairs for estimates, not all
            splits = dataclasses.replace(splits, sample=splits.sample[:2000])
        return Prepared(splits, source, target, train_config, model_config)

    def load_splits(self, directory):
        return Splits.load(directory)

    def label_smoothing(self, train_config):
        """The one set, else the paper's 0.1."""
        smoothing = train_config.label_smoothing
        return 0.1 if smoothing is None else smoothing

    def loss(self, train_config):
        return MaskedSparseCategoricalCrossentropy(self.label_smoothing(train_config))

    def metrics(self):
        return [MaskedAccuracy()]

    def datasets(self, run, train_config=None, epoch=None, shard=(1, 0)):
        train_config, splits = train_config or run.train_config, run.splits
        source, target = run.source_tokenizer, run.target_tokenizer
        batching = dict(
            batch_size=train_config.batch_size,
            batch_tokens=train_config.batch_tokens,
            seed=train_config.seed,
            padding=train_config.padding,
        )
        length = run.model_config.sequence_length
        train_data = make_dataset(
            splits.train, source, target, length, shuffle=True, shard=tuple(shard),
            epoch=epoch, repeat=bool(train_config.steps_per_epoch), **batching,
        )  # fmt: skip
        validation_data = None
        if splits.validation:
            validation_data = make_dataset(
                splits.validation, source, target, length, shuffle=False, **batching
            )
        return train_data, validation_data, {}

    def selection(self, run, train_config, sample_size, keep=True):
        from keras_transformer.training.selection import ValidationScores

        return ValidationScores(
            run.splits.validation, run.source_tokenizer, run.target_tokenizer,
            run.checkpoints if keep else None, metric=train_config.selection_metric,
            sample_size=sample_size, patience=train_config.early_stopping_patience,
            bleu_tokenize=train_config.bleu_tokenize,
        )  # fmt: skip

    def estimated_batches(self, run, train_config):
        per_batch = train_config.batch_size
        if train_config.batch_tokens:
            splits = run.splits
            pairs = some_pairs(splits) or splits.validation[:2000]
            per_batch = pairs_per_token_batch(
                pairs, run.source_tokenizer, run.target_tokenizer,
                run.model_config.sequence_length, train_config.batch_tokens,
            )  # fmt: skip
        return max(1, int(-(-len(run.splits.train) // per_batch)))

    def evaluate(self, run, split="test", options=None, batch_size=64, progress=True,
                 limit=None, bleu_tokenize=None):  # fmt: skip
        from keras_transformer.evaluation.translation import evaluate_translation

        return evaluate_translation(run, split, options, batch_size, progress, limit,
                                    bleu_tokenize)  # fmt: skip

    def report(self, run, results):
        from keras_transformer.evaluation.translation import translation_report

        return translation_report(run.directory, results)

    def predictor(self, run, model=None):
        from keras_transformer.decoding import Translator

        return Translator(model or run.load_model(), run.source_tokenizer, run.target_tokenizer)

    def export_saved_model(self, run, directory, options=None, overwrite=False):
        from keras_transformer.export.saved_model import export_saved_model

        return export_saved_model(run.directory, directory, options or self.decoding_defaults,
                                  overwrite=overwrite)  # fmt: skip
