"""Beam search against exhaustive search, on a toy model whose logits are a lookup table
indexed by the prefix (7 ids, a few steps), so every hypothesis can be enumerated.

Written with `keras.ops`: tests/test_backends.py runs this file under JAX and PyTorch too."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from keras_transformer.constants import END_ID, PAD_ID, START_ID
from keras_transformer.decoding.compiled import compile_search
from keras_transformer.decoding.search import decode

VOCABULARY = 7  # 0-3 reserved ([PAD], [UNK], [START], [END]), then 4, 5, 6
STEPS = 4  # the longest output of these tests
ALLOWED = [t for t in range(VOCABULARY) if t not in (PAD_ID, START_ID)]


def _code(prefix):
    """The table row of the logits that follow `prefix` (the generated tokens so far)."""
    code = START_ID
    for token in prefix:
        code = code * VOCABULARY + token
    return code


class TableModel:
    """A toy model: the logits after a prefix are `table[sentence, code(prefix)]`. A source
    row is `[4 + sentence, 4, 4, ...]`: its first id picks the sentence's table, its length
    sets the output limit. `steps` counts the step function's calls (the loop's iterations
    when run eagerly)."""

    def __init__(self, table):
        self.prefixes = table.shape[1]  # VOCABULARY**STEPS
        # (sentences * prefixes, VOCABULARY): row `sentence * prefixes + code`.
        self.table = ops.convert_to_tensor(np.reshape(table, (-1, VOCABULARY)), "float32")
        self.steps = 0


def table_step(model, source_ids, length, repeat=1):
    """The step maker of `TableModel` (as `decoding.steps.cached_step` is for a Transformer):
    the sentence of each row stays in the closure, the cache is the prefix code `(rows, 1)`."""
    sentences = ops.repeat(source_ids[:, :1] - 4, repeat, axis=0)

    def step_fn(tokens, index, code):
        model.steps += 1
        code = code * VOCABULARY + tokens  # (rows, 1)
        rows = sentences[:, 0] * model.prefixes + code[:, 0] % model.prefixes
        return ops.take(model.table, rows, axis=0)[:, None, :], code

    return step_fn, ops.zeros_like(sentences)


def _log_probs(logits, step, min_length):
    """What the search allows, as it computes it ([PAD], [START], early [END] forbidden)."""
    logits = np.array(logits, np.float64)
    logits[[PAD_ID, START_ID]] = -np.inf
    if step < min_length:
        logits[END_ID] = -np.inf
    return logits - np.logaddexp.reduce(logits)


def _penalty(length, alpha):
    return ((5.0 + length) / 6.0) ** alpha


def _score(table, sentence, tokens, limit, alpha, min_length=0):
    """The length-normalized score of one output as beam search defines it."""
    tokens = list(tokens)
    if END_ID in tokens:
        tokens = tokens[: tokens.index(END_ID) + 1]
        length = len(tokens)
    else:
        tokens = [t for t in tokens if t != PAD_ID]
        length = limit
    total = sum(
        _log_probs(table[sentence, _code(tokens[:i])], i, min_length)[token]
        for i, token in enumerate(tokens)
    )
    return total / _penalty(length, alpha)


def _exhaustive(table, sentence, limit, alpha, min_length=0):
    """The best `(tokens, score)`: the best finished sequence, or the best unfinished one at
    the limit when nothing can finish."""
    finished, unfinished = [], []
    for length in range(1, limit + 1):
        for body in itertools.product([t for t in ALLOWED if t != END_ID], repeat=length - 1):
            if length - 1 >= min_length:
                tokens = (*body, END_ID)
                finished.append((_score(table, sentence, tokens, limit, alpha, min_length), tokens))
            if length == limit:
                for last in (t for t in ALLOWED if t != END_ID):
                    tokens = (*body, last)
                    unfinished.append(
                        (_score(table, sentence, tokens, limit, alpha, min_length), tokens)
                    )
    score, tokens = max(finished or unfinished)
    return list(tokens), score


def _sources(lengths):
    """One source row per sentence, `lengths[s]` tokens, padded to the longest."""
    width = max(lengths)
    rows = [[4 + s] + [4] * (n - 1) + [PAD_ID] * (width - n) for s, n in enumerate(lengths)]
    return ops.convert_to_tensor(np.array(rows, "int32"))


def _compiled(function, jit=True):
    """`function` compiled for the backend; under TensorFlow for inputs of any width (the
    loop length then a tensor that XLA resolves), as `Translator` compiles its search."""
    signature = None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        signature = [tf.TensorSpec([None, None], tf.int32)]
    return compile_search(function, jit, input_signature=signature)


def _numpy(result):
    return ops.convert_to_numpy(result.ids), ops.convert_to_numpy(result.scores)


def _search(parts, sources, jit=True, **kwargs):
    def search(ids):
        return decode(table_step, parts, ids, STEPS, strategy="beam", **kwargs)

    return _numpy(_compiled(search, jit)(sources))


def _trim(row):
    row = list(row)
    return row[: row.index(END_ID) + 1] if END_ID in row else [t for t in row if t != PAD_ID]


# Sources of 2, 4 and 6 tokens with max_length_a=0.5, max_length_b=1: limits 2, 3 and 4.
LENGTHS = [6, 2, 4]
LIMITS = [4, 2, 3]
RELATIVE = {"max_length_a": 0.5, "max_length_b": 1}


def _random_table(seed, scale=2.0):
    rng = np.random.default_rng(seed)
    return scale * rng.normal(size=(len(LENGTHS), VOCABULARY**STEPS, VOCABULARY))


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_wide_beam_finds_the_exhaustive_optimum(seed, alpha):
    table = _random_table(seed)
    # 5 * 4**3 = 320 candidates at the last step: nothing is ever pruned.
    # XLA for one seed (the others: the same search, uncompiled, to save the compilations).
    tokens, scores = _search(TableModel(table), _sources(LENGTHS), seed == 0, beam_width=320,
                             alpha=alpha, **RELATIVE)  # fmt: skip
    assert tokens.shape == (3, 4)  # the loop length: the limit of the padded width
    for sentence, limit in enumerate(LIMITS):
        best_tokens, best_score = _exhaustive(table, sentence, limit, alpha)
        assert _trim(tokens[sentence]) == best_tokens
        assert scores[sentence] == pytest.approx(best_score, abs=1e-4)
        assert np.all(tokens[sentence, len(best_tokens) :] == PAD_ID)


@pytest.mark.parametrize("beam_width", [1, 2, 3])
@pytest.mark.parametrize("seed", [3, 4])
def test_narrow_beams_return_real_hypotheses_with_their_scores(seed, beam_width):
    table = _random_table(seed, scale=1.0)
    tokens, scores = _search(TableModel(table), _sources(LENGTHS), seed == 3,  # XLA for one
                             beam_width=beam_width, alpha=0.6, **RELATIVE)  # fmt: skip
    for sentence, limit in enumerate(LIMITS):
        row = _trim(tokens[sentence])
        assert 1 <= len(row) <= limit and all(t in ALLOWED for t in row)
        assert END_ID not in row[:-1]
        assert scores[sentence] == pytest.approx(_score(table, sentence, row, limit, 0.6), abs=1e-4)
        if row[-1] == END_ID:  # (an unfinished one may score above every finished one)
            assert scores[sentence] <= _exhaustive(table, sentence, limit, 0.6)[1] + 1e-4


@pytest.mark.parametrize("seed", [5, 6])
def test_width_one_without_length_penalty_is_greedy(seed):
    parts, sources = TableModel(_random_table(seed)), _sources(LENGTHS)
    tokens, scores = _search(parts, sources, beam_width=1, alpha=0.0, **RELATIVE)
    greedy = _compiled(lambda ids: decode(table_step, parts, ids, STEPS, **RELATIVE))(sources)
    np.testing.assert_array_equal(tokens, ops.convert_to_numpy(greedy.ids))
    np.testing.assert_allclose(scores, ops.convert_to_numpy(greedy.scores), atol=1e-5)


def _table(probabilities, default):
    """A one-sentence table from `{prefix: {token: probability}}`; other prefixes use
    `default`. Unlisted allowed tokens share what is left."""
    table = np.zeros((1, VOCABULARY**STEPS, VOCABULARY))

    def logits(given):
        rest = [t for t in ALLOWED if t not in given]
        left = (1.0 - sum(given.values())) / len(rest)
        p = np.full(VOCABULARY, 1e-12)
        for token in ALLOWED:
            p[token] = max(given.get(token, left), 1e-9)
        return np.log(p)

    table[0] = logits(default)
    for prefix, given in probabilities.items():
        table[0, _code(prefix)] = logits(given)
    return table


def test_search_goes_on_while_a_longer_hypothesis_can_still_win():
    # [END] first is likely (0.5), but [4 4 4 END] (0.48 * 0.98**3) wins once the length
    # penalty rewards its length: stopping when k=1 hypothesis is finished would miss it.
    table = _table(
        {(): {END_ID: 0.5, 4: 0.48}, (4,): {4: 0.98}, (4, 4): {4: 0.98}, (4, 4, 4): {END_ID: 0.98}},
        default={END_ID: 0.96},
    )
    source = _sources([1])
    for alpha, expected in ((1.0, [4, 4, 4, END_ID]), (0.0, [END_ID])):
        parts = TableModel(table)
        tokens, scores = _numpy(decode(table_step, parts, source, STEPS, strategy="beam",
                                       beam_width=1, alpha=alpha))  # fmt: skip  # eager
        assert _trim(tokens[0]) == expected
        assert _exhaustive(table, 0, STEPS, alpha) == (expected, pytest.approx(scores[0]))
        # alpha=0: the alive [4] (0.48) can never beat [END] (0.5): one step only. (Eager
        # loops call the step function once a step; JAX traces its loop's body once.)
        if keras.backend.backend() != "jax":
            assert parts.steps == (4 if alpha else 1)


def test_a_finished_hypothesis_beats_unfinished_ones_at_the_limit():
    # [4 4 4] is far more likely than [END], but it never finishes within 3 tokens.
    table = _table({(): {END_ID: 0.1, 4: 0.9}}, default={4: 0.999})
    tokens, scores = _search(TableModel(table), _sources([1]), beam_width=2, alpha=0.6,
                             max_length_a=0.0, max_length_b=3)  # fmt: skip
    assert _trim(tokens[0]) == [END_ID]
    assert scores[0] == pytest.approx(np.log(0.1) / _penalty(1, 0.6), abs=1e-4)
    # With [END] forbidden until the limit nothing finishes: the best alive one is returned,
    # scored at the limit.
    tokens, scores = _search(TableModel(table), _sources([1]), beam_width=2, alpha=0.6,
                             min_length=3, max_length_a=0.0, max_length_b=3)  # fmt: skip
    assert list(tokens[0]) == [4, 4, 4]
    assert scores[0] == pytest.approx(_score(table, 0, [4, 4, 4], 3, 0.6, 3), abs=1e-4)
    assert _exhaustive(table, 0, 3, 0.6, min_length=3)[0] == [4, 4, 4]
