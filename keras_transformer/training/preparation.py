"""Preparing a run's data and settings: the corpus read and split (or surveyed, when it is
streamed), the settings left unset chosen by the rule (`training.defaults`), and the
tokenizers learnt from the training split."""

import dataclasses
import logging
import time

import numpy as np

from keras_transformer.data.corpus import Splits, load_corpus
from keras_transformer.data.pipeline import default_bucket_boundaries, token_batch_sizes
from keras_transformer.data.tokenizers import Tokenizer, learn_tokenizer
from keras_transformer.evaluation.scores import choose_bleu_tokenize
from keras_transformer.models import TransformerConfig
from keras_transformer.training import defaults
from keras_transformer.training.config import TrainConfig

logger = logging.getLogger("keras_transformer")


@dataclasses.dataclass
class PreparedData:
    """The splits, the tokenizers learnt from the training split, and the configs with every
    setting left to the rule chosen (`keras_transformer.training.defaults`)."""

    splits: Splits
    source: Tokenizer
    target: Tokenizer
    train_config: TrainConfig
    model_config: TransformerConfig


def some_pairs(splits, count=2000):
    """Up to `count` training pairs: the first ones, or the tokenizer sample's if streamed."""
    pairs = splits.sample if splits.streamed else splits.train
    return list(pairs[:count])


def resolve_configs(train_config, model_config, splits, model_overrides=None,
                    pairs_per_batch=None, log=True):  # fmt: skip
    """The configs with their unset settings chosen for `splits` (logged when `log`)."""
    train_pairs = len(splits.train)
    train_config, notes = defaults.resolve(train_config, train_pairs, pairs_per_batch)
    if splits.rule is not None:
        for name in ("validation_fraction", "test_fraction"):
            if getattr(train_config, name) is None:
                value = getattr(splits.rule, name)
                train_config = train_config.replace(**{name: value})
                notes.append((name, value, "5 % up to 100k lines, then ~5000 pairs"))
    if train_config.bleu_tokenize is None:
        tokenize = choose_bleu_tokenize([t for _, t in some_pairs(splits)])
        train_config = train_config.replace(bleu_tokenize=tokenize)
        notes.append(("bleu_tokenize", tokenize, "the script of the targets"))
    model_reason = None
    if model_config is None:
        model_config = defaults.choose_model(train_config, train_pairs)
        model_reason = f"{train_pairs} training pairs"
        if train_config.time_budget is not None:
            model_reason += f", a {train_config.time_budget:g}-minute budget"
    model_config = model_config.replace(**(model_overrides or {}))
    if train_config.learning_rate_scale is None:
        scale = defaults.learning_rate_scale(train_config, model_config)
        train_config = train_config.replace(learning_rate_scale=scale)
        reason = "the paper's" if scale == 1 else f"peak {defaults.PEAK_LEARNING_RATE:g}"
        notes.append(("learning_rate_scale", scale, reason))
    if log:
        defaults.log_choices(notes, model_config, model_reason)
    return train_config, model_config


def pairs_per_token_batch(pairs, tokenizer, target_tokenizer, sequence_length, batch_tokens):
    """The mean number of pairs in a batch of about `batch_tokens` tokens, from the
    tokenized lengths of `pairs` (a sample)."""
    boundaries = default_bucket_boundaries(sequence_length)
    sizes = token_batch_sizes(batch_tokens, boundaries, sequence_length)
    sources = tokenizer.tokenize([s for s, _ in pairs]).row_lengths().numpy()
    targets = target_tokenizer.tokenize([t for _, t in pairs]).row_lengths().numpy() + 1
    lengths = np.minimum(np.maximum(sources, targets), sequence_length)
    buckets = np.searchsorted(boundaries, lengths, side="right")
    return float(1.0 / np.mean(1.0 / np.array(sizes)[buckets]))


def prepare_data(train_config, model_config=None, model_overrides=None):
    """Reads and splits the corpus (or surveys it, when it is streamed), chooses the unset
    settings, and learns the tokenizers from the training split only (one joint tokenizer
    when the embeddings are shared), or from a seeded sample of it.

    Returns:
        `PreparedData`; its `model_config` has the tokenizers' vocabulary sizes.
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
    return PreparedData(splits, source, target, train_config, model_config)


def sized_config(model_config, source, target):
    """`model_config` with the vocabulary sizes of the tokenizers."""
    return model_config.replace(
        vocabulary_size=source.vocabulary_size,
        target_vocabulary_size=None if model_config.share_embeddings else target.vocabulary_size,
    )
