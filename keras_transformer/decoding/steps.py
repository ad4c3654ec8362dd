"""Step functions: what the searches call to get the next token's logits.

A step maker is `(model, source_ids, length, repeat) -> (step_fn, cache)`;
`step_fn(token_ids, index, cache) -> (logits, cache)` takes the `(rows, 1)` tokens at
position `index` and returns float32 logits `(rows, 1, vocabulary)`. `repeat` copies each
source row (beam search keeps a sentence's hypotheses together). The searches reorder every
leaf of `cache` with its hypotheses; what is the same for all of a sentence's hypotheses
stays in the step function's closure.
"""

import tensorflow as tf

from keras_transformer.constants import PAD_ID
from keras_transformer.models import DecoderCache


def cached_step(model, source_ids, length, repeat=1):
    """A `Transformer`'s cached decoding: the source encoded once, the cross-attention keys
    and values computed once (in the closure), each step one position through the decoder
    against the self-attention caches (the `cache` the search reorders)."""
    encoder_outputs, source_mask = model.encode(source_ids)
    if repeat > 1:  # one copy per beam: (batch * beams, ...)
        encoder_outputs = tf.repeat(encoder_outputs, repeat, axis=0)
        source_mask = tf.repeat(source_mask, repeat, axis=0)
    cache = model.initial_cache(encoder_outputs, length)
    cross_attention = cache.cross_attention

    def step_fn(token_ids, index, self_attention):
        logits, cache = model.decode_step(
            token_ids, index, DecoderCache(self_attention, cross_attention), source_mask
        )
        return logits, cache.self_attention

    return step_fn, cache.self_attention


def uncached_step(model, source_ids, length, repeat=1):
    """The test oracle and benchmark baseline: each step runs the whole model (the encoder
    included) on the whole target prefix. Its cache is the prefix `(rows, length + 1)`."""
    if repeat > 1:
        source_ids = tf.repeat(source_ids, repeat, axis=0)
    rows = source_ids.shape[0] if source_ids.shape[0] is not None else tf.shape(source_ids)[0]

    def step_fn(token_ids, index, prefix):
        prefix += tf.one_hot(index, tf.shape(prefix)[1], dtype=tf.int32) * token_ids
        logits = model(
            {"encoder_inputs": source_ids, "decoder_inputs": prefix[:, : index + 1]},
            training=False,
        )
        return tf.cast(logits[:, -1:], tf.float32), prefix

    return step_fn, tf.fill([rows, length + 1], PAD_ID)


def language_model_step(model, prompt_ids, length, repeat=1):
    """A `LanguageModel`'s cached continuation of `prompt_ids` `(batch, prompt_length)`
    (every row as long, no padding; `[START]` first). The whole prompt fills the cache in one
    call, whose last logits are step 0's; step i > 0 feeds the token chosen at step i - 1 at
    position `prompt_length - 1 + i`. `length` new tokens need `prompt_length + length - 1`
    positions."""
    if repeat > 1:
        prompt_ids = tf.repeat(prompt_ids, repeat, axis=0)
    rows = prompt_ids.shape[0] if prompt_ids.shape[0] is not None else tf.shape(prompt_ids)[0]
    prompt_length = tf.shape(prompt_ids)[1]
    cache = model.initial_cache(rows, prompt_length + length - 1)
    logits, cache = model.decode_step(prompt_ids, 0, cache)
    first = logits[:, -1:]

    def step_fn(token_ids, index, cache):
        return tf.cond(
            tf.equal(index, 0),
            lambda: (first, cache),
            lambda: model.decode_step(token_ids, prompt_length - 1 + index, cache),
        )

    return step_fn, cache
