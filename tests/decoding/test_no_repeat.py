"""Repeated n-grams are forbidden when asked: a toy model that prefers a loop cannot loop.

Written with `keras.ops`: tests/test_backends.py runs this file under JAX and PyTorch too."""

import numpy as np
import pytest
from keras import ops

from keras_transformer.constants import END_ID, PAD_ID
from keras_transformer.decoding.compiled import compile_search
from keras_transformer.decoding.search import decode

VOCABULARY = 9
LENGTH = 12


def looping_step(model, source_ids, length, repeat=1):
    """A toy step maker (no model): whatever came before, the logits prefer 4 then 5
    alternately (a two-token loop), then the other ids, [END] least."""
    rows = source_ids.shape[0] * repeat

    def step_fn(tokens, index, cache):
        preferred = 4 + index % 2
        ids = ops.arange(VOCABULARY, dtype="int32")
        logits = -ops.cast(ids, "float32")  # 4, 5, 6, ... in that order
        logits = ops.where(ids == preferred, 10.0, logits)
        logits = ops.where(ids == END_ID, -20.0, logits)
        return ops.tile(logits[None, None, :], (rows, 1, 1)), cache

    return step_fn, ops.zeros((rows, 1), "int32")


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
    ids = ops.convert_to_tensor(np.array([[5, 6, 7, 0], [5, 6, 7, 8]], "int32"))

    def search(ids):
        return SEARCHES[strategy](ids, max_length_a=1.0, max_length_b=4, no_repeat_ngram_size=size)

    # Compiled (XLA) for one size, the others uncompiled: the same search, fewer compilations.
    for row in ops.convert_to_numpy(compile_search(search, jit_compile=size == 3)(ids).ids):
        ngrams = _ngrams(row, size)
        assert len(ngrams) == len(set(ngrams)), row
        assert len([t for t in row if t != PAD_ID]) >= min(size + 2, 6)  # it kept going


@pytest.mark.parametrize("strategy", sorted(SEARCHES))
def test_without_the_ban_the_toy_model_loops(strategy):
    ids = ops.convert_to_tensor(np.array([[5, 6, 7, 8]], "int32"))
    row = ops.convert_to_numpy(SEARCHES[strategy](ids, max_length_a=1.0, max_length_b=4).ids)[0]
    np.testing.assert_array_equal(row[:8], [4, 5] * 4)


def test_the_default_ban_depends_on_the_tokenizer():
    from types import SimpleNamespace

    from keras_transformer.decoding import DecodingOptions, Translator

    translator = object.__new__(Translator)  # only its tokenizer matters here
    for kind, expected in (("sentencepiece", 3), ("wordpiece", 3), ("character", 0)):
        translator.target_tokenizer = SimpleNamespace(kind=kind)
        assert translator.no_repeat_ngram_size(DecodingOptions()) == expected
        assert translator.no_repeat_ngram_size(DecodingOptions(no_repeat_ngram_size=2)) == 2
