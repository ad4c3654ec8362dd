import pathlib
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.data.normalization import normalize_texts
from keras_transformer.data.tokenizers import (
    END_ID,
    PAD_ID,
    RESERVED_TOKENS,
    START_ID,
    UNK_ID,
    CharacterTokenizer,
    Tokenizer,
    WordPieceTokenizer,
    learn_tokenizer,
    sample_texts,
)
from keras_transformer.data.tsv import read_tsv

TEXTS = ["4 mars 2021", "2021년 3월 4일 목요일", "Thursday, March 4, 2021", "quinta-feira"]
KINDS = ["sentencepiece", "wordpiece", "character"]
SIZES = {"sentencepiece": 400, "wordpiece": 200, "character": 200}
FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"


def _strings(tensor):
    return [t.decode() for t in tensor.numpy()]


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_and_reserved_ids(kind):
    tokenizer = learn_tokenizer(kind, TEXTS * 5, vocabulary_size=SIZES[kind])
    assert tokenizer.vocabulary[:4] == RESERVED_TOKENS == ["[PAD]", "[UNK]", "[START]", "[END]"]
    assert (PAD_ID, UNK_ID, START_ID, END_ID) == (0, 1, 2, 3)
    ids = tokenizer.tokenize(TEXTS)
    assert isinstance(ids, tf.RaggedTensor) and ids.dtype == tf.int32
    assert int(tf.reduce_min(ids.flat_values)) >= 4
    assert _strings(tokenizer.detokenize(ids)) == TEXTS


@pytest.mark.parametrize("kind", KINDS)
def test_detokenize_dense_ids_stops_at_end_and_drops_reserved(kind):
    tokenizer = learn_tokenizer(kind, TEXTS * 5, vocabulary_size=SIZES[kind])
    ids = tokenizer.tokenize(["4 mars 2021"]).to_tensor()[0].numpy().tolist()
    dense = np.array([[START_ID, *ids, END_ID, *ids, PAD_ID, PAD_ID]])
    assert _strings(tokenizer.detokenize(dense)) == ["4 mars 2021"]


def test_unknown_characters_become_unk_and_stay_visible():
    tokenizer = CharacterTokenizer.learn(["abc"])
    np.testing.assert_array_equal(tokenizer.tokenize(["abz"]).to_list(), [[4, 5, UNK_ID]])
    assert _strings(tokenizer.detokenize(tokenizer.tokenize(["abz"]))) == ["ab\ufffd"]
    wordpiece = WordPieceTokenizer.learn(["the cat"] * 10, vocabulary_size=40)
    assert _strings(wordpiece.detokenize(wordpiece.tokenize(["the dog"]))) == ["the [UNK]"]


def test_sentencepiece_spells_unseen_characters_in_bytes():
    tokenizer = learn_tokenizer("sentencepiece", TEXTS * 5, vocabulary_size=400)
    text = "☃ 𝄞 Ünïcödé"
    ids = tokenizer.tokenize([text])
    assert UNK_ID not in ids.flat_values.numpy().tolist()
    assert _strings(tokenizer.detokenize(ids)) == [text]


def _fixture_texts():
    texts = []
    for name in ("eng-jpn-300.tsv", "european-generated.tsv"):
        texts += [side for pair in read_tsv(FIXTURES / name).pairs for side in pair]
    return texts


@pytest.mark.parametrize(
    "kind, options",
    [
        ("sentencepiece", {}),
        ("sentencepiece", {"model_type": "bpe"}),
        ("sentencepiece", {"lower_case": True}),
        ("wordpiece", {}),
        ("character", {}),
        ("character", {"lower_case": True}),
    ],
)
def test_real_text_round_trips_to_its_normal_form(kind, options):
    """detokenize(tokenize(x)) == normalize(x) on real English, Japanese and French lines."""
    texts = _fixture_texts()
    tokenizer = learn_tokenizer(kind, texts, vocabulary_size=1000, **options)
    expected = normalize_texts(texts, options.get("lower_case", False))
    restored = _strings(tokenizer.detokenize(tokenizer.tokenize(texts)))
    same = sum(r == e for r, e in zip(restored, expected, strict=True))
    assert same / len(texts) >= 0.999, [
        (e, r) for r, e in zip(restored, expected, strict=True) if r != e
    ][:5]


