"""Repeated n-grams are forbidden when asked: a toy model that prefers a loop cannot loop."""

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.data.tokenizers import END_ID, PAD_ID
from keras_transformer.decoding.search import beam_search, greedy_search, sample

VOCABULARY = 9
LENGTH = 12


class LoopingParts:
    """The interface of `Seq2SeqParts`. Whatever came before, the logits prefer 4 then 5
    alternately (a two-token loop), then the other ids, [END] least."""

    sequence_length = LENGTH

    def encode(self, source_ids):
        return source_ids, tf.not_equal(source_ids, PAD_ID)

    def cross_caches(self, source_ids):
        return (source_ids,)

    def empty_self_caches(self, batch_size, max_length):
        return (tf.zeros([batch_size, 1], tf.int32),)

    def step(self, tokens, index, self_caches, cross_caches, source_mask):
        preferred = 4 + index % 2
        logits = -tf.cast(tf.range(VOCABULARY), tf.float32)  # 4, 5, 6, ... in that order
        logits = tf.where(tf.range(VOCABULARY) == preferred, 10.0, logits)
        logits = tf.where(tf.range(VOCABULARY) == END_ID, -20.0, logits)
        batch = tf.shape(tokens)[0]
        return tf.tile(logits[None, None, :], [batch, 1, 1]), self_caches


def _ngrams(row, size):
    row = [t for t in row if t not in (PAD_ID, END_ID)]
    return [tuple(row[i : i + size]) for i in range(len(row) - size + 1)]


SEARCHES = {
    "greedy": lambda ids, **kw: greedy_search(LoopingParts(), ids, LENGTH, **kw),
    "beam": lambda ids, **kw: beam_search(LoopingParts(), ids, LENGTH, beam_width=3, **kw),
    "sample": lambda ids, **kw: sample(LoopingParts(), ids, LENGTH, top_k=1, **kw),
}


@pytest.mark.parametrize("strategy", sorted(SEARCHES))
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_no_ngram_of_the_size_repeats(strategy, size):
    ids = tf.constant([[5, 6, 7, 0], [5, 6, 7, 8]], tf.int32)

    @tf.function(jit_compile=True)
    def search(ids):
        return SEARCHES[strategy](ids, max_length_a=1.0, max_length_b=4, no_repeat_ngram_size=size)

    for row in search(ids)[0].numpy():
        ngrams = _ngrams(row, size)
        assert len(ngrams) == len(set(ngrams)), row
        assert len([t for t in row if t != PAD_ID]) >= min(size + 2, 6)  # it kept going


@pytest.mark.parametrize("strategy", sorted(SEARCHES))
def test_without_the_ban_the_toy_model_loops(strategy):
    ids = tf.constant([[5, 6, 7, 8]], tf.int32)
    row = SEARCHES[strategy](ids, max_length_a=1.0, max_length_b=4)[0].numpy()[0]
    np.testing.assert_array_equal(row[:8], [4, 5] * 4)


def test_the_default_ban_depends_on_the_tokenizer():
    from types import SimpleNamespace

    from keras_transformer.decoding import DecodingOptions, Translator

    translator = object.__new__(Translator)  # only its tokenizer matters here
    for kind, expected in (("sentencepiece", 3), ("wordpiece", 3), ("character", 0)):
        translator.target_tokenizer = SimpleNamespace(kind=kind)
        assert translator.no_repeat_ngram_size(DecodingOptions()) == expected
        assert translator.no_repeat_ngram_size(DecodingOptions(no_repeat_ngram_size=2)) == 2
