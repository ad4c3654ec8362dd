"""Cached generation in one `keras.ops.while_loop`: greedy, beam search, top-k / top-p
sampling, the same code on TensorFlow, JAX and PyTorch.

The source is encoded once; each decoder block projects the encoder outputs once (the
cross-attention cache) and keeps a key/value cache of its own past positions, so a step
costs the same however long the output already is. The searches know no model: each takes
a step function `step_fn(token_ids, index, cache) -> (logits, cache)` (logits
`(rows, 1, vocabulary)`, of a known rank) and its initial cache (`decoding.steps` makes them
from a `Transformer` or a `LanguageModel`), and returns a `SearchResult`: generated
ids `(batch, length)` ending with `[END]` and padded with 0 after it, their lengths, and the
model's log-probability of each sequence (beam search: the length-normalized score).
`decode` ties the pieces together. The searches are written with `keras.ops` only: under
TensorFlow the loop is a `tf.while_loop` (inside `tf.function`, XLA-compiled or not), under
JAX a `jax.lax.while_loop` (inside `jax.jit`), under PyTorch a Python loop run eagerly
(`decoding.compiled.compile_search` picks the compiler).

Rules shared by every strategy:

- [PAD] and [START] are never generated, nor [END] before `min_length` tokens.
- Output lengths are relative to the source (as in fairseq and tensor2tensor): row r may
  generate `limit_r = min(max_length, ceil(max_length_a * n_r) + max_length_b)` tokens
  ([END] included, at least 1), `n_r` being its number of non-padding source tokens
  (`max_length_a=None`: `max_length` for every row). A row that reaches its limit without
  [END] stops there, unfinished. The buffers (and the loop) are as long as the limit of a
  source filling the padded width, `length = min(max_length, ceil(a * width) + b)`: a
  function of the input shape, hence a compile-time constant under XLA (a Python int when
  the width is static, as it always is under JAX and PyTorch).
- Sampling draws each step's tokens with the Gumbel-max trick from a counter-based hash of
  `(seed, step, row, token)` in integer `keras.ops`: the same seed gives the same tokens on
  every call, compiled or not (each backend's own float rounding aside).

Beam search (tensor2tensor's rules, fairseq's candidates):

- Each step extends the `k` alive hypotheses by every token and keeps the best `2k`
  candidates by raw log-probability. An [END] among the first `k` of them finishes a
  hypothesis (so width 1 is greedy decoding up to the length penalty); the best `k`
  finished ones are kept, scored `log_prob / length_penalty(length)`. The best `k`
  candidates that did not end stay alive.
- A sentence stops when no alive hypothesis can still beat its finished ones: `k` are
  finished and the lowest of their scores is above the upper bound of the alive ones,
  `best alive log_prob / length_penalty(limit)` (log-probabilities only decrease, so this
  is the best score any extension can reach; `alpha < 0` uses the next length instead).
  It stops at its length limit too.
- The result is the best finished hypothesis; only a sentence with none at all returns its
  best alive one, scored `log_prob / length_penalty(limit)`.
"""

import math
from typing import Any, NamedTuple

import keras
import numpy as np
from keras import ops

from keras_transformer.constants import END_ID, MASK_BIAS, PAD_ID, START_ID
from keras_transformer.layers.validation import check_positive_float, check_positive_int

_NONE = float("-inf")  # the score of an empty beam slot (no hypothesis)


def length_penalty(length, alpha):
    """GNMT length penalty ((5 + length) / 6)^alpha (Wu et al. 2016); the paper uses 0.6."""
    return ((5.0 + ops.cast(length, "float32")) / 6.0) ** alpha


def _rows(x):
    """The first dimension of `x`: a Python int when static, else a scalar tensor."""
    return x.shape[0] if x.shape[0] is not None else ops.shape(x)[0]


def _vocabulary(logits):
    """The last dimension of `logits`: a Python int when static, else a scalar tensor."""
    return logits.shape[-1] if logits.shape[-1] is not None else ops.shape(logits)[-1]


def _relative_limit(n, max_length_a, max_length_b):
    """`max(ceil(a * n) + b, 1)` for a Python number `n` (float64 arithmetic)."""
    return max(math.ceil(max_length_a * float(n)) + max_length_b, 1)


