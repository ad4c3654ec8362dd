"""Cached generation inside `tf.while_loop`: greedy, beam search, top-k / top-p sampling.

The source is encoded once; each decoder block projects the encoder outputs once (the
cross-attention cache) and keeps a key/value cache of its own past positions, so a step
costs the same however long the output already is. The searches know no model: each takes
a step function `step_fn(token_ids, index, cache) -> (logits, cache)` and its initial cache
(`decoding.steps` makes them from a `Transformer`), and returns a `SearchResult`: generated
ids `(batch, length)` ending with `[END]` and padded with 0 after it, their lengths, and the
model's log-probability of each sequence (beam search: the length-normalized score).
`decode` ties the pieces together.

Rules shared by every strategy:

- [PAD] and [START] are never generated, nor [END] before `min_length` tokens.
- Output lengths are relative to the source (as in fairseq and tensor2tensor): row r may
  generate `limit_r = min(max_length, ceil(max_length_a * n_r) + max_length_b)` tokens
  ([END] included, at least 1), `n_r` being its number of non-padding source tokens
  (`max_length_a=None`: `max_length` for every row). A row that reaches its limit without
  [END] stops there, unfinished. The buffers (and the loop) are as long as the limit of a
  source filling the padded width, `length = min(max_length, ceil(a * width) + b)`: a
  function of the input shape, hence a compile-time constant under XLA.

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
from typing import NamedTuple

import tensorflow as tf

from keras_transformer.constants import END_ID, MASK_BIAS, PAD_ID, START_ID
from keras_transformer.layers._validation import check_positive_float, check_positive_int

_NONE = float("-inf")  # the score of an empty beam slot (no hypothesis)


def length_penalty(length, alpha):
    """GNMT length penalty ((5 + length) / 6)^alpha (Wu et al. 2016); the paper uses 0.6."""
    return ((5.0 + tf.cast(length, tf.float32)) / 6.0) ** alpha


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
    batch = tf.shape(source_ids)[0]
    if max_length_a is None:
        return max_length, tf.fill([batch], tf.constant(max_length, tf.int32))

    def relative(n):  # float64 on both paths: the static and dynamic results agree
        n = tf.cast(n, tf.float64)
        return tf.maximum(tf.cast(tf.math.ceil(max_length_a * n), tf.int32) + max_length_b, 1)

    width = source_ids.shape[1]
    if width is not None:
        length = min(max_length, max(math.ceil(max_length_a * float(width)) + max_length_b, 1))
    else:
        length = tf.minimum(max_length, relative(tf.shape(source_ids)[1]))
    source_lengths = tf.reduce_sum(tf.cast(tf.not_equal(source_ids, PAD_ID), tf.int32), axis=1)
    return length, tf.minimum(length, relative(source_lengths))


def _log_probs(logits, step, min_length):
    """Log-softmax of the last position with [PAD] and [START] forbidden, and [END] too
    before `min_length` tokens."""
    logits = logits[:, -1, :]
    vocabulary = tf.shape(logits)[-1]
    forbidden = tf.reduce_sum(tf.one_hot([PAD_ID, START_ID], vocabulary), axis=0) > 0
    too_early = tf.logical_and(tf.equal(tf.range(vocabulary), END_ID), step < min_length)
    forbidden = tf.logical_or(forbidden, too_early)
    return tf.nn.log_softmax(tf.where(forbidden, MASK_BIAS, logits), axis=-1)


def _ban_repeated_ngrams(log_probs, tokens, step, size):
    """`log_probs` with every token that would repeat an n-gram of `size` tokens already in
    `tokens` forbidden (fairseq's and Hugging Face's `no_repeat_ngram_size`): an undertrained
    model otherwise loops ("été été été", "ナナナナナ"). `size` 0 changes nothing.

    log_probs (rows, vocabulary); tokens (rows, length), the first `step` of them generated.
    """
    if not size:
        return log_probs
    length = tokens.shape[1] if tokens.shape[1] is not None else tf.shape(tokens)[1]
    context = size - 1  # the tokens an n-gram needs before its last one
    if context == 0:  # unigrams: no token twice
        seen = tf.one_hot(tokens, tf.shape(log_probs)[-1], dtype=tf.int32)
        seen *= tf.cast(tf.range(length) < step, tf.int32)[None, :, None]
        return tf.where(tf.reduce_max(seen, axis=1) > 0, MASK_BIAS, log_probs)
    last = tf.gather(tokens, tf.maximum(step - context + tf.range(context), 0), axis=1)
    starts = tf.maximum(length - context, 0)  # n-grams may start at j = 0 .. length - size
    windows = tf.stack([tokens[:, i : i + starts] for i in range(context)], axis=-1)
    following = tokens[:, context : context + starts]  # (rows, starts): each window's next
    # (rows, starts, context); only windows whose follower is already generated count.
    complete = tf.range(starts) <= step - size
    match = tf.reduce_all(tf.equal(windows, last[:, None, :]), axis=-1) & complete[None, :]
    rows = tf.shape(tokens)[0]
    row_ids = tf.broadcast_to(tf.range(rows)[:, None], tf.shape(following))
    indices = tf.stack([row_ids, following], axis=-1)  # (rows, starts, 2)
    banned = tf.tensor_scatter_nd_add(
        tf.zeros(tf.shape(log_probs), tf.int32), indices, tf.cast(match, tf.int32)
    )
    return tf.where(banned > 0, MASK_BIAS, log_probs)


class SearchResult(NamedTuple):
    """What every search returns."""

    ids: tf.Tensor  # (batch, length) int32: the tokens, [END] last, 0 after it
    lengths: tf.Tensor  # (batch,) int32: tokens generated, [END] included
    scores: tf.Tensor  # (batch,) float32: log-probability (beam search: length-normalized)


def _result(ids, scores):
    return SearchResult(ids, tf.reduce_sum(tf.cast(ids != PAD_ID, tf.int32), axis=1), scores)


class _SequenceState(NamedTuple):
    """The loop state of greedy decoding and sampling."""

    step: tf.Tensor  # () int32: the position being generated
    last: tf.Tensor  # (batch, 1) int32: the previous token
    cache: object  # the step function's cache (a nest of (batch, ...) tensors)
    tokens: tf.Tensor  # (batch, length) int32: the tokens so far, 0 after them
    finished: tf.Tensor  # (batch,) bool
    scores: tf.Tensor  # (batch,) float32: the summed log-probabilities


def _sequential(step_fn, cache, limits, length, choose, min_length=0, no_repeat_ngram_size=0):
    """The loop shared by greedy decoding and sampling; `choose(log_probs, step)` picks the
    next token of each sequence."""
    batch = limits.shape[0] if limits.shape[0] is not None else tf.shape(limits)[0]

    def body(*state):
        s = _SequenceState(*state)
        logits, cache = step_fn(s.last, s.step, s.cache)
        log_probs = _log_probs(logits, s.step, min_length)  # (batch, vocabulary)
        log_probs = _ban_repeated_ngrams(log_probs, s.tokens, s.step, no_repeat_ngram_size)
        chosen = tf.cast(choose(log_probs, s.step), tf.int32)  # (batch,)
        chosen = tf.where(s.finished, PAD_ID, chosen)
        picked = tf.gather(log_probs, chosen, batch_dims=1)
        # A row stops at [END] or at its own length limit (then without [END]).
        return _SequenceState(
            step=s.step + 1,
            last=chosen[:, None],
            cache=cache,
            tokens=s.tokens + tf.one_hot(s.step, length, dtype=tf.int32) * chosen[:, None],
            finished=s.finished | tf.equal(chosen, END_ID) | (s.step + 1 >= limits),
            scores=s.scores + tf.where(s.finished, 0.0, picked),
        )

    def not_done(*state):
        s = _SequenceState(*state)
        return tf.logical_and(s.step < length, tf.logical_not(tf.reduce_all(s.finished)))

    initial = _SequenceState(
        step=tf.constant(0),
        last=tf.fill([batch, 1], START_ID),
        cache=cache,
        tokens=tf.zeros([batch, length], tf.int32),
        finished=tf.zeros([batch], tf.bool),
        scores=tf.zeros([batch], tf.float32),
    )
    final = _SequenceState(*tf.while_loop(not_done, body, tuple(initial)))
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
        lambda log_probs, _: tf.argmax(log_probs, axis=-1),
        min_length,
        no_repeat_ngram_size,
    )


def sample(step_fn, cache, limits, length, temperature=1.0, top_k=0, top_p=1.0, seed=0,
           min_length=0, no_repeat_ngram_size=0):  # fmt: skip
    """Samples each token from the (temperature-scaled, top-k / top-p filtered) distribution.

    `top_k=0` and `top_p=1.0` disable the filters; `top_k=1` is greedy decoding. The seed
    makes the result reproducible (stateless random ops, one seed per step). Other arguments
    as `greedy_search`.
    """
    check_sampling(temperature, top_k, top_p)

    def choose(log_probs, step):
        logits = log_probs / temperature
        if top_k:
            kth = tf.math.top_k(logits, k=top_k).values[:, -1:]
            logits = tf.where(logits < kth, MASK_BIAS, logits)
        if top_p < 1.0:
            ordered = tf.sort(logits, direction="DESCENDING", axis=-1)
            before = tf.math.cumsum(tf.nn.softmax(ordered, axis=-1), axis=-1, exclusive=True)
            kept = tf.where(before < top_p, ordered, tf.reduce_max(ordered, -1, keepdims=True))
            logits = tf.where(logits < tf.reduce_min(kept, -1, keepdims=True), MASK_BIAS, logits)
        return tf.random.stateless_categorical(logits, 1, seed=tf.stack([seed, step]))[:, 0]

    return _sequential(step_fn, cache, limits, length, choose, min_length, no_repeat_ngram_size)


def check_sampling(temperature, top_k, top_p):
    """Raises ValueError unless `temperature > 0`, `top_k >= 0` and `0 < top_p <= 1`."""
    check_positive_float(temperature, "temperature")
    if top_k < 0 or not 0 < top_p <= 1:
        raise ValueError(f"Need top_k >= 0 and 0 < top_p <= 1; received {top_k}, {top_p}.")


class BeamState(NamedTuple):
    """The loop state of beam search (`k` beams; slots best first, `_NONE` = empty)."""

    step: tf.Tensor  # () int32: the position being generated
    last: tf.Tensor  # (batch * k, 1) int32: each alive hypothesis's last token
    cache: object  # the step function's cache, (batch * k, ...) rows
    alive: tf.Tensor  # (batch, k, length) int32: the hypotheses still growing
    alive_scores: tf.Tensor  # (batch, k) float32: their raw log-probabilities
    finished: tf.Tensor  # (batch, k, length) int32: the best ended hypotheses
    finished_scores: tf.Tensor  # (batch, k) float32: their length-normalized scores
    done: tf.Tensor  # (batch,) bool: the sentence can no longer change


def beam_search(step_fn, cache, limits, length, beam_width=4, alpha=0.6, min_length=0,
                no_repeat_ngram_size=0):  # fmt: skip
    """Beam search with the GNMT length penalty and tensor2tensor's stopping rule (see the
    module docstring). Scores are length-normalized log-probabilities.

    `cache` has `batch * beam_width` rows, each sentence's `beam_width` copies together (as
    `tf.repeat(..., beam_width, axis=0)` makes them); every leaf of the cache is reordered
    with its hypotheses, so `step_fn` keeps what does not change per hypothesis (the
    encoder's keys and values) in its closure. Other arguments as `greedy_search`.
    """
    k = check_positive_int(beam_width, "beam_width")
    batch = limits.shape[0] if limits.shape[0] is not None else tf.shape(limits)[0]
    among_top_k = tf.range(2 * k)[None, :] < k  # (1, 2k): where an [END] may finish
    limit_penalty = length_penalty(limits, alpha)  # (batch,)

    def body(*state):
        s = BeamState(*state)
        logits, cache = step_fn(s.last, s.step, s.cache)
        log_probs = _log_probs(logits, s.step, min_length)  # (batch * k, vocabulary)
        flat_alive = tf.reshape(s.alive, [batch * k, length])
        log_probs = _ban_repeated_ngrams(log_probs, flat_alive, s.step, no_repeat_ngram_size)
        log_probs = tf.where(log_probs > MASK_BIAS / 2, log_probs, _NONE)  # forbidden: none
        vocabulary = tf.shape(log_probs)[-1]
        candidates = s.alive_scores[:, :, None] + tf.reshape(log_probs, [batch, k, vocabulary])
        scores, indices = tf.math.top_k(tf.reshape(candidates, [batch, -1]), k=2 * k)
        beams, tokens = indices // vocabulary, indices % vocabulary  # (batch, 2k)
        sequences = tf.gather(s.alive, beams, batch_dims=1)  # (batch, 2k, length)
        sequences += tf.one_hot(s.step, length, dtype=tf.int32) * tokens[:, :, None]
        ended = tf.equal(tokens, END_ID)

        # Finished: the best k of the old ones and the [END]s among the top k candidates.
        penalty = length_penalty(s.step + 1, alpha)
        new_scores = tf.where(ended & among_top_k, scores / penalty, _NONE)
        pool_scores = tf.concat([s.finished_scores, new_scores], axis=1)  # (batch, 3k)
        pool = tf.concat([s.finished, sequences], axis=1)  # (batch, 3k, length)
        new_finished_scores, order = tf.math.top_k(pool_scores, k=k)
        new_finished = tf.gather(pool, order, batch_dims=1)

        # Alive: the best k candidates that did not end.
        new_alive_scores, order = tf.math.top_k(tf.where(ended, _NONE, scores), k=k)
        new_alive = tf.gather(sequences, order, batch_dims=1)
        source_beams = tf.gather(beams, order, batch_dims=1) + tf.range(batch)[:, None] * k
        rows = tf.reshape(source_beams, [-1])
        cache = tf.nest.map_structure(lambda c: tf.gather(c, rows), cache)
        last = tf.reshape(tf.gather(tokens, order, batch_dims=1), [-1, 1])

        # A sentence that is done no longer changes.
        keep = s.done[:, None]
        finished = tf.where(keep[:, :, None], s.finished, new_finished)
        finished_scores = tf.where(keep, s.finished_scores, new_finished_scores)
        alive = tf.where(keep[:, :, None], s.alive, new_alive)
        alive_scores = tf.where(keep, s.alive_scores, new_alive_scores)

        # Done: at the length limit, nothing alive, or no alive hypothesis can still win.
        # (The largest penalty any extension can get: at the limit, or next step if alpha < 0.)
        best_penalty = limit_penalty if alpha >= 0 else length_penalty(s.step + 2, alpha)
        alive_bound = alive_scores[:, 0] / best_penalty  # (batch,)
        lowest_finished = finished_scores[:, -1]  # _NONE while fewer than k are finished
        done = (
            s.done
            | (s.step + 1 >= limits)
            | tf.logical_not(alive_scores[:, 0] > _NONE)
            | (lowest_finished > alive_bound)
        )
        return BeamState(s.step + 1, last, cache, alive, alive_scores, finished,
                         finished_scores, done)  # fmt: skip

    def not_done(*state):
        s = BeamState(*state)
        return tf.logical_and(s.step < length, tf.logical_not(tf.reduce_all(s.done)))

    initial = BeamState(
        step=tf.constant(0),
        last=tf.fill([batch * k, 1], START_ID),
        cache=cache,
        alive=tf.zeros([batch, k, length], tf.int32),
        alive_scores=tf.concat([tf.zeros([batch, 1]), tf.fill([batch, k - 1], _NONE)], 1),
        finished=tf.zeros([batch, k, length], tf.int32),
        finished_scores=tf.fill([batch, k], _NONE),
        done=tf.zeros([batch], tf.bool),
    )
    final = BeamState(*tf.while_loop(not_done, body, tuple(initial)))
    # A finished hypothesis beats any unfinished one; the best alive one only stands in for
    # a sentence without any finished hypothesis.
    has_finished = final.finished_scores[:, 0] > _NONE  # (batch,)
    tokens = tf.where(has_finished[:, None], final.finished[:, 0], final.alive[:, 0])
    scores = tf.where(
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
        source_ids: int32 `(batch, width)`, 0 = padding.
        max_length, max_length_a, max_length_b: the output limits (`output_limits`).
        strategy: `"greedy"`, `"beam"` or `"sample"`.
        **options: the strategy's own arguments (`beam_width`, `alpha`, `temperature`,
            `top_k`, `top_p`, `seed`, `min_length`, `no_repeat_ngram_size`).

    Returns:
        `SearchResult`.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {tuple(STRATEGIES)}; received {strategy!r}.")
    length, limits = output_limits(source_ids, max_length, max_length_a, max_length_b)
    repeat = options.get("beam_width", 4) if strategy == "beam" else 1
    step_fn, cache = step(model, source_ids, length, repeat)
    return STRATEGIES[strategy](step_fn, cache, limits, length, **options)