def test_one_normalisation_for_learning_and_tokenizing():
    """Narrow no-break spaces, decomposed accents and other spaces: nothing is lost."""
    texts = ["Va\u202f!", unicodedata.normalize("NFD", "Été\u00a0: café"), "x\u3000y\tz"]
    assert normalize_texts(texts) == ["Va !", "Été : café", "x y z"]
    for kind in KINDS:
        tokenizer = learn_tokenizer(kind, texts * 20, vocabulary_size=SIZES[kind])
        assert UNK_ID not in tokenizer.tokenize(texts).flat_values.numpy().tolist(), kind
        assert _strings(tokenizer.detokenize(tokenizer.tokenize(texts))) == normalize_texts(texts)


def test_case_folding_is_the_same_when_learning_and_tokenizing():
    texts = ["STRASSE Straße ΣΑΣ"] * 20
    for kind in KINDS:
        tokenizer = learn_tokenizer(kind, texts, vocabulary_size=SIZES[kind], lower_case=True)
        ids = tokenizer.tokenize(["Straße ΣΑΣ"])
        assert UNK_ID not in ids.flat_values.numpy().tolist(), kind
        assert _strings(tokenizer.detokenize(ids)) == ["strasse σασ"], kind


def test_learning_uses_a_seeded_bounded_sample():
    texts = [f"sentence {i}" for i in range(100)]
    sample = sample_texts(texts, 10, seed=3)
    assert len(sample) == 10 and sample == sample_texts(texts, 10, seed=3)
    assert sample != sample_texts(texts, 10, seed=4)
    assert sample_texts(texts, 1000) == texts


def test_vocabulary_comes_only_from_the_given_texts():
    tokenizer = CharacterTokenizer.learn(["aab"])
    assert tokenizer.vocabulary == RESERVED_TOKENS + ["a", "b"]  # most frequent first
    assert CharacterTokenizer.learn(["abcdef"], max_vocabulary_size=6).vocabulary_size == 6


def test_wordpiece_keeps_punctuation_and_splits_unseen_words():
    tokenizer = WordPieceTokenizer.learn(["the cat sat on the mat."] * 30, vocabulary_size=40)
    assert _strings(tokenizer.detokenize(tokenizer.tokenize(["the mat sat."]))) == ["the mat sat."]
    pieces = tokenizer.id_to_token(tokenizer.tokenize(["cats"]).flat_values).numpy()
    assert len(pieces) >= 2 and b"[UNK]" not in pieces.tolist()


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load(tmp_path, kind):
    tokenizer = learn_tokenizer(kind, TEXTS * 5, vocabulary_size=SIZES[kind], lower_case=True)
    tokenizer.save(tmp_path / "tokenizer.json")
    loaded = Tokenizer.load(tmp_path / "tokenizer.json")
    assert type(loaded) is type(tokenizer) and loaded.vocabulary == tokenizer.vocabulary
    assert loaded.lower_case
    assert loaded.tokenize(TEXTS).to_list() == tokenizer.tokenize(TEXTS).to_list()


@pytest.mark.parametrize("kind", KINDS)
def test_tokenizers_run_inside_a_graph(kind):
    tokenizer = learn_tokenizer(kind, TEXTS * 5, vocabulary_size=SIZES[kind])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def round_trip(texts):
        return tokenizer.detokenize(tokenizer.tokenize(texts).to_tensor())

    assert _strings(round_trip(tf.constant(TEXTS))) == TEXTS


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="reserved tokens"):
        CharacterTokenizer(["a", "b"])
    with pytest.raises(ValueError, match="Unknown tokenizer kind 'bpe'"):
        learn_tokenizer("bpe", TEXTS)
    with pytest.raises(ValueError, match="model_type must be one of"):
        learn_tokenizer("sentencepiece", TEXTS, model_type="word")
    with pytest.raises(ValueError, match="raise --max-vocabulary-size"):
        learn_tokenizer("sentencepiece", TEXTS, vocabulary_size=10, sample_size=None)
    with pytest.raises(FileNotFoundError, match="No tokenizer file"):
        Tokenizer.load(tmp_path / "missing.json")