def output_limits(source_ids, max_length, max_length_a=None, max_length_b=0):
    """The loop length and the per-row limits of new tokens ([END] included).

    Args:
        source_ids: int32 `(batch, width)`, 0 = padding.
        max_length: int. Absolute cap on every row.
        max_length_a, max_length_b: row r may make `ceil(a * n_r) + b` tokens (at least 1),
            `n_r` = its non-padding tokens. `max_length_a=None`: `max_length` for all rows.

    Returns:
        `(length, limits)`: `length` (python int when the width is static, else a scalar
        tensor that XLA resolves at compile time) bounds every limit; `limits` int32
        `(batch,)`.
    """
    batch = _rows(source_ids)
    if max_length_a is None:
        return max_length, ops.full((batch,), max_length, dtype="int32")
    source_lengths = ops.sum(ops.cast(ops.not_equal(source_ids, PAD_ID), "int32"), axis=1)
    width = source_ids.shape[1]
    if width is not None:
        # Every row's limit from a table of the widths 0 .. width, computed in Python: the
        # same (float64) arithmetic as the loop length, whatever float types the backend has.
        length = min(max_length, _relative_limit(width, max_length_a, max_length_b))
        table = [min(length, _relative_limit(n, max_length_a, max_length_b))
                 for n in range(width + 1)]  # fmt: skip
        return length, ops.take(np.array(table, "int32"), source_lengths, axis=0)

    # A dynamic width (a TensorFlow graph traced for `[None, None]` inputs): float64 too.
    def relative(n):
        n = ops.cast(n, "float64")
        return ops.maximum(ops.cast(ops.ceil(max_length_a * n), "int32") + max_length_b, 1)

    length = ops.minimum(max_length, relative(ops.shape(source_ids)[1]))
    return length, ops.minimum(length, relative(source_lengths))


def _argmax(x):
    """int32 `(rows,)`: the index of each row's largest value, the lowest one of ties.

    The smallest index that holds the maximum: as fast as TensorFlow's own argmax under
    XLA, where Keras's `argmax` makes one more pass over `x` first (to tell -0.0 from 0.0,
    a tenth of a step at batch 64) and `top_k(x, 1)` costs more still.
    """
    vocabulary = _vocabulary(x)
    ids = ops.arange(vocabulary, dtype="int32")
    best = ops.where(x == ops.max(x, axis=-1, keepdims=True), ids, vocabulary)
    return ops.minimum(ops.min(best, axis=-1), vocabulary - 1)  # (NaN rows: the last id)


def _pick(x, indices):
    """`x` `(rows, n)` at `indices` `(rows, m)` of each row: `(rows, m)` (one gather from
    the flattened `x`, where `take_along_axis` broadcasts `x` first under TensorFlow)."""
    offsets = ops.arange(_rows(x), dtype="int32")[:, None] * ops.shape(x)[1]
    return ops.take(ops.reshape(x, (-1,)), indices + offsets, axis=0)


def _positions(length):
    """int32 `(length,)`: 0, 1, ... (the buffers' positions)."""
    return ops.arange(length, dtype="int32")


def _write(buffer, positions, step, tokens):
    """`buffer` `(..., length)` with `tokens` `(...)` written at position `step`."""
    return ops.where(positions == step, ops.expand_dims(tokens, -1), buffer)


def _log_probs(logits, step, min_length):
    """Log-softmax of the last position with [PAD] and [START] forbidden, and [END] too
    before `min_length` tokens."""
    logits = logits[:, -1, :]
    ids = ops.arange(_vocabulary(logits), dtype="int32")
    forbidden = ops.logical_or(ids == PAD_ID, ids == START_ID)
    too_early = ops.logical_and(ids == END_ID, step < min_length)
    forbidden = ops.logical_or(forbidden, too_early)[None, :]
    return ops.log_softmax(ops.where(forbidden, MASK_BIAS, logits), axis=-1)


