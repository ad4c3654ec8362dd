"""The decoder-only language model: causal, its cached decoding equals the full model, its
cached generation equals the uncached recomputation, and it survives a `.keras` round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.decoding import decode
from keras_transformer.decoding.steps import language_model_step
from keras_transformer.models.language_model import (
    LanguageModel,
    LanguageModelConfig,
    count_language_model_parameters,
)
from tests.arrays import as_numpy

TOKENS = np.array([[2, 7, 9, 4, 11, 5], [2, 12, 6, 6, 8, 13]], "int32")
CONFIGS = {
    "gpt-2": {},
    "paper": {
        "normalize_first": False,
        "activation": "relu",
        "positions": "sinusoidal",
        "tie_output_projection": False,
    },
}


def _model(**overrides):
    values = dict(vocabulary_size=17, sequence_length=12, hidden_dim=12, intermediate_dim=20,
                  num_heads=3, num_layers=2, dropout=0.0)  # fmt: skip
    return LanguageModel(LanguageModelConfig(**{**values, **overrides}))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_later_token_never_changes_earlier_logits(name):
    model = _model(**CONFIGS[name])
    full = as_numpy(model(TOKENS))
    for position in range(1, TOKENS.shape[1]):
        changed = TOKENS.copy()
        changed[:, position] = 3
        logits = as_numpy(model(changed))
        np.testing.assert_allclose(logits[:, :position], full[:, :position], atol=1e-5)
        assert not np.allclose(logits[:, position], full[:, position])


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("chunks", [[1] * 6, [4, 2]], ids=["one by one", "prompt then steps"])
def test_decode_step_equals_the_full_model(name, chunks):
    model = _model(**CONFIGS[name])
    cache = model.initial_cache(batch_size=2, max_length=6)
    steps, start = [], 0
    for size in chunks:
        logits, cache = model.decode_step(TOKENS[:, start : start + size], start, cache)
        steps.append(as_numpy(logits))
        start += size
    np.testing.assert_allclose(np.concatenate(steps, axis=1), as_numpy(model(TOKENS)), atol=1e-4)


def _uncached_step(model, prompt_ids, length, repeat=1):
    """The oracle: every step runs the whole model on the prompt and everything generated."""
    prompt_ids = tf.repeat(prompt_ids, repeat, axis=0)

    def step_fn(token_ids, index, generated):
        generated += tf.one_hot(index, length + 1, dtype=tf.int32) * token_ids
        # Step 0's token is [START] from the search; the prompt's own last token stands there.
        sequence = tf.concat([prompt_ids, generated[:, 1 : index + 1]], axis=1)
        return tf.cast(model(sequence)[:, -1:], tf.float32), generated

    return step_fn, tf.zeros([prompt_ids.shape[0], length + 1], tf.int32)


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_cached_generation_equals_the_uncached_recomputation(strategy):
    model = _model()
    prompts = tf.constant(TOKENS[:, :3])
    options = {"beam": {"beam_width": 3}, "sample": {"top_k": 5, "seed": 7}}.get(strategy, {})
    results = [
        decode(step, model, prompts, 8, strategy, **options)
        for step in (language_model_step, _uncached_step)
    ]
    np.testing.assert_array_equal(results[0].ids, results[1].ids)
    np.testing.assert_allclose(results[0].scores, results[1].scores, atol=1e-4)
    assert results[0].ids.shape == (2, 8)


def test_cached_generation_compiles_with_xla():
    model = _model()
    prompts = tf.constant(TOKENS[:, :4])
    eager = decode(language_model_step, model, prompts, 6, "greedy")
    compiled = tf.function(
        lambda ids: decode(language_model_step, model, ids, 6, "greedy"), jit_compile=True
    )(prompts)
    np.testing.assert_array_equal(compiled.ids, eager.ids)


def test_keras_round_trip_needs_no_custom_objects(tmp_path):
    model = _model(**CONFIGS["paper"])
    model.save(tmp_path / "lm.keras")
    loaded = keras.saving.load_model(tmp_path / "lm.keras", compile=False)
    assert isinstance(loaded, LanguageModel) and loaded.config == model.config
    np.testing.assert_allclose(as_numpy(loaded(TOKENS)), as_numpy(model(TOKENS)), atol=1e-6)


def test_the_parameter_count_formula_matches_the_built_model():
    for overrides in CONFIGS.values():
        model = _model(**overrides)
        assert model.count_params() == count_language_model_parameters(model.config)


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="num_heads=5 does not divide hidden_dim=12"):
        LanguageModelConfig(hidden_dim=12, num_heads=5)
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        LanguageModelConfig.preset("huge")
