"""Cached generation inside `tf.while_loop`: greedy, beam search, top-k / top-p sampling.

The source is encoded once; each decoder block projects the encoder outputs once (the
cross-attention cache) and keeps a key/value cache of its own past positions, so a step
costs the same however long the output already is. Every function takes int32 source ids
`(batch, source_length)` (0 = padding) and returns `(tokens, scores)`: generated ids
`(batch, max_length)` ending with `[END]` and padded with 0 after it, and the model's
log-probability of each sequence (beam search: the length-normalized score).
[PAD] and [START] are never generated, nor [END] before `min_length` tokens.
"""

import tensorflow as tf

from keras_transformer.data.tokenizers import END_ID, PAD_ID, START_ID

_NEG_INF = -1e9


def length_penalty(length, alpha):
    """GNMT length penalty ((5 + length) / 6)^alpha (Wu et al. 2016); the paper uses 0.6."""
    return ((5.0 + tf.cast(length, tf.float32)) / 6.0) ** alpha


def _log_probs(logits, step, min_length):
    """Log-softmax of the last position with [PAD] and [START] forbidden, and [END] too
    before `min_length` tokens."""
    logits = logits[:, -1, :]
    vocabulary = tf.shape(logits)[-1]
    forbidden = tf.reduce_sum(tf.one_hot([PAD_ID, START_ID], vocabulary), axis=0) > 0
    too_early = tf.logical_and(tf.equal(tf.range(vocabulary), END_ID), step < min_length)
    forbidden = tf.logical_or(forbidden, too_early)
    return tf.nn.log_softmax(tf.where(forbidden, _NEG_INF, logits), axis=-1)


def _start(parts, source_ids, max_length, repeat=1):
    encoder_outputs, source_mask = parts.encode(source_ids)
    if repeat > 1:  # one copy per beam: (batch * beams, ...)
        encoder_outputs = tf.repeat(encoder_outputs, repeat, axis=0)
        source_mask = tf.repeat(source_mask, repeat, axis=0)
    batch = tf.shape(encoder_outputs)[0]
    cross_caches = parts.cross_caches(encoder_outputs)
    self_caches = parts.empty_self_caches(batch, max_length)
    return batch, source_mask, cross_caches, self_caches


def _sequential(parts, source_ids, max_length, choose, min_length=0):
    """The loop shared by greedy decoding and sampling; `choose(log_probs, step)` picks the
    next token of each sequence."""
    batch, source_mask, cross_caches, self_caches = _start(parts, source_ids, max_length)

    def body(step, last, self_caches, tokens, finished, scores):
        logits, self_caches = parts.step(last, step, self_caches, cross_caches, source_mask)
        log_probs = _log_probs(logits, step, min_length)
        chosen = tf.cast(choose(log_probs, step), tf.int32)
        chosen = tf.where(finished, PAD_ID, chosen)
        picked = tf.gather(log_probs, chosen, batch_dims=1)
        scores += tf.where(finished, 0.0, picked)
        tokens += tf.one_hot(step, max_length, dtype=tf.int32) * chosen[:, None]
        finished = tf.logical_or(finished, tf.equal(chosen, END_ID))
        return step + 1, chosen[:, None], self_caches, tokens, finished, scores

    def not_done(step, last, self_caches, tokens, finished, scores):
        return tf.logical_and(step < max_length, tf.logical_not(tf.reduce_all(finished)))

    _, _, _, tokens, _, scores = tf.while_loop(
        not_done,
        body,
        (
            tf.constant(0),
            tf.fill([batch, 1], START_ID),
            self_caches,
            tf.zeros([batch, max_length], tf.int32),
            tf.zeros([batch], tf.bool),
            tf.zeros([batch], tf.float32),
        ),
    )
    return tokens, scores


def greedy_search(parts, source_ids, max_length, min_length=0):
    """The most likely next token at each step."""
    return _sequential(
        parts,
        source_ids,
        max_length,
        lambda log_probs, _: tf.argmax(log_probs, axis=-1),
        min_length,
    )


def sample(
    parts, source_ids, max_length, temperature=1.0, top_k=0, top_p=1.0, seed=0, min_length=0
):
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

    return _sequential(parts, source_ids, max_length, choose, min_length)