def _ban_repeated_ngrams(log_probs, tokens, step, size):
    """`log_probs` with every token that would repeat an n-gram of `size` tokens already in
    `tokens` forbidden (fairseq's and Hugging Face's `no_repeat_ngram_size`): an undertrained
    model otherwise loops ("été été été", "ナナナナナ"). `size` 0 changes nothing.

    log_probs (rows, vocabulary); tokens (rows, length), the first `step` of them generated.
    """
    if not size:
        return log_probs
    length = tokens.shape[1] if tokens.shape[1] is not None else ops.shape(tokens)[1]
    context = size - 1  # the tokens an n-gram needs before its last one
    # n-grams may start at j = 0 .. length - size (a Python int when the length is static).
    starts = (
        max(length - context, 0) if isinstance(length, int) else ops.maximum(length - context, 0)
    )
    following = tokens[:, context : context + starts]  # (rows, starts): each window's next
    # Only windows whose follower is already generated count.
    complete = ops.arange(starts, dtype="int32") <= step - size
    if context == 0:  # unigrams: no token twice
        match = ops.broadcast_to(complete[None, :], ops.shape(following))
    else:
        positions = ops.maximum(step - context + ops.arange(context, dtype="int32"), 0)
        last = ops.take(tokens, positions, axis=1)  # (rows, context): the n-gram so far
        windows = ops.stack([tokens[:, i : i + starts] for i in range(context)], axis=-1)
        # (rows, starts, context) windows equal to the last `context` tokens.
        match = ops.logical_and(ops.all(windows == last[:, None, :], axis=-1), complete[None])
    rows = ops.broadcast_to(ops.arange(_rows(tokens), dtype="int32")[:, None], ops.shape(following))
    indices = ops.reshape(ops.stack([rows, following], axis=-1), (-1, 2))
    banned = ops.scatter_update(
        ops.zeros(ops.shape(log_probs), "int32"),
        indices,
        ops.reshape(ops.cast(match, "int32"), (-1,)),
        reduction="add",
    )
    return ops.where(banned > 0, MASK_BIAS, log_probs)


class SearchResult(NamedTuple):
    """What every search returns (tensors of the active backend)."""

    ids: Any  # (batch, length) int32: the tokens, [END] last, 0 after it
    lengths: Any  # (batch,) int32: tokens generated, [END] included
    scores: Any  # (batch,) float32: log-probability (beam search: length-normalized)


def _result(ids, scores):
    return SearchResult(ids, ops.sum(ops.cast(ids != PAD_ID, "int32"), axis=1), scores)


class _SequenceState(NamedTuple):
    """The loop state of greedy decoding and sampling."""

    step: Any  # () int32: the position being generated
    last: Any  # (batch, 1) int32: the previous token
    cache: Any  # the step function's cache (a nest of (batch, ...) tensors)
    tokens: Any  # (batch, length) int32: the tokens so far, 0 after them
    finished: Any  # (batch,) bool
    scores: Any  # (batch,) float32: the summed log-probabilities


def _sequential(step_fn, cache, limits, length, choose, min_length=0, no_repeat_ngram_size=0):
    """The loop shared by greedy decoding and sampling; `choose(log_probs, step)` picks the
    next token of each sequence."""
    batch = _rows(limits)
    positions = _positions(length)

    def body(*state):
        s = _SequenceState(*state)
        logits, cache = step_fn(s.last, s.step, s.cache)
        log_probs = _log_probs(logits, s.step, min_length)  # (batch, vocabulary)
        log_probs = _ban_repeated_ngrams(log_probs, s.tokens, s.step, no_repeat_ngram_size)
        chosen = ops.cast(choose(log_probs, s.step), "int32")  # (batch,)
        chosen = ops.where(s.finished, ops.zeros_like(chosen), chosen)  # [PAD] once finished
        picked = _pick(log_probs, chosen[:, None])[:, 0]
        # A row stops at [END] or at its own length limit (then without [END]).
        finished = ops.logical_or(s.finished, chosen == END_ID)
        return _SequenceState(
            step=s.step + 1,
            last=chosen[:, None],
            cache=cache,
            tokens=_write(s.tokens, positions, s.step, chosen),
            finished=ops.logical_or(finished, s.step + 1 >= limits),
            scores=s.scores + ops.where(s.finished, ops.zeros_like(picked), picked),
        )

    def not_done(*state):
        s = _SequenceState(*state)
        return ops.logical_and(s.step < length, ops.logical_not(ops.all(s.finished)))

    initial = _SequenceState(
        step=ops.convert_to_tensor(0, "int32"),
        last=ops.full((batch, 1), START_ID, dtype="int32"),
        cache=cache,
        tokens=ops.zeros((batch, length), "int32"),
        finished=ops.zeros((batch,), "bool"),
        scores=ops.zeros((batch,), "float32"),
    )
    final = _SequenceState(*ops.while_loop(not_done, body, tuple(initial)))
    return _result(final.tokens, final.scores)


