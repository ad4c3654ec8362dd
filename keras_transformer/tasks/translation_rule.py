"""The translation task's rule: the settings `train` chooses for a corpus of pairs when the
user leaves them unset (`tasks.rule` records and prints them).

The rule (printed at the start of every run, and listed in docs/training-rule.md):

| setting | built-in `dates` | a TSV corpus of N training pairs |
|---|---|---|
| tokenizer | character | SentencePiece unigram, one joint source+target vocabulary |
| vocabulary | every character | 4k (N < 10k), 8k (< 100k), 16k (< 1M), 32k pieces |
| model | `tiny` | `small` (N < 100k), `medium` (< 1M), `base` (the paper's) |
| layers | the preset's | the preset's; `small` gets 2, not 3, with a budget under an hour |
| embeddings | separate | shared source/target, tied output projection (the paper's) |
| batch | 64 pairs | 64 (N < 100k), 128 (< 1M), 256 pairs (none with `--batch-tokens`) |
| held out | fixed sizes | 5 % each up to 100k lines, then about 5,000 pairs each |
| warm-up | 4000 steps | half an epoch of steps, between 300 and 4000 (steps are updates) |
| learning rate | the paper's schedule | the paper's schedule, its peak capped at 2.5e-3 |
| epochs | 10 | enough for about 30k steps, between 5 and 100 |
| early stopping | off | after 5 epochs without a better validation chrF (no time budget) |
| checkpoint averaging | off | the last 5 epochs, kept only if it scores better |

A flag the user gives always wins over the rule; `--preset` or `--config` fixes the model.
"""

import math

import numpy as np

from keras_transformer.data.pipeline import default_bucket_boundaries, token_batch_sizes
from keras_transformer.evaluation.scores import choose_bleu_tokenize
from keras_transformer.models import TransformerConfig
from keras_transformer.tasks.rule import (
    PEAK_LEARNING_RATE,
    Rule,
    by_size,
    capped_scale,
    epochs_for,
    warmup_steps,
)

_TARGET_STEPS = 30_000
# With a time budget shorter than this (minutes), the small model has 2 layers, not 3: in
# 1,300 CPU-seconds on eng-jpn it reached a better validation chrF (benchmarks/README.md).
SHORT_BUDGET_MINUTES = 60


def choose_model(train_config, train_pairs):
    """The `TransformerConfig` the rule gives a corpus (before the vocabulary size is known)."""
    if train_config.corpus == "dates":
        return TransformerConfig.preset("tiny")
    preset = by_size(train_pairs, "small", "medium", "base")
    config = TransformerConfig.preset(preset, share_embeddings=True, tie_output_projection=True)
    budget = train_config.time_budget
    if preset == "small" and budget is not None and budget < SHORT_BUDGET_MINUTES:
        config = config.replace(num_layers=2)
    return config


def learning_rate_scale(train_config, model_config):
    """The schedule's scale: 1 (the paper's) for the built-in corpus; for a TSV corpus the
    largest scale up to 1 whose peak stays under `PEAK_LEARNING_RATE`."""
    if train_config.corpus == "dates":
        return 1.0
    return capped_scale(model_config.hidden_dim, train_config.warmup_steps)


