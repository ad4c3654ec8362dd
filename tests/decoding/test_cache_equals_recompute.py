"""Cached decoding equals recomputing the whole prefix at every step, for every search and
both model kinds (a `Transformer` through `cached_step` against `uncached_step`, a
`LanguageModel` through `language_model_step` against a full forward pass per step), the
cached searches compiled, the oracles not. Untrained models: no TensorFlow, any backend
(tests/test_backends.py runs this file under JAX and PyTorch too)."""

import keras
import numpy as np
import pytest
from keras import ops

import keras_transformer as kt
from keras_transformer.constants import PAD_ID
from keras_transformer.decoding.compiled import compile_search
from keras_transformer.decoding.search import decode
from keras_transformer.decoding.steps import cached_step, language_model_step, uncached_step

VOCABULARY = 23
# Sources of 5, 2 and 6 tokens: with max_length_a=1, max_length_b=2, limits 7, 4 and 8.
SOURCE = np.array([[5, 6, 7, 8, 9, 0], [4, 12, 0, 0, 0, 0], [7, 7, 7, 7, 7, 7]], "int32")
PROMPTS = np.array([[2, 5, 9, 4], [2, 11, 11, 6]], "int32")  # [START] first, no padding
NEW_TOKENS = 6
STRATEGIES = {
    "greedy": {},
    "beam": {"beam_width": 3, "alpha": 0.6},
    "sample": {"temperature": 2.0, "top_k": 10, "seed": 5},
}


@pytest.fixture(scope="module")
def transformer():
    keras.utils.set_random_seed(3)
    config = kt.TransformerConfig(
        vocabulary_size=VOCABULARY, sequence_length=16, hidden_dim=16, intermediate_dim=32,
        num_heads=2, num_layers=2, dropout=0.0,
    )  # fmt: skip
    return kt.Transformer(config)


@pytest.fixture(scope="module")
def language_model():
    keras.utils.set_random_seed(4)
    config = kt.LanguageModelConfig.preset(
        "tiny", vocabulary_size=VOCABULARY, sequence_length=16, hidden_dim=16
    )
    return kt.LanguageModel(config)


def recomputed_step(model, prompt_ids, length, repeat=1):
    """`language_model_step`'s oracle: every step runs the whole `LanguageModel` on the
    prompt and the tokens so far (a fixed-width buffer; a causal model does not see the
    padding after them) and takes the logits of the last position written."""
    prompt_ids = ops.repeat(prompt_ids, repeat, axis=0)
    rows, prompt_length = prompt_ids.shape
    width = prompt_length + length - 1
    buffer = ops.concatenate([prompt_ids, ops.zeros((rows, length - 1), "int32")], axis=1)

    def step_fn(token_ids, index, buffer):
        position = prompt_length - 1 + index
        written = ops.logical_and(ops.arange(width, dtype="int32") == position, index > 0)
        buffer = ops.where(written[None, :], token_ids, buffer)
        logits = ops.take(model(buffer, training=False), ops.reshape(position, (1,)), axis=1)
        return ops.cast(logits, "float32"), buffer

    return step_fn, buffer


def _run(step, model, ids, jit, **options):
    search = compile_search(lambda x: decode(step, model, x, **options), jit, model=model)
    result = search(ops.convert_to_tensor(ids))
    return ops.convert_to_numpy(result.ids), ops.convert_to_numpy(result.scores)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_a_transformer_decodes_alike_with_and_without_its_cache(transformer, strategy):
    options = dict(max_length=10, strategy=strategy, max_length_a=1.0, max_length_b=2,
                   min_length=3, **STRATEGIES[strategy])  # fmt: skip
    cached, cached_scores = _run(cached_step, transformer, SOURCE, True, **options)
    uncached, uncached_scores = _run(uncached_step, transformer, SOURCE, False, **options)
    np.testing.assert_array_equal(cached, uncached)
    np.testing.assert_allclose(cached_scores, uncached_scores, atol=1e-4)
    lengths = (cached != PAD_ID).sum(axis=1)
    assert cached.shape == (3, 8) and np.all(lengths >= 3) and np.all(lengths <= [7, 4, 8])


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_a_language_model_decodes_alike_with_and_without_its_cache(language_model, strategy):
    options = dict(max_length=NEW_TOKENS, strategy=strategy, min_length=2, **STRATEGIES[strategy])
    cached, cached_scores = _run(language_model_step, language_model, PROMPTS, True, **options)
    full, full_scores = _run(recomputed_step, language_model, PROMPTS, False, **options)
    np.testing.assert_array_equal(cached, full)
    np.testing.assert_allclose(cached_scores, full_scores, atol=1e-4)
    assert cached.shape == (2, NEW_TOKENS) and np.all((cached != PAD_ID).sum(axis=1) >= 2)


def test_sampling_is_seeded(transformer):
    def draw(seed):
        options = dict(max_length=10, strategy="sample", temperature=3.0, seed=seed,
                       min_length=8)  # fmt: skip
        return _run(cached_step, transformer, SOURCE, False, **options)[0]

    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.array_equal(draw(7), draw(8))