def greedy_search(step_fn, cache, limits, length, min_length=0, no_repeat_ngram_size=0):
    """The most likely next token at each step.

    Args:
        step_fn: `(token_ids (batch, 1), index, cache) -> (logits (batch, 1, vocabulary),
            cache)`: the model's next-token logits (e.g. `decoding.steps.cached_step`).
        cache: its initial cache, a nest of tensors with `batch` rows.
        limits: int32 `(batch,)`: each row's most new tokens ([END] included).
        length: int or scalar tensor: the longest limit (the output buffers' length).
        min_length: [END] is forbidden before this many tokens.
        no_repeat_ngram_size: forbid repeating an n-gram of this many tokens (0: allowed).

    Returns:
        `SearchResult`.
    """
    return _sequential(
        step_fn,
        cache,
        limits,
        length,
        lambda log_probs, _: _argmax(log_probs),
        min_length,
        no_repeat_ngram_size,
    )


# Integer hashing for the stateless draws: int32 arithmetic wraps around on every backend,
# and the arithmetic right shift is masked into a logical one.
_GOLDEN = -1640531527  # 0x9E3779B9 as an int32


def _shift(x, bits):
    """Logical right shift of int32 `x` (as if it were uint32)."""
    return ops.bitwise_and(ops.right_shift(x, bits), (1 << (32 - bits)) - 1)


def _mix(x):
    """A bijective int32 -> int32 hash (Wellons' "lowbias32")."""
    x = ops.bitwise_xor(x, _shift(x, 16))
    x = x * 0x7FEB352D
    x = ops.bitwise_xor(x, _shift(x, 15))
    x = x * -2073254261  # 0x846CA68B as an int32
    return ops.bitwise_xor(x, _shift(x, 16))


