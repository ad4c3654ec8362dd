"""`Generator`: a language model trained a few steps on the built-in corpus continues
prompts through the cached search; errors for prompts the model cannot continue."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.data.text import make_block_dataset, python_docs_documents
from keras_transformer.data.tokenizers import CharacterTokenizer
from keras_transformer.decoding import decode
from keras_transformer.decoding.generator import Generator
from keras_transformer.decoding.steps import language_model_step
from keras_transformer.models.language_model import LanguageModel, LanguageModelConfig
from keras_transformer.training import MaskedAccuracy, MaskedSparseCategoricalCrossentropy

# One process runs this file: its module fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_generator")


@pytest.fixture(scope="module")
def generator():
    documents = python_docs_documents()[:300]
    tokenizer = CharacterTokenizer.learn(documents)
    config = LanguageModelConfig.preset(
        "tiny", vocabulary_size=tokenizer.vocabulary_size, sequence_length=48
    )
    model = LanguageModel(config)
    model.compile(keras.optimizers.Adam(3e-3), MaskedSparseCategoricalCrossentropy(),
                  metrics=[MaskedAccuracy()])  # fmt: skip
    history = model.fit(make_block_dataset(documents, tokenizer, 48, 16), epochs=1,
                        steps_per_epoch=40, verbose=0)  # fmt: skip
    # It learnt something of the text: its loss (the epoch's mean) is well below a uniform
    # guess's, ln(97) = 4.57 nats. Where it ends (3.43-3.55 under five seeds) depends on the
    # seed and the machine's rounding, so the bound keeps a wide margin.
    assert history.history["loss"][-1] < math.log(tokenizer.vocabulary_size) - 0.5
    return Generator(model, tokenizer)


def test_prompts_of_any_length_continue_like_the_search_on_their_ids(generator):
    prompts = ["The ", "Called when", "x"]
    # min_length: whether a model trained for a few seconds ends at once is an accident of
    # the machine it trained on; forbidding an early [END] makes every prompt continue.
    texts = generator.generate(prompts, max_new_tokens=12, min_length=4)
    for prompt, text in zip(prompts, texts, strict=True):
        assert text.startswith(prompt) and len(text) > len(prompt)
        ids = tf.constant([generator.prompt_ids([prompt])[0]])
        alone = decode(language_model_step, generator.model, ids, 12, "greedy", min_length=4)
        alone = alone.ids.numpy()[0]
        expected = (
            generator.tokenizer.detokenize(np.concatenate([ids.numpy()[0, 1:], alone])[None])
            .numpy()[0]
            .decode()
        )
        assert text == expected


def test_sampling_is_seeded_and_stop_strings_cut(generator):
    # Without XLA: seeds and stop strings do not depend on it (the other tests compile).
    sampling = dict(max_new_tokens=16, strategy="sample", top_k=8, seed=3, temperature=0.9,
                    jit_compile=False)  # fmt: skip
    first = generator.generate(["The "], **sampling)
    assert generator.generate(["The "], **sampling) == first
    # No [END] in the 16 new characters (min_length): `full[5:7]` is two of them.
    full = generator.generate(["The "], max_new_tokens=16, min_length=16, jit_compile=False)[0]
    stop = full[5:7]
    assert len(stop) == 2
    cut = generator.generate(["The "], max_new_tokens=16, stop=[stop], min_length=16,
                             jit_compile=False)[0]  # fmt: skip
    assert cut == full[: full.index(stop, 4)] and stop not in cut[4:]


def test_a_prompt_as_long_as_the_model_is_a_clear_error(generator):
    with pytest.raises(ValueError, match="as long as the model's sequence_length=48"):
        generator.generate(["x" * 60])
    with pytest.raises(ValueError, match="strategy must be one of"):
        generator.generate(["x"], strategy="nucleus")


def test_perplexity_and_bits_per_character_of_the_held_out_text(generator):
    from keras_transformer.data.text import hold_out
    from keras_transformer.evaluation.perplexity import language_model_scores

    _, held_out = hold_out(python_docs_documents()[:300], 0.1, seed=1)
    data = make_block_dataset(held_out, generator.tokenizer, 48, 16, shuffle=False)
    scores = language_model_scores(generator.model, data, generator.tokenizer)
    # Characters as tokens: one character per token but [START]/[END] (0 and 1 characters).
    assert scores["characters"] <= scores["tokens"] < 1.1 * scores["characters"]
    assert 1.0 < scores["perplexity"] < generator.tokenizer.vocabulary_size
    bits_per_token = math.log2(scores["perplexity"])
    expected = bits_per_token * scores["tokens"] / scores["characters"]
    assert scores["bits_per_character"] == pytest.approx(expected, rel=1e-9)
    untrained = LanguageModel(generator.model.config)
    worse = language_model_scores(untrained, data, generator.tokenizer)
    assert worse["perplexity"] > scores["perplexity"]


def test_generate_takes_decoding_options_and_the_older_arguments(generator):
    from keras_transformer.decoding import DecodingOptions

    prompts = ["The ", "Called when"]
    options = DecodingOptions(strategy="greedy", max_new_tokens=8, min_length=4)
    expected = generator.generate(prompts, options)
    assert generator.generate(prompts, max_new_tokens=8, min_length=4) == expected  # greedy
    assert generator.generate(prompts, options.replace(min_length=0), min_length=4) == expected
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert generator.generate(prompts, 8, "greedy", min_length=4) == expected
    with pytest.raises(TypeError, match="max_new_tokens twice"):
        generator.generate(prompts, 8, max_new_tokens=8)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generator.generate(prompts, DecodingOptions(strategy="greedy", max_new_tokens=0))
