"""Attention masks: padding and look-ahead (causal) masks, and the helpers that merge them.

Convention used everywhere in this package: in a mask, **1 (or True) means keep** (the position
may be attended to) and 0 (or False) means masked out. This is the convention of the
course note and of the TensorFlow tutorial's later versions; the paper's "set to -inf" is
applied inside the attention layers, never by the caller.

Shapes:

- a *padding mask* is `(batch, key_length)`: which key positions hold real tokens;
- an *attention mask* is broadcastable to `(batch, query_length, key_length)`;
- inside the attention layers the mask is expanded to `(batch, 1, query_length, key_length)`
  so that it broadcasts over heads.
"""

from keras import ops

from keras_transformer.constants import PAD_ID

try:  # Keras keeps implicit masks in a tensor attribute; this reads it on every backend.
    from keras.src.backend import get_keras_mask as _get_keras_mask
except ImportError:  # pragma: no cover - older or newer Keras layouts

    def _get_keras_mask(x):
        return getattr(x, "_keras_mask", None)


def create_padding_mask(token_ids, padding_id=PAD_ID):
    """Padding mask of a batch of token ids: 1 where a real token is, 0 at padding.

    Args:
        token_ids: int tensor of shape `(batch, length)`.
        padding_id: int. The id used for padding. Defaults to `0`.

    Returns:
        float32 tensor of shape `(batch, 1, length)` with 1 = keep. The middle axis lets it
        broadcast over query positions, so it can be passed as an `attention_mask`.

    Example:

    >>> import numpy as np
    >>> mask = create_padding_mask(np.array([[7, 6, 0, 0, 1], [1, 2, 3, 0, 0]]))
    >>> np.asarray(mask)
    array([[[1., 1., 0., 0., 1.]],
    <BLANKLINE>
           [[1., 1., 1., 0., 0.]]], dtype=float32)
    """
    token_ids = ops.convert_to_tensor(token_ids)
    if len(token_ids.shape) != 2:
        raise ValueError(
            "create_padding_mask expects token ids of shape (batch, length); "
            f"received shape {tuple(token_ids.shape)}. Add a batch axis with "
            "`token_ids[None, :]` for a single sequence."
        )
    keep = ops.cast(ops.not_equal(token_ids, padding_id), "float32")
    return ops.expand_dims(keep, axis=1)


def create_look_ahead_mask(length):
    """Look-ahead (causal) mask: position i may attend to positions 0..i only.

    Args:
        length: int. The sequence length.

    Returns:
        float32 tensor of shape `(1, length, length)`, lower triangular, 1 = keep.

    Example:

    >>> import numpy as np
    >>> np.asarray(create_look_ahead_mask(3))
    array([[[1., 0., 0.],
            [1., 1., 0.],
            [1., 1., 1.]]], dtype=float32)
    """
    if not isinstance(length, int) or length <= 0:
        raise ValueError(
            f"create_look_ahead_mask needs a positive int length; received {length!r}."
        )
    return ops.expand_dims(ops.cast(causal_mask(length, length), "float32"), axis=0)


def causal_mask(query_length, key_length, start_index=0):
    """Boolean `(query_length, key_length)` mask: query i (at position start_index + i) sees
    keys 0..start_index + i.

    `start_index` is the position of the first query; it is 0 for a full pass and the cache
    index for incremental decoding, where the keys are the whole (pre-allocated) cache.
    """
    query_positions = ops.arange(query_length, dtype="int32") + ops.cast(start_index, "int32")
    key_positions = ops.arange(key_length, dtype="int32")
    return ops.greater_equal(
        ops.expand_dims(query_positions, axis=1), ops.expand_dims(key_positions, axis=0)
    )


def implicit_mask(tensor):
    """The Keras mask attached to `tensor` (e.g. by `PositionalEmbedding(mask_zero=True)`),
    or None."""
    if tensor is None:
        return None
    return _get_keras_mask(tensor)


def _check_mask_shape(mask, expected, name, fix):
    """Raises ValueError when a statically known mask dimension contradicts `expected`."""
    shape = tuple(mask.shape)
    if len(shape) != len(expected) or any(
        m is not None and e is not None and m not in (1, e)
        for m, e in zip(shape, expected, strict=True)
    ):
        raise ValueError(
            f"`{name}` has shape {shape}, which does not match the expected shape "
            f"{tuple(expected)} (None = any). {fix}"
        )


def merge_attention_masks(
    query_length,
    key_length,
    batch_size=None,
    padding_mask=None,
    attention_mask=None,
    use_causal_mask=False,
    start_index=0,
):
    """Combines a padding mask, an attention mask and causality into one boolean mask.

    Args:
        query_length: int or scalar tensor. Number of query positions.
        key_length: int or scalar tensor. Number of key positions.
        batch_size: int or None. Static batch size, used only to check shapes.
        padding_mask: `(batch, key_length)`, 1/True = real key. Defaults to None.
        attention_mask: broadcastable to `(batch, query_length, key_length)`. Defaults to None.
        use_causal_mask: bool. Forbid attending to later positions. Defaults to False.
        start_index: int or scalar tensor. Position of the first query (cached decoding).

    Returns:
        A boolean tensor of shape `(batch or 1, 1, query_length, key_length)` (1 broadcasts
        over heads), or None when nothing is masked.
    """
    static_query = query_length if isinstance(query_length, int) else None
    static_key = key_length if isinstance(key_length, int) else None
    merged = None
    if padding_mask is not None:
        padding_mask = ops.convert_to_tensor(padding_mask)
        _check_mask_shape(
            padding_mask,
            (batch_size, static_key),
            "padding_mask",
            "A padding mask is (batch, key_length) with 1 = real token; pass the mask of the "
            "sequence being attended to (the keys).",
        )
        merged = ops.cast(padding_mask, "bool")[:, None, None, :]
    if attention_mask is not None:
        attention_mask = ops.convert_to_tensor(attention_mask)
        if len(attention_mask.shape) == 2:
            attention_mask = attention_mask[None, :, :]
        _check_mask_shape(
            attention_mask,
            (batch_size, static_query, static_key),
            "attention_mask",
            "An attention mask broadcasts to (batch, query_length, key_length) with 1 = keep; "
            "use create_padding_mask or create_look_ahead_mask to build one.",
        )
        attention_mask = ops.cast(attention_mask, "bool")[:, None, :, :]
        merged = attention_mask if merged is None else ops.logical_and(merged, attention_mask)
    if use_causal_mask:
        causal = causal_mask(query_length, key_length, start_index)[None, None, :, :]
        merged = causal if merged is None else ops.logical_and(merged, causal)
    return merged


def as_padding_mask(mask):
    """Normalizes an optional padding mask to a boolean tensor (None stays None)."""
    if mask is None:
        return None
    return ops.cast(ops.convert_to_tensor(mask), "bool")


__all__ = [
    "as_padding_mask",
    "causal_mask",
    "create_look_ahead_mask",
    "create_padding_mask",
    "implicit_mask",
    "merge_attention_masks",
]
