import keras
import numpy as np
import pytest

import keras_transformer as kt
from tests.arrays import as_numpy
from tests.layers.layer_checks import check_layer

BATCH, LENGTH, HIDDEN, HEADS = 2, 5, 8, 2
SOURCE_LENGTH, SOURCE_DIM = 7, 6


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _reference(q_in, kv_in, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, heads, keep):
    """softmax(Q Kᵀ / √d_k) V per head, concatenated and projected: NumPy, float64."""
    head_dim = q_w.shape[1] // heads

    def split(x, w, b):
        y = x @ w + b  # (batch, length, heads * head_dim)
        return y.reshape(y.shape[0], y.shape[1], heads, head_dim).transpose(0, 2, 1, 3)

    q, k, v = split(q_in, q_w, q_b), split(kv_in, k_w, k_b), split(kv_in, v_w, v_b)
    logits = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim)  # (batch, heads, T, S)
    logits = np.where(keep, logits, -1e9)
    weights = _softmax(logits)
    context = (weights @ v).transpose(0, 2, 1, 3).reshape(q_in.shape[0], q_in.shape[1], -1)
    return context @ o_w + o_b, weights


def _self_attention_weights(layer):
    kernel, bias = (as_numpy(w, "float64") for w in layer.qkv_dense.weights)
    third = kernel.shape[1] // 3
    out_kernel, out_bias = (as_numpy(w, "float64") for w in layer.output_dense.weights)
    parts = [
        (kernel[:, i * third : (i + 1) * third], bias[i * third : (i + 1) * third])
        for i in range(3)
    ]
    return [a for pair in parts for a in pair] + [out_kernel, out_bias]


@pytest.mark.parametrize("return_scores", [False, True], ids=["fused", "explicit"])
def test_self_attention_equals_numpy_reference(rng, return_scores):
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    padding = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], "float32")
    layer = kt.MultiHeadSelfAttention(num_heads=HEADS, bias_initializer="random_normal")
    result = layer(
        x, padding_mask=padding, use_causal_mask=True, return_attention_scores=return_scores
    )
    keep = (padding[:, None, None, :] > 0) & np.tril(np.ones((LENGTH, LENGTH), bool))
    expected, expected_weights = _reference(
        x.astype("float64"), x.astype("float64"), *_self_attention_weights(layer), HEADS, keep
    )
    output = result["output"] if return_scores else result
    np.testing.assert_allclose(as_numpy(output), expected, atol=1e-5)
    if return_scores:
        np.testing.assert_allclose(
            as_numpy(result["attention_scores"]), expected_weights, atol=1e-6
        )


def test_fused_and_explicit_paths_give_the_same_numbers(rng):
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    layer = kt.MultiHeadSelfAttention(num_heads=HEADS)
    fused = layer(x, padding_mask=np.array([[1, 1, 1, 0, 0]] * 2))
    explicit = layer(x, padding_mask=np.array([[1, 1, 1, 0, 0]] * 2), return_attention_scores=True)[
        "output"
    ]
    np.testing.assert_allclose(as_numpy(fused), as_numpy(explicit), atol=1e-6)


def test_cross_attention_equals_numpy_reference(rng):
    queries = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    context = rng.normal(size=(BATCH, SOURCE_LENGTH, SOURCE_DIM)).astype("float32")
    padding = np.array([[1] * 7, [1, 1, 1, 1, 0, 0, 0]], "float32")
    layer = kt.MultiHeadCrossAttention(num_heads=HEADS, bias_initializer="random_normal")
    output = layer(queries, context, padding_mask=padding)
    q_w, q_b = (as_numpy(w, "float64") for w in layer.query_dense.weights)
    kv_w, kv_b = (as_numpy(w, "float64") for w in layer.key_value_dense.weights)
    o_w, o_b = (as_numpy(w, "float64") for w in layer.output_dense.weights)
    half = kv_w.shape[1] // 2
    expected, _ = _reference(
        queries.astype("float64"),
        context.astype("float64"),
        q_w,
        q_b,
        kv_w[:, :half],
        kv_b[:half],
        kv_w[:, half:],
        kv_b[half:],
        o_w,
        o_b,
        HEADS,
        padding[:, None, None, :] > 0,
    )
    assert output.shape == (BATCH, LENGTH, HIDDEN)
    np.testing.assert_allclose(as_numpy(output), expected, atol=1e-5)


