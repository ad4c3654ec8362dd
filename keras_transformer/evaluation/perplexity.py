"""Perplexity and bits per character of a language model on held-out text."""

import math

import numpy as np

from keras_transformer.constants import PAD_ID, RESERVED_TOKENS


def _token_characters(tokenizer):
    """Characters each token id stands for: its string's length (SentencePiece's "▁" is the
    space it marks), 1 for `[END]` (a document break) and 0 for the other reserved tokens."""
    lengths = np.array([len(t) for t in tokenizer.vocabulary], "float64")
    lengths[: len(RESERVED_TOKENS)] = 0.0
    lengths[RESERVED_TOKENS.index("[END]")] = 1.0
    return lengths


def language_model_scores(model, dataset, tokenizer):
    """Perplexity (per token) and bits per character of `model` on `dataset`.

    Args:
        model: a `LanguageModel`.
        dataset: `(token_ids, labels)` batches, e.g. `make_block_dataset(..., shuffle=False)`
            of held-out documents; label 0 (padding) is not scored.
        tokenizer: the model's tokenizer (to count the characters the labels stand for).

    Returns:
        A dict: `perplexity` = exp(mean negative log-likelihood per token), `bits_per_character`
        = the summed negative log-likelihood in bits over the characters of the labels,
        `tokens` and `characters` scored.
    """
    characters_of = _token_characters(tokenizer)
    nats = tokens = characters = 0.0
    for token_ids, labels in dataset:
        logits = np.asarray(model(token_ids, training=False), "float64")
        labels = np.asarray(labels)
        log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        picked = np.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
        scored = labels != PAD_ID
        nats -= float(picked[scored].sum())
        tokens += float(scored.sum())
        characters += float(characters_of[labels[scored]].sum())
    if not tokens:
        raise ValueError("The dataset has no tokens to score.")
    return {
        "perplexity": math.exp(nats / tokens),
        "bits_per_character": nats / math.log(2) / max(characters, 1.0),
        "tokens": int(tokens),
        "characters": int(characters),
    }
