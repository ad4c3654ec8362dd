import keras
import numpy as np
import pytest

import keras_transformer as kt
from tests.arrays import as_numpy
from tests.layers.layer_checks import check_layer

VOCAB, LENGTH, HIDDEN = 11, 6, 8


def _paper_table(length, depth):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d))."""
    table = np.zeros((length, depth))
    for pos in range(length):
        for i in range(0, depth, 2):
            table[pos, i] = np.sin(pos / 10000 ** (i / depth))
            if i + 1 < depth:
                table[pos, i + 1] = np.cos(pos / 10000 ** (i / depth))
    return table


@pytest.mark.parametrize("depth", [8, 7])
def test_positional_encoding_matches_the_paper(depth):
    table = as_numpy(kt.positional_encoding(50, depth))
    assert table.shape == (1, 50, depth)
    np.testing.assert_allclose(table[0], _paper_table(50, depth), atol=1e-5)


def test_embedding_is_scaled_token_vector_plus_position():
    layer = kt.PositionalEmbedding(VOCAB, LENGTH, HIDDEN)
    tokens = np.array([[3, 7, 1, 0], [2, 2, 0, 0]])
    output = as_numpy(layer(tokens))
    table = as_numpy(layer.token_embedding.embeddings)
    expected = table[tokens] * np.sqrt(HIDDEN) + _paper_table(4, HIDDEN)[None]
    np.testing.assert_allclose(output, expected, atol=1e-5)


def test_mask_zero_emits_padding_mask():
    tokens = np.array([[3, 7, 0], [0, 0, 0]])
    x = kt.PositionalEmbedding(VOCAB, LENGTH, HIDDEN)(tokens)
    np.testing.assert_array_equal(as_numpy(x._keras_mask), tokens != 0)
    unmasked = kt.PositionalEmbedding(VOCAB, LENGTH, HIDDEN, mask_zero=False)
    assert unmasked.compute_mask(tokens) is None


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_start_index_gives_the_position_of_cached_decoding(positions):
    layer = kt.PositionalEmbedding(VOCAB, LENGTH, HIDDEN, positions=positions)
    tokens = np.array([[3, 7, 1, 5, 9]])
    full = as_numpy(layer(tokens))
    for index in range(5):
        step = layer(tokens[:, index : index + 1], start_index=keras.ops.convert_to_tensor(index))
        np.testing.assert_allclose(as_numpy(step)[:, 0], full[:, index], atol=1e-6)


def test_learned_positions_are_trainable_vectors():
    layer = kt.PositionalEmbedding(VOCAB, LENGTH, HIDDEN, positions="learned")
    layer(np.array([[1, 2]]))
    assert layer.position_embedding.embeddings.shape == (LENGTH, HIDDEN)


def test_learned_positions_refuse_too_long_inputs():
    layer = kt.PositionalEmbedding(VOCAB, 4, HIDDEN, positions="learned")
    with pytest.raises(ValueError, match=r"has 4 positions; received 5 tokens"):
        layer(np.ones((1, 5), "int32"))


def test_sinusoidal_positions_extend_past_sequence_length():
    layer = kt.PositionalEmbedding(VOCAB, 4, HIDDEN)
    assert layer(np.ones((1, 9), "int32")).shape == (1, 9, HIDDEN)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"positions": "rotary"}, "positions"),
        ({"hidden_dim": 0}, "hidden_dim"),
        ({"vocabulary_size": -3}, "vocabulary_size"),
        ({"sequence_length": 2.5}, "sequence_length"),
        ({"dropout": -0.1}, "dropout"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    arguments = {"vocabulary_size": VOCAB, "sequence_length": LENGTH, "hidden_dim": HIDDEN}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        kt.PositionalEmbedding(**arguments)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_layer_checks(positions):
    tokens = np.array([[3, 7, 1, 0, 0], [4, 4, 4, 4, 2]], "int32")
    check_layer(
        lambda **kw: kt.PositionalEmbedding(VOCAB, LENGTH, HIDDEN, positions=positions, **kw),
        [tokens],
        expected_output_shape=(2, 5, HIDDEN),
    )


def test_reverse_gives_logits_tied_to_the_token_embedding(rng):
    layer = kt.PositionalEmbedding(VOCAB, LENGTH, HIDDEN)
    layer(np.array([[1, 2]]))
    hidden = rng.normal(size=(2, 3, HIDDEN)).astype("float32")
    logits = as_numpy(layer(hidden, reverse=True))
    table = as_numpy(layer.token_embedding.embeddings)
    assert logits.shape == (2, 3, VOCAB)
    np.testing.assert_allclose(logits, hidden @ table.T, atol=1e-5)