def test_scaled_dot_product_attention_with_course_masks(rng):
    q = rng.normal(size=(3, 4, 6)).astype("float32")
    k = rng.normal(size=(3, 4, 6)).astype("float32")
    v = rng.normal(size=(3, 4, 5)).astype("float32")
    tokens = np.array([[3, 4, 0, 0], [1, 1, 1, 1], [2, 0, 0, 0]])
    mask = as_numpy(kt.create_padding_mask(tokens)) * as_numpy(kt.create_look_ahead_mask(4))
    output, weights = kt.scaled_dot_product_attention(q, k, v, mask=mask)
    expected_weights = _softmax(np.where(mask > 0, q @ k.transpose(0, 2, 1) / np.sqrt(6), -1e9))
    np.testing.assert_allclose(as_numpy(weights), expected_weights, atol=1e-6)
    np.testing.assert_allclose(as_numpy(output), expected_weights @ v, atol=1e-5)
    assert np.all(as_numpy(weights)[mask == 0] == 0)


def test_attention_dropout_only_in_training(rng):
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    layer = kt.MultiHeadSelfAttention(num_heads=HEADS, dropout=0.5)
    inference = as_numpy(layer(x, training=False))
    no_dropout = kt.MultiHeadSelfAttention(num_heads=HEADS)
    no_dropout(x)
    no_dropout.set_weights(layer.get_weights())
    np.testing.assert_allclose(inference, as_numpy(no_dropout(x)), atol=1e-6)
    assert not np.allclose(as_numpy(layer(x, training=True)), inference, atol=1e-3)


def test_implicit_keras_mask_is_honoured(rng):
    tokens = np.array([[4, 2, 9, 0, 0], [1, 3, 0, 0, 0]])
    embedding = kt.PositionalEmbedding(
        vocabulary_size=11, sequence_length=LENGTH, hidden_dim=HIDDEN
    )
    x = embedding(tokens)
    layer = kt.MultiHeadSelfAttention(num_heads=HEADS)
    implicit = as_numpy(layer(x))
    explicit = as_numpy(layer(keras.ops.convert_to_tensor(as_numpy(x)), padding_mask=tokens != 0))
    unmasked = as_numpy(layer(keras.ops.convert_to_tensor(as_numpy(x))))
    np.testing.assert_allclose(implicit, explicit, atol=1e-6)
    assert not np.allclose(implicit, unmasked, atol=1e-3)


@pytest.mark.parametrize("chunks", [[1, 1, 1, 1, 1], [2, 3], [5]])
def test_self_attention_cache_equals_full_causal_pass(rng, chunks):
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    layer = kt.MultiHeadSelfAttention(num_heads=HEADS)
    full = as_numpy(layer(x, use_causal_mask=True))
    cache = layer.initial_cache(BATCH, LENGTH)
    outputs, start = [], 0
    for size in chunks:
        output, cache = layer(
            x[:, start : start + size], use_causal_mask=True, cache=cache, cache_update_index=start
        )
        outputs.append(as_numpy(output))
        start += size
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full, atol=1e-5)


def test_cache_with_scores_returns_named_results(rng):
    x = rng.normal(size=(BATCH, 1, HIDDEN)).astype("float32")
    layer = kt.MultiHeadSelfAttention(num_heads=HEADS)
    layer(x)
    results = layer(
        x,
        use_causal_mask=True,
        cache=layer.initial_cache(BATCH, 4),
        cache_update_index=0,
        return_attention_scores=True,
    )
    assert set(results) == {"output", "attention_scores", "cache"}
    scores, cache = results["attention_scores"], results["cache"]
    assert scores.shape == (BATCH, HEADS, 1, 4) and cache.shape == (BATCH, 2, 4, HEADS, 4)
    np.testing.assert_allclose(as_numpy(scores)[..., 1:], 0.0)