def _gumbel_noise(seed, step, rows, vocabulary):
    """float32 `(rows, vocabulary)` standard Gumbel noise, a pure function of
    `(seed, step)`, each row and token."""
    if isinstance(seed, int):  # any non-negative int: its low 32 bits, as an int32
        seed = ((seed & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
    key = _mix(_mix(ops.cast(seed, "int32") + _GOLDEN) + ops.cast(step, "int32"))
    counter = (
        ops.arange(rows, dtype="int32")[:, None] * vocabulary
        + ops.arange(vocabulary, dtype="int32")[None, :]
    )
    bits = _mix(ops.bitwise_xor(_mix(counter), key))
    # 24 random bits -> a uniform number strictly inside (0, 1).
    uniform = (ops.cast(_shift(bits, 8), "float32") + 0.5) * (1.0 / (1 << 24))
    return -ops.log(-ops.log(uniform))


def sample(step_fn, cache, limits, length, temperature=1.0, top_k=0, top_p=1.0, seed=0,
           min_length=0, no_repeat_ngram_size=0):  # fmt: skip
    """Samples each token from the (temperature-scaled, top-k / top-p filtered) distribution.

    `top_k=0` and `top_p=1.0` disable the filters; `top_k=1` is greedy decoding. The seed
    makes the result reproducible (stateless draws, one key per seed and step: the
    Gumbel-max trick over a hash of the seed, the step, the row and the token). Other
    arguments as `greedy_search`.
    """
    check_sampling(temperature, top_k, top_p)

    def choose(log_probs, step):
        logits = log_probs / temperature
        if top_k:
            kth = ops.top_k(logits, k=top_k)[0][:, -1:]
            logits = ops.where(logits < kth, MASK_BIAS, logits)
        if top_p < 1.0:
            ordered = ops.flip(ops.sort(logits, axis=-1), axis=-1)  # descending
            probabilities = ops.softmax(ordered, axis=-1)
            before = ops.cumsum(probabilities, axis=-1) - probabilities  # exclusive
            largest = ops.max(ordered, axis=-1, keepdims=True)
            kept = ops.where(before < top_p, ordered, largest)
            cut = ops.min(kept, axis=-1, keepdims=True)
            logits = ops.where(logits < cut, MASK_BIAS, logits)
        rows = _rows(logits)
        vocabulary = _vocabulary(logits)
        return _argmax(logits + _gumbel_noise(seed, step, rows, vocabulary))

    return _sequential(step_fn, cache, limits, length, choose, min_length, no_repeat_ngram_size)


def check_sampling(temperature, top_k, top_p):
    """Raises ValueError unless `temperature > 0`, `top_k >= 0` and `0 < top_p <= 1`."""
    check_positive_float(temperature, "temperature")
    if top_k < 0 or not 0 < top_p <= 1:
        raise ValueError(f"Need top_k >= 0 and 0 < top_p <= 1; received {top_k}, {top_p}.")


class BeamState(NamedTuple):
    """The loop state of beam search (`k` beams; slots best first, `_NONE` = empty)."""

    step: Any  # () int32: the position being generated
    last: Any  # (batch * k, 1) int32: each alive hypothesis's last token
    cache: Any  # the step function's cache, (batch * k, ...) rows
    alive: Any  # (batch, k, length) int32: the hypotheses still growing
    alive_scores: Any  # (batch, k) float32: their raw log-probabilities
    finished: Any  # (batch, k, length) int32: the best ended hypotheses
    finished_scores: Any  # (batch, k) float32: their length-normalized scores
    done: Any  # (batch,) bool: the sentence can no longer change


def _gather_slots(x, indices):
    """`x` `(batch, slots, ...)` at `indices` `(batch, n)` of each sentence's slots:
    `(batch, n, ...)`."""
    slots = x.shape[1]
    offsets = ops.arange(_rows(indices), dtype="int32")[:, None] * slots
    flat = ops.reshape(indices + offsets, (-1,))
    rest = tuple(x.shape[2:]) if None not in x.shape[2:] else tuple(ops.shape(x)[2:])
    gathered = ops.take(ops.reshape(x, (-1, *rest)), flat, axis=0)
    # (The batch named, not -1: a loop's state keeps its static shape under TensorFlow.)
    return ops.reshape(gathered, (_rows(indices), indices.shape[1], *rest))


def beam_search(step_fn, cache, limits, length, beam_width=4, alpha=0.6, min_length=0,
                no_repeat_ngram_size=0):  # fmt: skip
    """Beam search with the GNMT length penalty and tensor2tensor's stopping rule (see the
    module docstring). Scores are length-normalized log-probabilities.

    `cache` has `batch * beam_width` rows, each sentence's `beam_width` copies together (as
    `keras.ops.repeat(..., beam_width, axis=0)` makes them); every leaf of the cache is
    reordered with its hypotheses, so `step_fn` keeps what does not change per hypothesis
    (the encoder's keys and values) in its closure. Other arguments as `greedy_search`.
    """
    k = check_positive_int(beam_width, "beam_width")
    batch = _rows(limits)
    positions = _positions(length)
    among_top_k = (np.arange(2 * k) < k)[None, :]  # (1, 2k): where an [END] may finish
    limit_penalty = length_penalty(limits, alpha)  # (batch,)

    def body(*state):
        s = BeamState(*state)
        logits, cache = step_fn(s.last, s.step, s.cache)
        log_probs = _log_probs(logits, s.step, min_length)  # (batch * k, vocabulary)
        vocabulary = _vocabulary(log_probs)
        flat_alive = ops.reshape(s.alive, (-1, ops.shape(s.alive)[2]))
        log_probs = _ban_repeated_ngrams(log_probs, flat_alive, s.step, no_repeat_ngram_size)
        none = ops.full(ops.shape(log_probs), _NONE, "float32")
        log_probs = ops.where(log_probs > MASK_BIAS / 2, log_probs, none)  # forbidden: none
        candidates = s.alive_scores[:, :, None] + ops.reshape(log_probs, (batch, k, vocabulary))
        scores, indices = ops.top_k(ops.reshape(candidates, (batch, k * vocabulary)), k=2 * k)
        indices = ops.cast(indices, "int32")
        beams, tokens = indices // vocabulary, indices % vocabulary  # (batch, 2k)
        sequences = _gather_slots(s.alive, beams)  # (batch, 2k, length)
        sequences = _write(sequences, positions, s.step, tokens)
        ended = tokens == END_ID

        # Finished: the best k of the old ones and the [END]s among the top k candidates.
        penalty = length_penalty(s.step + 1, alpha)
        empty = ops.full(ops.shape(scores), _NONE, "float32")
        new_scores = ops.where(ops.logical_and(ended, among_top_k), scores / penalty, empty)
        pool_scores = ops.concatenate([s.finished_scores, new_scores], axis=1)  # (batch, 3k)
        pool = ops.concatenate([s.finished, sequences], axis=1)  # (batch, 3k, length)
        new_finished_scores, order = ops.top_k(pool_scores, k=k)
        new_finished = _gather_slots(pool, ops.cast(order, "int32"))

        # Alive: the best k candidates that did not end.
        new_alive_scores, order = ops.top_k(ops.where(ended, empty, scores), k=k)
        order = ops.cast(order, "int32")
        new_alive = _gather_slots(sequences, order)
        source_beams = _pick(beams, order)
        rows = ops.reshape(source_beams + ops.arange(batch, dtype="int32")[:, None] * k, (-1,))
        cache = keras.tree.map_structure(lambda c: ops.take(c, rows, axis=0), cache)
        last = ops.reshape(_pick(tokens, order), (batch * k, 1))

        # A sentence that is done no longer changes.
        keep = s.done[:, None]
        finished = ops.where(keep[:, :, None], s.finished, new_finished)
        finished_scores = ops.where(keep, s.finished_scores, new_finished_scores)
        alive = ops.where(keep[:, :, None], s.alive, new_alive)
        alive_scores = ops.where(keep, s.alive_scores, new_alive_scores)

        # Done: at the length limit, nothing alive, or no alive hypothesis can still win.
        # (The largest penalty any extension can get: at the limit, or next step if alpha < 0.)
        best_penalty = limit_penalty if alpha >= 0 else length_penalty(s.step + 2, alpha)
        alive_bound = alive_scores[:, 0] / best_penalty  # (batch,)
        lowest_finished = finished_scores[:, -1]  # _NONE while fewer than k are finished
        done = ops.logical_or(s.done, s.step + 1 >= limits)
        done = ops.logical_or(done, ops.logical_not(alive_scores[:, 0] > _NONE))
        done = ops.logical_or(done, lowest_finished > alive_bound)
        return BeamState(s.step + 1, last, cache, alive, alive_scores, finished,
                         finished_scores, done)  # fmt: skip

    def not_done(*state):
        s = BeamState(*state)
        return ops.logical_and(s.step < length, ops.logical_not(ops.all(s.done)))

    initial = BeamState(
        step=ops.convert_to_tensor(0, "int32"),
        last=ops.full((batch * k, 1), START_ID, dtype="int32"),
        cache=cache,
        alive=ops.zeros((batch, k, length), "int32"),
        alive_scores=ops.concatenate(
            [ops.zeros((batch, 1), "float32"), ops.full((batch, k - 1), _NONE, "float32")], 1
        ),
        finished=ops.zeros((batch, k, length), "int32"),
        finished_scores=ops.full((batch, k), _NONE, "float32"),
        done=ops.zeros((batch,), "bool"),
    )
    final = BeamState(*ops.while_loop(not_done, body, tuple(initial)))
    # A finished hypothesis beats any unfinished one; the best alive one only stands in for
    # a sentence without any finished hypothesis.
    has_finished = final.finished_scores[:, 0] > _NONE  # (batch,)
    tokens = ops.where(has_finished[:, None], final.finished[:, 0], final.alive[:, 0])
    scores = ops.where(
        has_finished, final.finished_scores[:, 0], final.alive_scores[:, 0] / limit_penalty
    )
    return _result(tokens, scores)


STRATEGIES = {"greedy": greedy_search, "beam": beam_search, "sample": sample}


def decode(step, model, source_ids, max_length, strategy="greedy", max_length_a=None,
           max_length_b=0, **options):  # fmt: skip
    """Decodes `source_ids` with `model` through the step function `step` makes.

    Args:
        step: `(model, source_ids, length, repeat) -> (step_fn, cache)`, e.g.
            `decoding.steps.cached_step`; `repeat` copies each row (one per beam).
        model: what `step` decodes with.
        source_ids: int32 `(batch, width)`, 0 = padding (any array the backend takes).
        max_length, max_length_a, max_length_b: the output limits (`output_limits`).
        strategy: `"greedy"`, `"beam"` or `"sample"`.
        **options: the strategy's own arguments (`beam_width`, `alpha`, `temperature`,
            `top_k`, `top_p`, `seed`, `min_length`, `no_repeat_ngram_size`).

    Returns:
        `SearchResult`.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {tuple(STRATEGIES)}; received {strategy!r}.")
    source_ids = ops.cast(ops.convert_to_tensor(source_ids), "int32")
    length, limits = output_limits(source_ids, max_length, max_length_a, max_length_b)
    repeat = options.get("beam_width", 4) if strategy == "beam" else 1
    step_fn, cache = step(model, source_ids, length, repeat)
    return STRATEGIES[strategy](step_fn, cache, limits, length, **options)
