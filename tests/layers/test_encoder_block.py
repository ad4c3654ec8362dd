import keras
import numpy as np
import pytest

import keras_transformer as kt
from tests.arrays import as_numpy
from tests.layers.layer_checks import check_layer

VOCAB, MAX_LENGTH, HIDDEN, HEADS, FFN = 13, 9, 8, 2, 12
TOKENS = np.array([[5, 3, 8, 2, 0], [7, 1, 0, 0, 0]], "int32")  # 0 = padding
PADDED = np.pad(TOKENS, ((0, 0), (0, 4)))  # the same sentences with four more padding tokens


def _encoder_model(normalize_first, num_blocks=3):
    tokens = keras.Input(shape=(None,), dtype="int32")
    x = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN)(tokens)
    for _ in range(num_blocks):
        x = kt.EncoderBlock(HEADS, FFN, normalize_first=normalize_first)(x)
    return keras.Model(tokens, x)


def _real(output, tokens):
    return as_numpy(output)[: tokens.shape[0], : tokens.shape[1]][tokens != 0]


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post-norm", "pre-norm"])
def test_stack_with_implicit_masks_ignores_padding(normalize_first):
    model = _encoder_model(normalize_first)
    short, long = model(TOKENS), model(PADDED)
    np.testing.assert_allclose(_real(long, TOKENS), _real(short, TOKENS), atol=1e-5)


def test_stack_with_explicit_masks_ignores_padding(rng):
    blocks = [kt.EncoderBlock(HEADS, FFN) for _ in range(3)]
    embedding = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN, mask_zero=False)

    def run(tokens):
        x = embedding(tokens)
        for block in blocks:
            x = block(x, padding_mask=tokens != 0)
        return x

    np.testing.assert_allclose(_real(run(PADDED), TOKENS), _real(run(TOKENS), TOKENS), atol=1e-5)


def test_the_invariance_test_would_catch_a_dropped_mask():
    # The same stack fed without any mask sees the padding: the outputs move (this is the bug
    # of the TF tutorial on Keras 3), so the tests above are sensitive to a lost mask.
    blocks = [kt.EncoderBlock(HEADS, FFN) for _ in range(3)]
    embedding = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN, mask_zero=False)

    def run(tokens):
        x = embedding(tokens)
        for block in blocks:
            x = block(x)
        return x

    assert np.abs(_real(run(PADDED), TOKENS) - _real(run(TOKENS), TOKENS)).max() > 1e-3


def test_mask_travels_through_the_stack():
    x = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN)(TOKENS)
    for _ in range(3):
        x = kt.EncoderBlock(HEADS, FFN)(x)
    np.testing.assert_array_equal(as_numpy(x._keras_mask), TOKENS != 0)


def test_post_norm_outputs_are_normalized_and_pre_norm_are_not(rng):
    x = 3.0 * rng.normal(size=(2, 5, HIDDEN)).astype("float32") + 1.0
    post = as_numpy(kt.EncoderBlock(HEADS, FFN)(x))
    np.testing.assert_allclose(post.mean(-1), 0.0, atol=1e-4)
    np.testing.assert_allclose(post.std(-1), 1.0, atol=1e-2)
    pre = as_numpy(kt.EncoderBlock(HEADS, FFN, normalize_first=True)(x))
    assert np.abs(pre.mean(-1)).max() > 0.1


def test_return_attention_scores_respects_padding():
    x = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN)(TOKENS)
    results = kt.EncoderBlock(HEADS, FFN)(x, return_attention_scores=True)
    assert set(results) == {"output", "self_attention"}
    output, scores = results["output"], results["self_attention"]
    assert output.shape == (2, 5, HIDDEN) and scores.shape == (2, HEADS, 5, 5)
    np.testing.assert_allclose(as_numpy(scores).sum(-1), 1.0, atol=1e-5)
    assert np.all(as_numpy(scores)[1, :, :, 2:] == 0)


def test_hidden_size_not_divisible_by_heads_is_a_clear_error():
    with pytest.raises(ValueError, match=r"hidden size 10 is not divisible by num_heads=4"):
        kt.EncoderBlock(4, FFN)(np.zeros((1, 3, 10), "float32"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": -1}, "num_heads"),
        ({"intermediate_dim": 0}, "intermediate_dim"),
        ({"dropout": 1.0}, "dropout"),
        ({"layer_norm_epsilon": 0}, "layer_norm_epsilon"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    arguments = {"num_heads": HEADS, "intermediate_dim": FFN, **kwargs}
    with pytest.raises(ValueError, match=message):
        kt.EncoderBlock(**arguments)


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post-norm", "pre-norm"])
def test_layer_checks(rng, normalize_first):
    check_layer(
        lambda **kw: kt.EncoderBlock(
            HEADS, FFN, dropout=0.2, normalize_first=normalize_first, **kw
        ),
        [rng.normal(size=(2, 5, HIDDEN)).astype("float32")],
        expected_output_shape=(2, 5, HIDDEN),
    )


def test_attention_mask_is_an_alternative_to_the_padding_mask(rng):
    x = rng.normal(size=(2, 5, HIDDEN)).astype("float32")
    block = kt.EncoderBlock(HEADS, FFN)
    by_padding = as_numpy(block(x, padding_mask=TOKENS != 0))
    by_attention = as_numpy(block(x, attention_mask=kt.create_padding_mask(TOKENS)))
    np.testing.assert_allclose(by_attention, by_padding, atol=1e-6)
