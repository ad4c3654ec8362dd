"""Cached generation inside `tf.while_loop`: greedy, beam search, top-k / top-p sampling.

The source is encoded once; each decoder block projects the encoder outputs once (the
cross-attention cache) and keeps a key/value cache of its own past positions, so a step
costs the same however long the output already is. Every function takes int32 source ids
`(batch, source_width)` (0 = padding) and returns `(tokens, scores)`: generated ids
`(batch, length)` ending with `[END]` and padded with 0 after it, and the model's
log-probability of each sequence (beam search: the length-normalized score).

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

import tensorflow as tf

from keras_transformer.data.tokenizers import END_ID, PAD_ID, START_ID

_NEG_INF = -1e9  # the logit of a forbidden token
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
    return tf.nn.log_softmax(tf.where(forbidden, _NEG_INF, logits), axis=-1)


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
        return tf.where(tf.reduce_max(seen, axis=1) > 0, _NEG_INF, log_probs)
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
    return tf.where(banned > 0, _NEG_INF, log_probs)


def _start(parts, source_ids, length, repeat=1):
    encoder_outputs, source_mask = parts.encode(source_ids)
    if repeat > 1:  # one copy per beam: (batch * beams, ...)
        encoder_outputs = tf.repeat(encoder_outputs, repeat, axis=0)
        source_mask = tf.repeat(source_mask, repeat, axis=0)
    batch = encoder_outputs.shape[0]  # static when known: loop shapes stay consistent
    if batch is None:
        batch = tf.shape(encoder_outputs)[0]
    cross_caches = parts.cross_caches(encoder_outputs)
    self_caches = parts.empty_self_caches(batch, length)
    return batch, source_mask, cross_caches, self_caches


def _sequential(parts, source_ids, max_length, choose, min_length, max_length_a, max_length_b,
                no_repeat_ngram_size=0):  # fmt: skip
    """The loop shared by greedy decoding and sampling; `choose(log_probs, step)` picks the
    next token of each sequence."""
    length, limits = output_limits(source_ids, max_length, max_length_a, max_length_b)
    batch, source_mask, cross_caches, self_caches = _start(parts, source_ids, length)

    def body(step, last, self_caches, tokens, finished, scores):
        # last (batch, 1); tokens (batch, length); finished, scores (batch,)
        logits, self_caches = parts.step(last, step, self_caches, cross_caches, source_mask)
        log_probs = _log_probs(logits, step, min_length)  # (batch, vocabulary)
        log_probs = _ban_repeated_ngrams(log_probs, tokens, step, no_repeat_ngram_size)
        chosen = tf.cast(choose(log_probs, step), tf.int32)  # (batch,)
        chosen = tf.where(finished, PAD_ID, chosen)
        picked = tf.gather(log_probs, chosen, batch_dims=1)
        scores += tf.where(finished, 0.0, picked)
        tokens += tf.one_hot(step, length, dtype=tf.int32) * chosen[:, None]
        # A row stops at [END] or at its own length limit (then without [END]).
        finished = finished | tf.equal(chosen, END_ID) | (step + 1 >= limits)
        return step + 1, chosen[:, None], self_caches, tokens, finished, scores

    def not_done(step, last, self_caches, tokens, finished, scores):
        return tf.logical_and(step < length, tf.logical_not(tf.reduce_all(finished)))

    _, _, _, tokens, _, scores = tf.while_loop(
        not_done,
        body,
        (
            tf.constant(0),
            tf.fill([batch, 1], START_ID),
            self_caches,
            tf.zeros([batch, length], tf.int32),
            tf.zeros([batch], tf.bool),
            tf.zeros([batch], tf.float32),
        ),
    )
    return tokens, scores


def greedy_search(parts, source_ids, max_length, min_length=0, *, max_length_a=None,
                  max_length_b=0, no_repeat_ngram_size=0):  # fmt: skip
    """The most likely next token at each step."""
    return _sequential(
        parts,
        source_ids,
        max_length,
        lambda log_probs, _: tf.argmax(log_probs, axis=-1),
        min_length,
        max_length_a,
        max_length_b,
        no_repeat_ngram_size,
    )


def sample(
    parts, source_ids, max_length, temperature=1.0, top_k=0, top_p=1.0, seed=0, min_length=0,
    *, max_length_a=None, max_length_b=0, no_repeat_ngram_size=0,
):  # fmt: skip
    """Samples each token from the (temperature-scaled, top-k / top-p filtered) distribution.

    `top_k=0` and `top_p=1.0` disable the filters; `top_k=1` is greedy decoding. The seed
    makes the result reproducible (stateless random ops, one seed per step).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive; received {temperature}.")
    if top_k < 0 or not 0 < top_p <= 1:
        raise ValueError(f"Need top_k >= 0 and 0 < top_p <= 1; received {top_k}, {top_p}.")

    def choose(log_probs, step):
        logits = log_probs / temperature
        if top_k:
            kth = tf.math.top_k(logits, k=top_k).values[:, -1:]
            logits = tf.where(logits < kth, _NEG_INF, logits)
        if top_p < 1.0:
            ordered = tf.sort(logits, direction="DESCENDING", axis=-1)
            before = tf.math.cumsum(tf.nn.softmax(ordered, axis=-1), axis=-1, exclusive=True)
            kept = tf.where(before < top_p, ordered, tf.reduce_max(ordered, -1, keepdims=True))
            logits = tf.where(logits < tf.reduce_min(kept, -1, keepdims=True), _NEG_INF, logits)
        return tf.random.stateless_categorical(logits, 1, seed=tf.stack([seed, step]))[:, 0]

    return _sequential(
        parts, source_ids, max_length, choose, min_length, max_length_a, max_length_b,
        no_repeat_ngram_size,
    )  # fmt: skip


