"""Settings the translator must refuse or respect: sources never padded past the model's
positions (a learned table has no row there), `top_k` within the vocabulary."""

import pytest

import keras_transformer as kt
from keras_transformer.data.tokenizers import CharacterTokenizer

# One process runs this file: its module fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_translator_limits")

TEXTS = ["ab cd", "abcdefghij", "a"]


@pytest.fixture(scope="module")
def translator():
    tokenizer = CharacterTokenizer.learn(TEXTS)
    config = kt.TransformerConfig(
        sequence_length=12, hidden_dim=16, intermediate_dim=32, num_heads=2, num_layers=1,
        dropout=0.0, positions="learned", vocabulary_size=tokenizer.vocabulary_size,
    )  # fmt: skip
    return kt.Translator(kt.build_transformer(config), tokenizer, tokenizer)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_sources_are_never_padded_past_the_positions(translator, jit_compile):
    """12 positions: a 10-token source rounded up to 16 would index rows 12-15 of the table
    (an error without XLA, silently clamped rows with it)."""
    assert translator.source_ids(["abcdefghij"]).shape == (1, 12)
    assert translator.source_ids(["abcdefghij" * 3]).shape == (1, 12)  # truncated
    assert translator.source_ids(["a"]).shape == (1, 8)
    options = kt.DecodingOptions(strategy="greedy", jit_compile=jit_compile, max_length=12)
    long, short = translator.translate(["abcdefghij", "ab"], options)
    assert (long, short) == tuple(
        translator.translate([t], options)[0] for t in ("abcdefghij", "ab")
    )


def test_top_k_beyond_the_vocabulary_is_refused(translator):
    vocabulary = translator.target_tokenizer.vocabulary_size
    too_many = kt.DecodingOptions(strategy="sample", top_k=vocabulary + 1)
    with pytest.raises(ValueError, match=rf"top_k={vocabulary + 1} is more than the {vocabulary}"):
        translator.translate(["ab"], too_many)
    assert (
        len(translator.translate(["ab"], kt.DecodingOptions(strategy="sample", top_k=vocabulary,
                                                             jit_compile=False)))
        == 1
    )  # fmt: skip


def test_decoding_options_are_one_class_wherever_imported():
    from keras_transformer.decoding import options, translator

    assert kt.DecodingOptions is translator.DecodingOptions is options.DecodingOptions
    assert kt.DecodingOptions() == options.TRANSLATION_DEFAULTS
    assert options.GENERATION_DEFAULTS.describe() == (
        "nucleus sampling, top-p 0.9, temperature 0.8, seed 0"
    )