def test_cross_attention_cache_equals_context_call(rng):
    queries = rng.normal(size=(BATCH, 3, HIDDEN)).astype("float32")
    context = rng.normal(size=(BATCH, SOURCE_LENGTH, SOURCE_DIM)).astype("float32")
    padding = np.array([[1] * 7, [1, 1, 0, 0, 0, 0, 0]])
    layer = kt.MultiHeadCrossAttention(num_heads=HEADS)
    direct = as_numpy(layer(queries, context, padding_mask=padding))
    cached = layer(queries, cache=layer.compute_cache(context), padding_mask=padding)
    np.testing.assert_allclose(as_numpy(cached), direct, atol=1e-6)


def test_hidden_size_not_divisible_by_heads_is_a_clear_error():
    with pytest.raises(ValueError, match=r"hidden size 10 is not divisible by num_heads=3"):
        kt.MultiHeadSelfAttention(num_heads=3)(np.zeros((1, 2, 10), "float32"))


def test_key_dim_allows_any_hidden_size():
    output = kt.MultiHeadSelfAttention(num_heads=3, key_dim=4)(np.zeros((1, 2, 10), "float32"))
    assert output.shape == (1, 2, 10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": 0}, "num_heads"),
        ({"num_heads": 2, "key_dim": -1}, "key_dim"),
        ({"num_heads": 2, "dropout": 1.5}, "dropout"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kt.MultiHeadSelfAttention(**kwargs)


def test_mismatched_padding_mask_is_a_clear_error(rng):
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    with pytest.raises(ValueError, match=r"padding_mask.*\(2, 3\)"):
        kt.MultiHeadSelfAttention(num_heads=HEADS)(x, padding_mask=np.ones((BATCH, 3)))


def test_cross_attention_without_context_is_a_clear_error(rng):
    layer = kt.MultiHeadCrossAttention(num_heads=HEADS)
    with pytest.raises(ValueError, match="needs `context`"):
        layer(rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32"))


def test_self_attention_layer_checks(rng):
    x = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    check_layer(
        lambda **kw: kt.MultiHeadSelfAttention(num_heads=HEADS, **kw),
        [x],
        {"use_causal_mask": True},
        expected_output_shape=(BATCH, LENGTH, HIDDEN),
    )


def test_cross_attention_layer_checks(rng):
    queries = rng.normal(size=(BATCH, LENGTH, HIDDEN)).astype("float32")
    context = rng.normal(size=(BATCH, SOURCE_LENGTH, SOURCE_DIM)).astype("float32")
    check_layer(
        lambda **kw: kt.MultiHeadCrossAttention(num_heads=HEADS, **kw),
        [queries, context],
        expected_output_shape=(BATCH, LENGTH, HIDDEN),
    )


def test_a_query_with_no_visible_key_gets_nothing_whatever_the_padding(rng):
    # An all-padding sequence (an empty input) must not depend on how much padding it has.
    layer = kt.MultiHeadSelfAttention(num_heads=HEADS, use_bias=False)
    for length in (3, 7):
        x = rng.normal(size=(1, length, HIDDEN)).astype("float32")
        results = layer(x, padding_mask=np.zeros((1, length)), return_attention_scores=True)
        output, scores = results["output"], results["attention_scores"]
        fused = layer(x, padding_mask=np.zeros((1, length)))
        np.testing.assert_allclose(as_numpy(output), 0.0, atol=1e-6)
        np.testing.assert_allclose(as_numpy(fused), 0.0, atol=1e-6)
        np.testing.assert_allclose(as_numpy(scores), 0.0)
