import keras
import numpy as np
import pytest

import keras_transformer as kt
from tests.arrays import as_numpy
from tests.layers.layer_checks import check_layer

VOCAB, MAX_LENGTH, HIDDEN, HEADS, FFN = 13, 10, 8, 2, 12
SOURCE = np.array([[5, 3, 8, 2, 0], [7, 1, 0, 0, 0]], "int32")
TARGET = np.array([[4, 9, 2, 6], [3, 3, 0, 0]], "int32")


def _pad(tokens, extra):
    return np.pad(tokens, ((0, 0), (0, extra)))


def _real(output, tokens):
    return as_numpy(output)[:, : tokens.shape[1]][tokens != 0]


def _seq2seq_model(num_blocks=2, normalize_first=False):
    """Embeddings, an encoder block and a stack of decoder blocks; masks flow implicitly."""
    source = keras.Input(shape=(None,), dtype="int32", name="encoder_inputs")
    target = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
    encoded = kt.EncoderBlock(HEADS, FFN)(kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN)(source))
    x = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN)(target)
    for _ in range(num_blocks):
        x = kt.DecoderBlock(HEADS, FFN, normalize_first=normalize_first)(x, encoded)
    return keras.Model([source, target], x)


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post-norm", "pre-norm"])
def test_implicit_masks_make_padding_invisible(normalize_first):
    model = _seq2seq_model(normalize_first=normalize_first)
    reference = model([SOURCE, TARGET])
    source_padded = model([_pad(SOURCE, 3), TARGET])  # cross-attention keys padded
    target_padded = model([SOURCE, _pad(TARGET, 3)])  # self-attention keys padded
    np.testing.assert_allclose(_real(source_padded, TARGET), _real(reference, TARGET), atol=1e-5)
    np.testing.assert_allclose(_real(target_padded, TARGET), _real(reference, TARGET), atol=1e-5)


def test_explicit_masks_make_padding_invisible(rng):
    block = kt.DecoderBlock(HEADS, FFN)
    encoder_outputs = rng.normal(size=(2, 5, HIDDEN)).astype("float32")
    targets = rng.normal(size=(2, 4, HIDDEN)).astype("float32")

    def run(encoded, source_tokens, target):
        return block(
            target,
            encoded,
            decoder_padding_mask=np.ones(target.shape[:2]),
            encoder_padding_mask=source_tokens != 0,
        )

    reference = as_numpy(run(encoder_outputs, SOURCE, targets))
    noise = rng.normal(size=(2, 3, HIDDEN)).astype("float32")  # padding positions hold garbage
    padded = as_numpy(run(np.concatenate([encoder_outputs, noise], 1), _pad(SOURCE, 3), targets))
    np.testing.assert_allclose(padded, reference, atol=1e-5)
    unmasked = as_numpy(block(targets, np.concatenate([encoder_outputs, noise], 1)))
    assert np.abs(unmasked - reference).max() > 1e-3  # the mask is what makes it invariant


def test_a_future_target_token_never_changes_earlier_outputs():
    model = _seq2seq_model()
    reference = as_numpy(model([SOURCE, TARGET]))
    for position in range(TARGET.shape[1]):
        changed = TARGET.copy()
        changed[:, position] = 11
        output = as_numpy(model([SOURCE, changed]))
        np.testing.assert_allclose(output[:, :position], reference[:, :position], atol=1e-6)
        assert np.abs(output[0, position] - reference[0, position]).max() > 1e-4


@pytest.mark.parametrize(
    "chunks", [[1, 1, 1, 1, 1, 1], [2, 1, 3], [6]], ids=["steps", "mixed", "all"]
)
@pytest.mark.parametrize("normalize_first", [False, True], ids=["post-norm", "pre-norm"])
def test_cached_decoding_equals_the_full_causal_pass(rng, chunks, normalize_first):
    block = kt.DecoderBlock(HEADS, FFN, normalize_first=normalize_first)
    encoder_outputs = rng.normal(size=(2, 5, HIDDEN)).astype("float32")
    encoder_mask = SOURCE != 0
    targets = rng.normal(size=(2, 6, HIDDEN)).astype("float32")
    full = as_numpy(block(targets, encoder_outputs, encoder_padding_mask=encoder_mask))

    cache = block.initial_self_attention_cache(batch_size=2, max_length=8)  # longer than needed
    cross_cache = block.compute_cross_attention_cache(encoder_outputs)
    outputs, start = [], 0
    for size in chunks:
        output, cache = block(
            targets[:, start : start + size],
            encoder_padding_mask=encoder_mask,
            cross_attention_cache=cross_cache,
            self_attention_cache=cache,
            self_attention_cache_update_index=keras.ops.convert_to_tensor(start),
        )
        outputs.append(as_numpy(output))
        start += size
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full, atol=1e-5)