def resolve(train_config, train_pairs, pairs_per_batch=None):
    """The `Rule` whose `config` is `train_config` with every unset (None) field chosen for a
    corpus of `train_pairs` training pairs, and whose `notes` say why.

    With `batch_tokens`, `pairs_per_batch` is the mean number of pairs in a batch (measured on
    tokenized samples); steps count optimizer updates (`accumulate_gradients` batches each).
    """
    builtin = train_config.corpus == "dates"
    batch = train_config.batch_size or (64 if builtin else by_size(train_pairs, 64, 128, 256))
    per_batch = pairs_per_batch if train_config.batch_tokens else batch
    batches = train_config.steps_per_epoch or max(1, math.ceil(train_pairs / max(per_batch, 1)))
    steps_per_epoch = max(1, batches // train_config.accumulate_gradients)
    tsv_only = None if builtin else "a TSV corpus"
    rules = {
        "tokenizer": ("character", None)
        if builtin
        else ("sentencepiece", "SentencePiece subwords for a TSV corpus"),
        "batch_size": (batch, f"{train_pairs} training pairs")
        if not train_config.batch_tokens
        else (None, None),
        "max_vocabulary_size": (
            8000 if builtin else by_size(train_pairs, 4000, 8000, 16000, 32000),
            None if builtin else f"{train_pairs} training pairs",
        ),
        "warmup_steps": (
            4000 if builtin else warmup_steps(steps_per_epoch),
            "the paper's"
            if builtin
            else f"half an epoch of {steps_per_epoch} steps, within 300-4000",
        ),
        "epochs": (
            10 if builtin else epochs_for(_TARGET_STEPS, steps_per_epoch),
            None if builtin else f"about {_TARGET_STEPS} steps of {steps_per_epoch} per epoch",
        ),
        "early_stopping_patience": (
            0 if builtin or train_config.time_budget else 5,
            "a time budget is set"
            if train_config.time_budget and not builtin
            else tsv_only and "5 epochs without a better validation score",
        ),
        "average_last": (0 if builtin else 5, tsv_only and "the last 5 epochs, if better"),
        "label_smoothing": (0.1, "the paper's"),
    }
    rule = Rule(train_config)
    for name, (value, reason) in rules.items():
        rule.choose(name, value, reason or "the built-in corpus")
    return rule


def some_pairs(splits, count=2000):
    """Up to `count` training pairs: the first ones, or the tokenizer sample's if streamed."""
    pairs = splits.sample if splits.streamed else splits.train
    return list(pairs[:count])


def resolve_configs(train_config, model_config, splits, model_overrides=None,
                    pairs_per_batch=None, log=True):  # fmt: skip
    """The configs with their unset settings chosen for `splits` (logged when `log`)."""
    train_pairs = len(splits.train)
    rule = resolve(train_config, train_pairs, pairs_per_batch)
    if splits.rule is not None:
        for name in ("validation_fraction", "test_fraction"):
            rule.choose(name, getattr(splits.rule, name), "5 % up to 100k lines, then ~5000 pairs")
    if rule.config.bleu_tokenize is None:
        tokenize = choose_bleu_tokenize([t for _, t in some_pairs(splits)])
        rule.choose("bleu_tokenize", tokenize, "the script of the targets")
    model_reason = None
    if model_config is None:
        model_config = choose_model(rule.config, train_pairs)
        model_reason = f"{train_pairs} training pairs"
        if rule.config.time_budget is not None:
            model_reason += f", a {rule.config.time_budget:g}-minute budget"
    model_config = model_config.replace(**(model_overrides or {}))
    if rule.config.learning_rate_scale is None:
        scale = learning_rate_scale(rule.config, model_config)
        reason = "the paper's" if scale == 1 else f"peak {PEAK_LEARNING_RATE:g}"
        rule.choose("learning_rate_scale", scale, reason)
    if log:
        rule.log(describe_pair_model(model_config), model_reason)
    return rule.config, model_config


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


def sized_config(model_config, source, target):
    """`model_config` with the vocabulary sizes of the tokenizers."""
    return model_config.replace(
        vocabulary_size=source.vocabulary_size,
        target_vocabulary_size=None if model_config.share_embeddings else target.vocabulary_size,
    )


def describe_pair_model(c):
    """An encoder-decoder configuration in words (what the rule prints)."""
    return (
        f"{c.num_layers}+{c.num_layers} layers, hidden {c.hidden_dim}, feed-forward "
        f"{c.intermediate_dim}, {c.num_heads} heads, dropout {c.dropout}"
        f"{', shared embeddings' if c.share_embeddings else ''}"
    )
