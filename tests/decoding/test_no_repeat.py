"""Repeated n-grams are forbidden when asked: a toy model that prefers a loop cannot loop."""

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.constants import END_ID, PAD_ID
from keras_transformer.decoding.search import decode

VOCABULARY = 9
LENGTH = 12


def looping_step(model, source_ids, length, repeat=1):
    """A toy step maker (no model): whatever came before, the logits prefer 4 then 5
    alternately (a two-token loop), then the other ids, [END] least."""
    rows = tf.shape(source_ids)[0] * repeat

    def step_fn(tokens, index, cache):
        preferred = 4 + index % 2
        logits = -tf.cast(tf.range(VOCABULARY), tf.float32)  # 4, 5, 6, ... in that order
        logits = tf.where(tf.range(VOCABULARY) == preferred, 10.0, logits)
        logits = tf.where(tf.range(VOCABULARY) == END_ID, -20.0, logits)
        return tf.tile(logits[None, None, :], [rows, 1, 1]), cache

    return step_fn, tf.zeros([rows, 1], tf.int32)


def _ngrams(row, size):
    row = [t for t in row if t not in (PAD_ID, END_ID)]
    return [tuple(row[i : i + size]) for i in range(len(row) - size + 1)]


SEARCHES = {
    "greedy": lambda ids, **kw: decode(looping_step, None, ids, LENGTH, "greedy", **kw),
    "beam": lambda ids, **kw: decode(looping_step, None, ids, LENGTH, "beam", beam_width=3, **kw),
    "sample": lambda ids, **kw: decode(looping_step, None, ids, LENGTH, "sample", top_k=1, **kw),
}


@pytest.mark.parametrize("strategy", sorted(SEARCHES))
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_no_ngram_of_the_size_repeats(strategy, size):
    ids = tf.constant([[5, 6, 7, 0], [5, 6, 7, 8]], tf.int32)

    @tf.function(jit_compile=True)
    def search(ids):
        return SEARCHES[strategy](ids, max_length_a=1.0, max_length_b=4, no_repeat_ngram_size=size)

    for row in search(ids).ids.numpy():
        ngrams = _ngrams(row, size)
        assert len(ngrams) == len(set(ngrams)), row
        assert len([t for t in row if t != PAD_ID]) >= min(size + 2, 6)  # it kept going


@pytest.mark.parametrize("strategy", sorted(SEARCHES))
def test_without_the_ban_the_toy_model_loops(strategy):
    ids = tf.constant([[5, 6, 7, 8]], tf.int32)
    row = SEARCHES[strategy](ids, max_length_a=1.0, max_length_b=4).ids.numpy()[0]
    np.testing.assert_array_equal(row[:8], [4, 5] * 4)


def test_the_default_ban_depends_on_the_tokenizer():
    from types import SimpleNamespace

    from keras_transformer.decoding import DecodingOptions, Translator

    translator = object.__new__(Translator)  # only its tokenizer matters here
    for kind, expected in (("sentencepiece", 3), ("wordpiece", 3), ("character", 0)):
        translator.target_tokenizer = SimpleNamespace(kind=kind)
        assert translator.no_repeat_ngram_size(DecodingOptions()) == expected
        assert translator.no_repeat_ngram_size(DecodingOptions(no_repeat_ngram_size=2)) == 2