def test_cached_decoding_inside_a_compiled_loop(rng):
    import tensorflow as tf  # the tests may use TensorFlow directly; the layers do not

    block = kt.DecoderBlock(HEADS, FFN)
    encoder_outputs = rng.normal(size=(2, 5, HIDDEN)).astype("float32")
    targets = rng.normal(size=(2, 6, HIDDEN)).astype("float32")
    full = as_numpy(block(targets, encoder_outputs))

    @tf.function
    def decode(targets, encoder_outputs):
        cross_cache = block.compute_cross_attention_cache(encoder_outputs)

        def body(index, cache, outputs):
            step = keras.ops.slice(targets, (0, index, 0), (2, 1, HIDDEN))
            output, cache = block(
                step,
                cross_attention_cache=cross_cache,
                self_attention_cache=cache,
                self_attention_cache_update_index=index,
            )
            return index + 1, cache, outputs.write(index, output[:, 0])

        _, _, outputs = keras.ops.while_loop(
            lambda index, *_: index < 6,
            body,
            (0, block.initial_self_attention_cache(2, 6), tf.TensorArray(tf.float32, size=6)),
        )
        return tf.transpose(outputs.stack(), (1, 0, 2))

    np.testing.assert_allclose(as_numpy(decode(targets, encoder_outputs)), full, atol=1e-5)


def test_attention_scores_of_both_attentions(rng):
    embedding = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN)
    encoded = embedding(SOURCE)
    scores = kt.DecoderBlock(HEADS, FFN)(embedding(TARGET), encoded, return_attention_scores=True)
    output = scores["output"]
    self_scores, cross_scores = (as_numpy(scores[k]) for k in ("self_attention", "cross_attention"))
    assert output.shape == (2, 4, HIDDEN)
    assert self_scores.shape == (2, HEADS, 4, 4) and cross_scores.shape == (2, HEADS, 4, 5)
    assert np.all(self_scores[..., np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0)
    assert np.all(cross_scores[1, ..., 2:] == 0)  # the second source has two real tokens
    np.testing.assert_allclose(cross_scores.sum(-1), 1.0, atol=1e-5)


def test_scores_and_cache_together(rng):
    block = kt.DecoderBlock(HEADS, FFN)
    encoder_outputs = rng.normal(size=(2, 5, HIDDEN)).astype("float32")
    block(rng.normal(size=(2, 1, HIDDEN)).astype("float32"), encoder_outputs)
    scores = block(
        rng.normal(size=(2, 1, HIDDEN)).astype("float32"),
        encoder_outputs,
        self_attention_cache=block.initial_self_attention_cache(2, 3),
        self_attention_cache_update_index=0,
        return_attention_scores=True,
    )
    assert set(scores) == {"output", "self_attention", "cross_attention", "cache"}
    cache = scores["cache"]
    assert cache.shape == (2, 2, 3, HEADS, HIDDEN // HEADS)
    assert scores["self_attention"].shape == (2, HEADS, 1, 3)
    assert scores["cross_attention"].shape == (2, HEADS, 1, 5)


def test_decoder_only_block_without_encoder_outputs(rng):
    block = kt.DecoderBlock(HEADS, FFN)
    x = rng.normal(size=(2, 4, HIDDEN)).astype("float32")
    assert block(x).shape == (2, 4, HIDDEN) and block.cross_attention is None
    with pytest.raises(ValueError, match="decoder-only"):
        block(x, rng.normal(size=(2, 3, HIDDEN)).astype("float32"))


def test_encoder_decoder_block_requires_encoder_outputs(rng):
    block = kt.DecoderBlock(HEADS, FFN)
    x = rng.normal(size=(2, 4, HIDDEN)).astype("float32")
    block(x, x)
    with pytest.raises(ValueError, match="needs `encoder_outputs`"):
        block(x)


def test_mismatched_encoder_mask_is_a_clear_error(rng):
    x = rng.normal(size=(2, 4, HIDDEN)).astype("float32")
    with pytest.raises(ValueError, match="padding_mask"):
        kt.DecoderBlock(HEADS, FFN)(x, x, encoder_padding_mask=np.ones((2, 7)))


def test_layer_checks(rng):
    check_layer(
        lambda **kw: kt.DecoderBlock(HEADS, FFN, dropout=0.2, **kw),
        [
            rng.normal(size=(2, 4, HIDDEN)).astype("float32"),
            rng.normal(size=(2, 5, 6)).astype("float32"),
        ],
        expected_output_shape=(2, 4, HIDDEN),
    )
