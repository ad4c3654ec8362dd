"""Step functions: what the searches call to get the next token's logits.

A step maker is `(model, source_ids, length, repeat) -> (step_fn, cache)`;
`step_fn(token_ids, index, cache) -> (logits, cache)` takes the `(rows, 1)` tokens at
position `index` and returns float32 logits `(rows, 1, vocabulary)`. `repeat` copies each
source row (beam search keeps a sentence's hypotheses together). The searches reorder every
leaf of `cache` with its hypotheses; what is the same for all of a sentence's hypotheses
stays in the step function's closure. Written with `keras.ops`: any Keras backend.
"""

import keras
from keras import ops

from keras_transformer.constants import PAD_ID
from keras_transformer.models import DecoderCache


def _rows(x):
    return x.shape[0] if x.shape[0] is not None else ops.shape(x)[0]


def cached_step(model, source_ids, length, repeat=1):
    """A `Transformer`'s cached decoding: the source encoded once, the cross-attention keys
    and values computed once (in the closure), each step one position through the decoder
    against the self-attention caches (the `cache` the search reorders)."""
    encoder_outputs, source_mask = model.encode(source_ids)
    if repeat > 1:  # one copy per beam: (batch * beams, ...)
        encoder_outputs = ops.repeat(encoder_outputs, repeat, axis=0)
        source_mask = ops.repeat(source_mask, repeat, axis=0)
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
    included) on the whole target prefix. Its cache is the prefix `(rows, length + 1)`.

    Under JAX, whose loops need static shapes, the model runs on all `length + 1` positions
    of the prefix (those after `index` are padding, which a causal decoder does not see)
    and the logits of position `index` are taken; elsewhere it runs on the `index + 1`
    positions written so far."""
    if repeat > 1:
        source_ids = ops.repeat(source_ids, repeat, axis=0)
    rows = _rows(source_ids)
    static = keras.backend.backend() == "jax"

    def step_fn(token_ids, index, prefix):
        positions = ops.arange(ops.shape(prefix)[1], dtype="int32")
        prefix = ops.where(positions[None, :] == index, token_ids, prefix)
        if static:
            logits = model(
                {"encoder_inputs": source_ids, "decoder_inputs": prefix[:, :length]},
                training=False,
            )
            logits = ops.take(logits, ops.reshape(index, (1,)), axis=1)
        else:
            logits = model(
                {"encoder_inputs": source_ids, "decoder_inputs": prefix[:, : index + 1]},
                training=False,
            )[:, -1:]
        return ops.cast(logits, "float32"), prefix

    return step_fn, ops.full((rows, length + 1), PAD_ID, dtype="int32")


def language_model_step(model, prompt_ids, length, repeat=1):
    """A `LanguageModel`'s cached continuation of `prompt_ids` `(batch, prompt_length)`
    (every row as long, no padding; `[START]` first). The whole prompt fills the cache in one
    call, whose last logits are step 0's; step i > 0 feeds the token chosen at step i - 1 at
    position `prompt_length - 1 + i`. `length` new tokens need `prompt_length + length - 1`
    positions."""
    if repeat > 1:
        prompt_ids = ops.repeat(prompt_ids, repeat, axis=0)
    rows = _rows(prompt_ids)
    prompt_length = prompt_ids.shape[1]
    if prompt_length is None:
        prompt_length = ops.shape(prompt_ids)[1]
    cache = model.initial_cache(rows, prompt_length + length - 1)
    logits, cache = model.decode_step(prompt_ids, 0, cache)
    first = logits[:, -1:]

    def step_fn(token_ids, index, cache):
        return ops.cond(
            index == 0,
            lambda: (first, cache),
            lambda: model.decode_step(token_ids, prompt_length - 1 + index, cache),
        )

    return step_fn, cache
