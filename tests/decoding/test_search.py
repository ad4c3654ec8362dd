"""Cached generation against the uncached oracle, on a model trained for a few seconds."""

import numpy as np
import pytest

from keras_transformer.data.tokenizers import END_ID, PAD_ID
from keras_transformer.decoding import DecodingOptions, Translator, length_penalty
from keras_transformer.training import load_run

MAX_LENGTH = 14


@pytest.fixture(scope="module")
def translators(run_dir):
    return Translator.from_run(run_dir), Translator.from_run(run_dir, cached=False)


@pytest.fixture(scope="module")
def sources(run_dir, translators):
    texts = [s for s, _ in load_run(run_dir)[4].test[:6]]  # mixed lengths and formats
    return translators[0].source_ids(texts)


def _tokens(translator, ids, **options):
    tokens, scores = translator.generate(ids, max_length=MAX_LENGTH, **options)
    return tokens.numpy(), scores.numpy()


def test_cached_greedy_equals_the_uncached_oracle(translators, sources):
    cached, oracle = (_tokens(t, sources)[0] for t in translators)
    np.testing.assert_array_equal(cached, oracle)
    assert np.all(np.any(cached == END_ID, axis=1)), "the trained model should end its outputs"


def test_cached_beam_equals_the_uncached_oracle(translators, sources):
    cached, oracle = (_tokens(t, sources, strategy="beam", beam_width=3)[0] for t in translators)
    np.testing.assert_array_equal(cached, oracle)


def test_tokens_after_end_are_padding(translators, sources):
    for row in _tokens(translators[0], sources)[0]:
        end = list(row).index(END_ID)
        assert np.all(row[end + 1 :] == PAD_ID) and np.all(row[:end] > END_ID)


def test_beam_of_width_one_is_greedy(translators, sources):
    greedy = _tokens(translators[0], sources)[0]
    beam = _tokens(translators[0], sources, strategy="beam", beam_width=1)[0]
    np.testing.assert_array_equal(beam, greedy)


@pytest.mark.parametrize("beam_width", [2, 4])
def test_beam_is_never_worse_than_greedy(translators, sources, beam_width):
    greedy_tokens, greedy_scores = _tokens(translators[0], sources)
    lengths = (greedy_tokens != PAD_ID).sum(axis=1)
    greedy_normalized = greedy_scores / length_penalty(lengths, 0.6).numpy()
    _, beam_scores = _tokens(translators[0], sources, strategy="beam", beam_width=beam_width)
    assert np.all(beam_scores >= greedy_normalized - 1e-5)


def test_sampling_is_reproducible_with_a_seed(translators, sources):
    def draw(seed):
        return _tokens(translators[0], sources, strategy="sample", temperature=3.0, seed=seed)[0]

    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.array_equal(draw(7), draw(8))


@pytest.mark.parametrize("options", [{"top_k": 1}, {"top_p": 1e-6}], ids=["top-k=1", "top-p~0"])
def test_sampling_from_the_top_token_is_greedy(translators, sources, options):
    greedy = _tokens(translators[0], sources)[0]
    sampled = _tokens(translators[0], sources, strategy="sample", temperature=2.0, **options)[0]
    np.testing.assert_array_equal(sampled, greedy)


def test_empty_long_and_mixed_inputs_decode(translators):
    translator = translators[0]
    texts = ["", "4 mars 2021 " * 40, "3/4/2021", "jeudi 4 mars 2021"]
    assert translator.source_ids(texts).shape[1] == translator.sequence_length  # truncated
    outputs = translator.translate(texts, max_length=MAX_LENGTH, batch_size=3)
    assert len(outputs) == 4 and all(isinstance(o, str) for o in outputs)
    assert translator.translate([""], max_length=MAX_LENGTH)[0] == outputs[0]
    assert translator.translate(["", ""], max_length=MAX_LENGTH) == [outputs[0]] * 2


def test_a_batch_decodes_like_its_sentences_alone(translators, run_dir):
    texts = [s for s, _ in load_run(run_dir)[4].test[:5]]
    together = translators[0].translate(texts, strategy="beam", beam_width=3)
    alone = [translators[0].translate([t], strategy="beam", beam_width=3)[0] for t in texts]
    assert together == alone


def test_invalid_options_are_clear_errors(translators, sources):
    with pytest.raises(ValueError, match="strategy"):
        DecodingOptions(strategy="nucleus")
    with pytest.raises(ValueError, match="beam_width"):
        DecodingOptions(strategy="beam", beam_width=0)
    with pytest.raises(ValueError, match="temperature"):
        translators[0].generate(sources, strategy="sample", temperature=0.0)


def test_a_run_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trained model"):
        Translator.from_run(tmp_path)


def test_min_length_forbids_an_early_end(translators, sources):
    tokens, _ = _tokens(translators[0], sources, min_length=MAX_LENGTH)
    assert np.all(tokens != END_ID) and np.all(tokens > END_ID)