def beam_search(
    parts, source_ids, max_length, beam_width=4, alpha=0.6, min_length=0,
    *, max_length_a=None, max_length_b=0, no_repeat_ngram_size=0,
):  # fmt: skip
    """Beam search with the GNMT length penalty and tensor2tensor's stopping rule (see the
    module docstring). Scores are length-normalized log-probabilities."""
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1; received {beam_width}.")
    k = beam_width
    length, limits = output_limits(source_ids, max_length, max_length_a, max_length_b)
    flat_batch, source_mask, cross_caches, self_caches = _start(parts, source_ids, length, repeat=k)
    batch = flat_batch // k
    among_top_k = tf.range(2 * k)[None, :] < k  # (1, 2k): where an [END] may finish
    limit_penalty = length_penalty(limits, alpha)  # (batch,)

    def body(step, last, self_caches, alive, alive_scores, finished, finished_scores, done):
        # last (batch * k, 1); alive, finished (batch, k, length); alive_scores,
        # finished_scores (batch, k), best first, _NONE = empty slot; done (batch,)
        logits, self_caches = parts.step(last, step, self_caches, cross_caches, source_mask)
        log_probs = _log_probs(logits, step, min_length)  # (batch * k, vocabulary)
        flat_alive = tf.reshape(alive, [batch * k, length])
        log_probs = _ban_repeated_ngrams(log_probs, flat_alive, step, no_repeat_ngram_size)
        log_probs = tf.where(log_probs > _NEG_INF / 2, log_probs, _NONE)  # forbidden: none
        vocabulary = tf.shape(log_probs)[-1]
        candidates = alive_scores[:, :, None] + tf.reshape(log_probs, [batch, k, vocabulary])
        scores, indices = tf.math.top_k(tf.reshape(candidates, [batch, -1]), k=2 * k)
        beams, tokens = indices // vocabulary, indices % vocabulary  # (batch, 2k)
        sequences = tf.gather(alive, beams, batch_dims=1)  # (batch, 2k, length)
        sequences += tf.one_hot(step, length, dtype=tf.int32) * tokens[:, :, None]
        ended = tf.equal(tokens, END_ID)

        # Finished: the best k of the old ones and the [END]s among the top k candidates.
        new_scores = tf.where(ended & among_top_k, scores / length_penalty(step + 1, alpha), _NONE)
        pool_scores = tf.concat([finished_scores, new_scores], axis=1)  # (batch, 3k)
        pool = tf.concat([finished, sequences], axis=1)  # (batch, 3k, length)
        new_finished_scores, order = tf.math.top_k(pool_scores, k=k)
        new_finished = tf.gather(pool, order, batch_dims=1)

        # Alive: the best k candidates that did not end.
        new_alive_scores, order = tf.math.top_k(tf.where(ended, _NONE, scores), k=k)
        new_alive = tf.gather(sequences, order, batch_dims=1)
        source_beams = tf.gather(beams, order, batch_dims=1) + tf.range(batch)[:, None] * k
        self_caches = tuple(tf.gather(c, tf.reshape(source_beams, [-1])) for c in self_caches)
        last = tf.reshape(tf.gather(tokens, order, batch_dims=1), [-1, 1])

        # A sentence that is done no longer changes.
        keep = done[:, None]
        finished = tf.where(keep[:, :, None], finished, new_finished)
        finished_scores = tf.where(keep, finished_scores, new_finished_scores)
        alive = tf.where(keep[:, :, None], alive, new_alive)
        alive_scores = tf.where(keep, alive_scores, new_alive_scores)

        # Done: at the length limit, nothing alive, or no alive hypothesis can still win.
        # (The largest penalty any extension can get: at the limit, or next step if alpha < 0.)
        best_penalty = limit_penalty if alpha >= 0 else length_penalty(step + 2, alpha)
        alive_bound = alive_scores[:, 0] / best_penalty  # (batch,)
        lowest_finished = finished_scores[:, -1]  # _NONE while fewer than k are finished
        done = (
            done
            | (step + 1 >= limits)
            | tf.logical_not(alive_scores[:, 0] > _NONE)
            | (lowest_finished > alive_bound)
        )
        return step + 1, last, self_caches, alive, alive_scores, finished, finished_scores, done

    def not_done(step, *state):
        return tf.logical_and(step < length, tf.logical_not(tf.reduce_all(state[-1])))

    first_beam_only = tf.concat([tf.zeros([batch, 1]), tf.fill([batch, k - 1], _NONE)], 1)
    state = tf.while_loop(
        not_done,
        body,
        (
            tf.constant(0),
            tf.fill([flat_batch, 1], START_ID),
            self_caches,
            tf.zeros([batch, k, length], tf.int32),
            first_beam_only,
            tf.zeros([batch, k, length], tf.int32),
            tf.fill([batch, k], _NONE),
            tf.zeros([batch], tf.bool),
        ),
    )
    _, _, _, alive, alive_scores, finished, finished_scores, _ = state
    # A finished hypothesis beats any unfinished one; the best alive one only stands in for
    # a sentence without any finished hypothesis.
    has_finished = finished_scores[:, 0] > _NONE  # (batch,)
    tokens = tf.where(has_finished[:, None], finished[:, 0], alive[:, 0])
    scores = tf.where(has_finished, finished_scores[:, 0], alive_scores[:, 0] / limit_penalty)
    return tokens, scores
