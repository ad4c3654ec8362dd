"""Mixed precision: compute in float16/bfloat16, variables and softmax in float32."""

import keras
import numpy as np
import pytest

import keras_transformer as kt
from tests.arrays import as_numpy

POLICIES = ["mixed_bfloat16", "mixed_float16"]


@pytest.mark.parametrize("policy", POLICIES)
def test_attention_scores_are_a_clean_softmax(policy, rng):
    keras.config.set_dtype_policy(policy)
    x = 4.0 * rng.normal(size=(2, 6, 8)).astype("float32")
    layer = kt.MultiHeadSelfAttention(num_heads=2)
    results = layer(
        x, padding_mask=np.array([[1] * 6, [1, 1, 0, 0, 0, 0]]), return_attention_scores=True
    )
    output, scores = results["output"], results["attention_scores"]
    compute = keras.backend.standardize_dtype(layer.compute_dtype)
    assert keras.backend.standardize_dtype(output.dtype) == compute
    assert keras.backend.standardize_dtype(layer.qkv_dense.kernel.dtype) == "float32"
    scores = as_numpy(keras.ops.cast(scores, "float32"))
    assert np.isfinite(scores).all() and np.all(scores[1, ..., 2:] == 0)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=2e-2)


@pytest.mark.parametrize("policy", POLICIES + ["float32"])
def test_an_all_padding_sequence_stays_finite(policy):
    # An empty source string is all padding: every key is masked. The softmax must not
    # produce NaN (it falls back to uniform weights over the masked keys).
    keras.config.set_dtype_policy(policy)
    tokens = np.array([[0, 0, 0], [4, 5, 0]], "int32")
    x = kt.PositionalEmbedding(11, 5, 8)(tokens)
    y = kt.DecoderBlock(2, 12)(x, kt.EncoderBlock(2, 12)(x))
    assert np.isfinite(as_numpy(keras.ops.cast(y, "float32"))).all()


@pytest.mark.parametrize("policy", POLICIES)
def test_a_model_from_the_layers_trains_under_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    source = keras.Input(shape=(None,), dtype="int32")
    target = keras.Input(shape=(None,), dtype="int32")
    encoded = kt.EncoderBlock(2, 12)(kt.PositionalEmbedding(11, 6, 8)(source))
    y = kt.DecoderBlock(2, 12)(kt.PositionalEmbedding(11, 6, 8)(target), encoded)
    logits = keras.layers.Dense(11, dtype="float32")(y)  # float32 logits for a stable loss
    model = keras.Model([source, target], logits)
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    data = np.random.default_rng(1).integers(1, 11, size=(8, 5)).astype("int32")
    history = model.fit([data, data], data, epochs=3, batch_size=4, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in model.weights)
