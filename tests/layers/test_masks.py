import numpy as np
import pytest

import keras_transformer as kt
from keras_transformer.layers.masks import causal_mask, merge_attention_masks
from tests.arrays import as_numpy


def test_padding_mask_marks_real_tokens_with_one():
    mask = as_numpy(kt.create_padding_mask(np.array([[5, 0, 3, 0], [0, 0, 0, 0]])))
    assert mask.shape == (2, 1, 4)
    np.testing.assert_array_equal(mask[:, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_padding_mask_custom_padding_id():
    mask = as_numpy(kt.create_padding_mask(np.array([[5, 1, 3]]), padding_id=1))
    np.testing.assert_array_equal(mask[0, 0], [1, 0, 1])


def test_look_ahead_mask_is_lower_triangular():
    mask = as_numpy(kt.create_look_ahead_mask(4))
    assert mask.shape == (1, 4, 4)
    np.testing.assert_array_equal(mask[0], np.tril(np.ones((4, 4))))


def test_causal_mask_with_offset_matches_the_rows_of_the_full_mask():
    full = as_numpy(causal_mask(5, 5))
    np.testing.assert_array_equal(as_numpy(causal_mask(2, 5, start_index=3)), full[3:5])


@pytest.mark.parametrize("bad", [0, -2, 2.5, "3"])
def test_look_ahead_mask_rejects_bad_length(bad):
    with pytest.raises(ValueError, match="positive int length"):
        kt.create_look_ahead_mask(bad)


def test_padding_mask_rejects_rank_one_input():
    with pytest.raises(ValueError, match=r"\(batch, length\)"):
        kt.create_padding_mask(np.array([1, 2, 0]))


def test_merge_combines_padding_and_causality():
    merged = merge_attention_masks(
        3, 3, batch_size=1, padding_mask=np.array([[1, 1, 0]]), use_causal_mask=True
    )
    np.testing.assert_array_equal(as_numpy(merged)[0, 0], [[1, 0, 0], [1, 1, 0], [1, 1, 0]])


def test_merge_rejects_mismatched_padding_mask():
    with pytest.raises(ValueError, match=r"padding_mask.*\(2, 4\)"):
        merge_attention_masks(3, 3, batch_size=2, padding_mask=np.ones((2, 4)))


def test_merge_rejects_mismatched_attention_mask():
    with pytest.raises(ValueError, match="attention_mask"):
        merge_attention_masks(3, 3, batch_size=2, attention_mask=np.ones((2, 3, 5)))
