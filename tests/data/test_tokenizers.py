import numpy as np
import pytest
import tensorflow as tf

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
)

TEXTS = ["4 mars 2021", "2021년 3월 4일 목요일", "Thursday, March 4, 2021", "quinta-feira"]


def _strings(tensor):
    return [t.decode() for t in tensor.numpy()]


@pytest.mark.parametrize("kind", ["character", "wordpiece"])
def test_round_trip_and_reserved_ids(kind):
    tokenizer = learn_tokenizer(kind, TEXTS * 5, vocabulary_size=200)
    assert tokenizer.vocabulary[:4] == RESERVED_TOKENS == ["[PAD]", "[UNK]", "[START]", "[END]"]
    assert (PAD_ID, UNK_ID, START_ID, END_ID) == (0, 1, 2, 3)
    ids = tokenizer.tokenize(TEXTS)
    assert isinstance(ids, tf.RaggedTensor) and ids.dtype == tf.int32
    assert int(tf.reduce_min(ids.flat_values)) >= 4
    assert _strings(tokenizer.detokenize(ids)) == TEXTS


@pytest.mark.parametrize("kind", ["character", "wordpiece"])
def test_detokenize_dense_ids_stops_at_end_and_drops_reserved(kind):
    tokenizer = learn_tokenizer(kind, TEXTS * 5, vocabulary_size=200)
    ids = tokenizer.tokenize(["4 mars 2021"]).to_tensor()[0].numpy().tolist()
    dense = np.array([[START_ID, *ids, END_ID, *ids, PAD_ID, PAD_ID]])
    assert _strings(tokenizer.detokenize(dense)) == ["4 mars 2021"]


def test_unknown_characters_become_unk():
    tokenizer = CharacterTokenizer.learn(["abc"])
    np.testing.assert_array_equal(tokenizer.tokenize(["abz"]).to_list(), [[4, 5, UNK_ID]])


def test_vocabulary_comes_only_from_the_given_texts():
    tokenizer = CharacterTokenizer.learn(["aab"])
    assert tokenizer.vocabulary == RESERVED_TOKENS + ["a", "b"]  # most frequent first
    assert CharacterTokenizer.learn(["abcdef"], max_vocabulary_size=6).vocabulary_size == 6


def test_wordpiece_keeps_punctuation_and_splits_unseen_words():
    tokenizer = WordPieceTokenizer.learn(["the cat sat on the mat."] * 30, vocabulary_size=40)
    assert _strings(tokenizer.detokenize(tokenizer.tokenize(["the mat sat."]))) == ["the mat sat."]
    pieces = tokenizer.id_to_token(tokenizer.tokenize(["cats"]).flat_values).numpy()
    assert len(pieces) >= 2 and b"[UNK]" not in pieces.tolist()


@pytest.mark.parametrize("kind", ["character", "wordpiece"])
def test_save_and_load(tmp_path, kind):
    tokenizer = learn_tokenizer(kind, TEXTS * 5, vocabulary_size=200, lower_case=True)
    tokenizer.save(tmp_path / "tokenizer.json")
    loaded = Tokenizer.load(tmp_path / "tokenizer.json")
    assert type(loaded) is type(tokenizer) and loaded.vocabulary == tokenizer.vocabulary
    assert loaded.lower_case
    assert loaded.tokenize(TEXTS).to_list() == tokenizer.tokenize(TEXTS).to_list()


def test_tokenizers_run_inside_a_graph():
    tokenizer = CharacterTokenizer.learn(TEXTS)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def round_trip(texts):
        return tokenizer.detokenize(tokenizer.tokenize(texts).to_tensor())

    assert _strings(round_trip(tf.constant(TEXTS))) == TEXTS


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="reserved tokens"):
        CharacterTokenizer(["a", "b"])
    with pytest.raises(ValueError, match="Unknown tokenizer kind 'bpe'"):
        learn_tokenizer("bpe", TEXTS)
    with pytest.raises(FileNotFoundError, match="No tokenizer file"):
        Tokenizer.load(tmp_path / "missing.json")
