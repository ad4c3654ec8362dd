"""Cached generation against the uncached oracle, on a model trained for a few seconds."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.data.tokenizers import END_ID, PAD_ID, START_ID
from keras_transformer.decoding import DecodingOptions, Translator, length_penalty, uncached_step
from keras_transformer.decoding.steps import cached_step
from keras_transformer.run import Run

# One process runs this file: its module fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_search")

MAX_LENGTH = 14
END_BY = 11  # the "ending" model's outputs all end by this position (MAX_LENGTH allows 14)
FORCE = 1e4  # added to or taken from the [END] logit: a log-probability of ~0 or ~-1e4


def _steered(step, end_bonus):
    """The step maker `step` with `end_bonus(index)` added to the [END] logit of each step.

    Whether the model trained for a few seconds ends its outputs, and where, depends on the
    machine (its training rounds differently: on one machine every beam ended after 1-2
    tokens, on another some greedy outputs never ended). A test that assumes outputs end, or
    run to their limit, builds that model state here instead of relying on the training."""

    def make(model, source_ids, length, repeat=1):
        step_fn, cache = step(model, source_ids, length, repeat)

        def steered(token_ids, index, cache):
            logits, cache = step_fn(token_ids, index, cache)
            return logits + tf.one_hot(END_ID, tf.shape(logits)[-1]) * end_bonus(index), cache

        return steered, cache

    return make


def _ends_by(index):
    """[END] certain from position END_BY on (the model's own choice before)."""
    return tf.where(index >= END_BY, FORCE, 0.0)


def _never_ends(index):
    return tf.constant(-FORCE)


@pytest.fixture(scope="module")
def translators(run_dir):
    return Translator.from_run(run_dir), Translator.from_run(run_dir, step=uncached_step)


def _like(translator, step):
    return Translator(translator.model, translator.source_tokenizer,
                      translator.target_tokenizer, step=step)  # fmt: skip


@pytest.fixture(scope="module")
def ending(translators):
    """The trained model (cached, and the uncached oracle) whose every output ends by END_BY.
    The oracle is not `uncached_step` itself: give it `jit_compile=False`."""
    return (_like(translators[0], _steered(cached_step, _ends_by)),
            _like(translators[0], _steered(uncached_step, _ends_by)))  # fmt: skip


@pytest.fixture(scope="module")
def never_ending(translators):
    """The trained model with [END] never chosen: every output runs to its length limit."""
    return _like(translators[0], _steered(cached_step, _never_ends))


@pytest.fixture(scope="module")
def sources(run_dir, translators):
    texts = [s for s, _ in Run.open(run_dir).splits.test[:6]]  # mixed lengths and formats
    return translators[0].source_ids(texts)


def _tokens(translator, ids, **options):
    result = translator.generate(ids, **{"max_length": MAX_LENGTH, **options})
    np.testing.assert_array_equal(result.lengths, (result.ids.numpy() != PAD_ID).sum(axis=1))
    return result.ids.numpy(), result.scores.numpy()


def _greedy(translator, ids, **options):
    return _tokens(translator, ids, strategy="greedy", **options)


def test_beam_search_is_the_default():
    options = DecodingOptions()
    assert (options.strategy, options.beam_width, options.alpha) == ("beam", 4, 0.6)
    assert (options.max_length_a, options.max_length_b, options.max_length) == (1.5, 10, None)


@pytest.mark.parametrize("model", ["trained", "ending"])
def test_cached_greedy_equals_the_uncached_oracle(translators, ending, sources, model):
    cached, oracle = translators if model == "trained" else ending
    cached = _greedy(cached, sources)[0]
    np.testing.assert_array_equal(cached, _greedy(oracle, sources, jit_compile=False)[0])
    if model == "ending":  # the comparison covers outputs that end
        assert np.all(np.any(cached == END_ID, axis=1))


def test_cached_beam_equals_the_uncached_oracle(translators, sources):
    cached, oracle = (_tokens(t, sources, strategy="beam", beam_width=3)[0] for t in translators)
    np.testing.assert_array_equal(cached, oracle)


def test_tokens_after_end_are_padding(ending, sources):
    for row in _greedy(ending[0], sources)[0]:
        end = list(row).index(END_ID)
        assert end <= END_BY and np.all(row[end + 1 :] == PAD_ID)
        assert not np.isin(row[:end], [PAD_ID, START_ID, END_ID]).any()


def test_beam_of_width_one_is_greedy(translators, sources):
    # Without length penalty: with one, a width-1 beam may keep searching past greedy's
    # [END] for a longer hypothesis that the penalty prefers. (Both without XLA: the cached
    # searches with XLA are compared with the oracle above.)
    greedy = _greedy(translators[0], sources, jit_compile=False)
    beam = _tokens(translators[0], sources, strategy="beam", beam_width=1, alpha=0.0,
                   jit_compile=False)  # fmt: skip
    np.testing.assert_array_equal(beam[0], greedy[0])
    np.testing.assert_allclose(beam[1], greedy[1], atol=1e-5)


@pytest.mark.parametrize("beam_width", [1, 4])
def test_beam_scores_are_the_normalized_log_probabilities_of_its_outputs(
    ending, sources, beam_width
):
    # The scores of the XLA-compiled search for 4 beams; without XLA for 1 (one compilation).
    tokens, scores = _tokens(ending[0], sources, strategy="beam", beam_width=beam_width,
                             jit_compile=beam_width == 4)  # fmt: skip
    assert np.all(np.any(tokens == END_ID, axis=1))
    lengths = (tokens != PAD_ID).sum(axis=1)
    # Teacher-forced log-probabilities of the outputs, [PAD] and [START] excluded.
    prefix = np.concatenate([np.full([len(tokens), 1], START_ID), tokens[:, :-1]], axis=1)
    inputs = {"encoder_inputs": sources, "decoder_inputs": tf.constant(prefix, tf.int32)}
    logits = ending[0].model(inputs, training=False).numpy()
    logits[:, END_BY:, END_ID] += FORCE  # as the steered step does
    logits[:, :, [PAD_ID, START_ID]] = -np.inf
    log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    picked = np.take_along_axis(log_probs, tokens[:, :, None], axis=-1)[:, :, 0]
    totals = np.where(tokens != PAD_ID, picked, 0.0).sum(axis=1)
    expected = totals / length_penalty(lengths, 0.6).numpy()
    np.testing.assert_allclose(scores, expected, atol=1e-4)


def test_sampling_is_reproducible_with_a_seed(translators, sources):
    def draw(seed):
        return _tokens(translators[0], sources, strategy="sample", temperature=3.0, seed=seed,
                       jit_compile=False)[0]  # fmt: skip

    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.array_equal(draw(7), draw(8))


@pytest.mark.parametrize("options", [{"top_k": 1}, {"top_p": 1e-6}], ids=["top-k=1", "top-p~0"])
def test_sampling_from_the_top_token_is_greedy(translators, sources, options):
    # Without XLA (its greedy search is that of test_beam_of_width_one_is_greedy).
    greedy = _greedy(translators[0], sources, jit_compile=False)[0]
    sampled = _tokens(translators[0], sources, strategy="sample", temperature=2.0,
                      jit_compile=False, **options)[0]  # fmt: skip
    np.testing.assert_array_equal(sampled, greedy)


def test_empty_long_and_mixed_inputs_decode(translators):
    translator = translators[0]
    texts = ["", "4 mars 2021 " * 40, "3/4/2021", "jeudi 4 mars 2021"]
    assert translator.source_ids(texts).shape[1] == translator.sequence_length  # truncated
    # Without XLA: each batch shape would be a compilation (the export test decodes empty
    # and over-long sources with XLA).
    options = DecodingOptions(max_length=MAX_LENGTH, jit_compile=False)
    outputs = translator.translate(texts, options, batch_size=3)
    assert len(outputs) == 4 and all(isinstance(o, str) for o in outputs)
    assert translator.translate([""], options)[0] == outputs[0]
    assert translator.translate(["", ""], options) == [outputs[0]] * 2


def test_a_batch_decodes_like_its_sentences_alone(translators, run_dir):
    # Without XLA, which would compile for each shape. (With XLA: a batch decodes like its
    # rows alone in tests/decoding/test_translator_limits.py, and like the uncompiled search,
    # which decodes each row alone alike, in test_output_lengths_are_relative_to_the_source.)
    options = DecodingOptions(strategy="beam", beam_width=3, jit_compile=False)
    texts = [s for s, _ in Run.open(run_dir).splits.test[:5]]
    together = translators[0].translate(texts, options)
    alone = [translators[0].translate([t], options)[0] for t in texts]
    assert together == alone


def test_invalid_options_are_clear_errors(translators, sources):
    with pytest.raises(ValueError, match="strategy"):
        DecodingOptions(strategy="nucleus")
    with pytest.raises(ValueError, match="beam_width"):
        DecodingOptions(strategy="beam", beam_width=0)
    with pytest.raises(ValueError, match="max_length_a"):
        DecodingOptions(max_length_a=-1.0)
    with pytest.raises(ValueError, match="temperature"):
        translators[0].generate(sources, strategy="sample", temperature=0.0)


def test_a_run_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trained model"):
        Translator.from_run(tmp_path)


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_min_length_forbids_an_early_end(translators, sources, strategy):
    # Every row may make MAX_LENGTH tokens; [END] is forbidden until then: none ends.
    tokens, _ = _tokens(translators[0], sources, strategy=strategy, min_length=MAX_LENGTH,
                        max_length_a=0.0, max_length_b=MAX_LENGTH, jit_compile=False)  # fmt: skip
    assert tokens.shape[1] == MAX_LENGTH
    # Nor [PAD] (no row stopped) or [START] ([UNK] is a token the model may pick).
    assert not np.isin(tokens, [PAD_ID, START_ID, END_ID]).any()


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_output_lengths_are_relative_to_the_source(translators, never_ending, sources, strategy):
    source_lengths = (sources.numpy() != PAD_ID).sum(axis=1)
    options = {"strategy": strategy, "max_length": None, "max_length_a": 0.5, "max_length_b": 1}
    width = sources.shape[1]
    limits = np.ceil(0.5 * source_lengths).astype(int) + 1
    assert len(set(limits)) > 1  # the rows' limits differ
    # The trained model (without XLA): no row goes past its limit; a row without [END]
    # stopped there.
    tokens, _ = _tokens(translators[0], sources, jit_compile=False, **options)
    assert tokens.shape[1] == min(math.ceil(0.5 * width) + 1, translators[0].sequence_length)
    lengths = (tokens != PAD_ID).sum(axis=1)
    assert np.all(lengths <= limits)
    assert np.all(np.any(tokens == END_ID, axis=1) | (lengths == limits))
    # [END] never chosen: every row runs to its own limit and stops there, unfinished.
    endless, _ = _tokens(never_ending, sources, **options)
    assert endless.shape == tokens.shape and not np.any(endless == END_ID)
    np.testing.assert_array_equal((endless != PAD_ID).sum(axis=1), limits)
    if strategy != "sample":  # (random numbers depend on the batch shape and on XLA)
        # Without XLA it decodes the same; and a row's limit is its own: alone, it decodes
        # the same (without XLA: no compilation for the batch of one).
        eager, _ = _tokens(never_ending, sources, jit_compile=False, **options)
        np.testing.assert_array_equal(eager, endless)
        for i in range(len(endless)):
            alone, _ = _tokens(never_ending, sources[i : i + 1], jit_compile=False, **options)
            assert alone[0].tolist() == endless[i].tolist()
    # max_length caps the relative limit.
    capped_options = {**options, "max_length": 2, "jit_compile": False}
    capped, _ = _tokens(translators[0], sources, **capped_options)
    assert capped.shape[1] == 2