def beam_search(parts, source_ids, max_length, beam_width=4, alpha=0.6, min_length=0):
    """Beam search with the GNMT length penalty; a sentence stops once it has `beam_width`
    finished hypotheses (an `[END]` counts only from one of the current top `beam_width`
    candidates, so width 1 is greedy decoding).

    The greedy hypothesis competes too, so the returned length-normalized score is never
    worse than greedy decoding's.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1; received {beam_width}.")
    k = beam_width
    greedy_tokens, greedy_scores = greedy_search(parts, source_ids, max_length, min_length)
    flat_batch, source_mask, cross_caches, self_caches = _start(
        parts, source_ids, max_length, repeat=k
    )
    batch = flat_batch // k
    positions = tf.range(2 * k)[None, :]

    def body(step, last, self_caches, alive, alive_scores, done_seqs, done_scores, done):
        logits, self_caches = parts.step(last, step, self_caches, cross_caches, source_mask)
        log_probs = _log_probs(logits, step, min_length)
        vocabulary = tf.shape(log_probs)[-1]
        candidates = alive_scores[:, :, None] + tf.reshape(log_probs, [batch, k, vocabulary])
        scores, indices = tf.math.top_k(tf.reshape(candidates, [batch, -1]), k=2 * k)
        beams, tokens = indices // vocabulary, indices % vocabulary
        sequences = tf.gather(alive, beams, batch_dims=1)
        sequences += tf.one_hot(step, max_length, dtype=tf.int32) * tokens[:, :, None]
        ended = tf.logical_and(tf.equal(tokens, END_ID), positions < k)
        # Finished hypotheses: keep the best k by length-normalized score.
        normalized = tf.where(ended, scores / length_penalty(step + 1, alpha), _NEG_INF)
        pool_scores = tf.concat([done_scores, normalized], axis=1)
        pool_seqs = tf.concat([done_seqs, sequences], axis=1)
        best, order = tf.math.top_k(pool_scores, k=k)
        keep = done[:, None]  # a sentence that is done no longer changes
        done_scores = tf.where(keep, done_scores, best)
        done_seqs = tf.where(keep[:, :, None], done_seqs, tf.gather(pool_seqs, order, batch_dims=1))
        # Alive hypotheses: the best k that did not end.
        open_scores = tf.where(tf.equal(tokens, END_ID), _NEG_INF, scores)
        alive_scores, order = tf.math.top_k(open_scores, k=k)
        alive = tf.gather(sequences, order, batch_dims=1)
        source_beams = tf.gather(beams, order, batch_dims=1) + tf.range(batch)[:, None] * k
        source_beams = tf.reshape(source_beams, [-1])
        self_caches = tuple(tf.gather(cache, source_beams) for cache in self_caches)
        last = tf.reshape(tf.gather(tokens, order, batch_dims=1), [-1, 1])
        done = tf.logical_or(done, tf.reduce_all(done_scores > _NEG_INF / 2, axis=1))
        return step + 1, last, self_caches, alive, alive_scores, done_seqs, done_scores, done

    def not_done(step, *state):
        return tf.logical_and(step < max_length, tf.logical_not(tf.reduce_all(state[-1])))

    first_beam_only = tf.concat([tf.zeros([batch, 1]), tf.fill([batch, k - 1], _NEG_INF)], 1)
    state = tf.while_loop(
        not_done,
        body,
        (
            tf.constant(0),
            tf.fill([flat_batch, 1], START_ID),
            self_caches,
            tf.zeros([batch, k, max_length], tf.int32),
            first_beam_only,
            tf.zeros([batch, k, max_length], tf.int32),
            tf.fill([batch, k], _NEG_INF),
            tf.zeros([batch], tf.bool),
        ),
    )
    _, _, _, alive, alive_scores, done_seqs, done_scores, done = state
    # Sentences that reached max_length without k finished hypotheses: alive ones compete.
    alive_normalized = tf.where(
        done[:, None], _NEG_INF, alive_scores / length_penalty(max_length, alpha)
    )
    pool_scores = tf.concat([done_scores, alive_normalized], axis=1)
    pool_seqs = tf.concat([done_seqs, alive], axis=1)
    best = tf.argmax(pool_scores, axis=1, output_type=tf.int32)
    beam_tokens = tf.gather(pool_seqs, best, batch_dims=1)
    beam_scores = tf.gather(pool_scores, best, batch_dims=1)
    greedy_length = tf.reduce_sum(tf.cast(greedy_tokens != PAD_ID, tf.int32), axis=1)
    greedy_normalized = greedy_scores / length_penalty(greedy_length, alpha)
    use_greedy = greedy_normalized > beam_scores
    tokens = tf.where(use_greedy[:, None], greedy_tokens, beam_tokens)
    return tokens, tf.where(use_greedy, greedy_normalized, beam_scores)
