"""The settings `train` chooses for a corpus when the user leaves them unset.

The rule (printed at the start of every run, and listed in the README):

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

import dataclasses
import logging
import math

from keras_transformer.models import TransformerConfig

logger = logging.getLogger("keras_transformer")

_TARGET_STEPS = 30_000
# The paper's schedule peaks at d^-0.5 * warmup^-0.5: 3.6e-3 for d = 256 after 300 steps, too
# high to be safe; the scale chosen for a TSV corpus caps the peak here.
PEAK_LEARNING_RATE = 2.5e-3
# With a time budget shorter than this (minutes), the small model has 2 layers, not 3: in
# 1,300 CPU-seconds on eng-jpn it reached a better validation chrF (README, Results).
SHORT_BUDGET_MINUTES = 60


def by_size(pairs, *values):
    """The value for `pairs` training pairs: three values split at 100k and 1M pairs; four at
    10k, 100k and 1M."""
    thresholds = (100_000, 1_000_000) if len(values) == 3 else (10_000, 100_000, 1_000_000)
    return values[sum(pairs >= t for t in thresholds)]


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
    peak = (model_config.hidden_dim * train_config.warmup_steps) ** -0.5
    return round(min(1.0, PEAK_LEARNING_RATE / peak), 3)


def resolve(train_config, train_pairs, pairs_per_batch=None):
    """`train_config` with every unset (None) field chosen for a corpus of `train_pairs`
    training pairs, and a list of `(field, value, reason)` for the fields chosen.

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
            4000 if builtin else min(4000, max(300, steps_per_epoch // 2)),
            "the paper's"
            if builtin
            else f"half an epoch of {steps_per_epoch} steps, within 300-4000",
        ),
        "epochs": (
            10 if builtin else min(100, max(5, math.ceil(_TARGET_STEPS / steps_per_epoch))),
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
    chosen = {}
    notes = []
    for name, (value, reason) in rules.items():
        if getattr(train_config, name) is None and value is not None:
            chosen[name] = value
            notes.append((name, value, reason or "the built-in corpus"))
    return dataclasses.replace(train_config, **chosen), notes


def label_smoothing(train_config):
    """The run's label smoothing: the one set, else the paper's 0.1 for translation and none
    for a language model (its loss is then the perplexity's log) or a classifier."""
    if train_config.label_smoothing is not None:
        return train_config.label_smoothing
    return 0.1 if train_config.task == "translate" else 0.0


def log_choices(notes, model_config, model_reason):
    """Prints (INFO) the settings the rule chose, so the user sees them and can override."""
    if not notes and model_reason is None:
        return
    logger.info("Settings chosen for this corpus (a flag overrides any of them):")
    for name, value, reason in notes:
        logger.info("  --%-24s %-14s (%s)", name.replace("_", "-"), value, reason)
    if model_reason is not None:
        c = model_config
        logger.info(
            "  model: %d+%d layers, hidden %d, feed-forward %d, %d heads, dropout %s%s (%s)",
            c.num_layers, c.num_layers, c.hidden_dim, c.intermediate_dim, c.num_heads,
            c.dropout, ", shared embeddings" if c.share_embeddings else "", model_reason,
        )  # fmt: skip
