"""The tf.data pipeline: tokenize, truncate, teacher-forcing pairs, length buckets, prefetch."""

import numpy as np
import tensorflow as tf

from keras_transformer.data.tokenizers import END_ID, PAD_ID, START_ID

PADDINGS = ("bucketed", "fixed")


def default_bucket_boundaries(sequence_length):
    """Upper lengths of the buckets: steps of 8 up to 64, then of 16, 32, ... (exclusive)."""
    boundaries, length, step = [], 8, 8
    while length <= sequence_length:
        boundaries.append(length + 1)
        if length >= 8 * step:
            step *= 2
        length += step
    return boundaries


def encode_pairs(sources, targets, source_tokenizer, target_tokenizer, sequence_length):
    """Tokenized model inputs of a batch of string pairs.

    The source is truncated to `sequence_length` tokens. The target becomes `[START] t... [END]`
    with `t` truncated to `sequence_length - 1` tokens, and is split for teacher forcing:
    `decoder_inputs` is it without its last token, `labels` without its first, so both have at
    most `sequence_length` tokens and `labels[i]` is the token after `decoder_inputs[i]`.

    Returns:
        Ragged int32 `(encoder_inputs, decoder_inputs, labels)`.
    """
    source_ids = source_tokenizer.tokenize(sources)[:, :sequence_length]
    target_ids = target_tokenizer.tokenize(targets)[:, : sequence_length - 1]
    batch = target_ids.nrows()
    start = tf.fill([batch, 1], START_ID)
    end = tf.fill([batch, 1], END_ID)
    full = tf.concat([start, tf.cast(target_ids, tf.int32), end], axis=1)
    return tf.cast(source_ids, tf.int32), full[:, :-1], full[:, 1:]


def make_dataset(
    pairs,
    source_tokenizer,
    target_tokenizer,
    sequence_length,
    batch_size,
    shuffle=True,
    seed=0,
    bucket_boundaries=None,
    padding="bucketed",
):
    """A `tf.data.Dataset` of `({"encoder_inputs", "decoder_inputs"}, labels)` batches.

    Pairs are tokenized in the graph, grouped into buckets of similar length (the longer of
    the source and the target decides), and each batch is padded with 0 to its own longest
    sequence, so batches carry little padding. Shuffling (seeded, reshuffled each epoch) mixes
    the pairs before bucketing.

    Args:
        pairs: list of `(source, target)` strings.
        source_tokenizer, target_tokenizer: tokenizers from `keras_transformer.data`.
        sequence_length: int. Longest source and target in tokens (longer ones are truncated).
        batch_size: int. Pairs per batch.
        shuffle: bool. Defaults to `True`.
        seed: int. Shuffle seed. Defaults to `0`.
        bucket_boundaries: list of int, or None for `default_bucket_boundaries`.
        padding: `"bucketed"` (the default, described above) or `"fixed"`: no buckets, every
            batch padded to `sequence_length` (one shape for every step, at the cost of
            computing on padding).

    Returns:
        A dataset of dicts with int32 `encoder_inputs` `(batch, source_length)`,
        `decoder_inputs` `(batch, target_length)` and int32 labels `(batch, target_length)`.
    """
    if not pairs:
        raise ValueError("make_dataset received no pairs; the split is empty.")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive; received {batch_size}.")
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}; received {padding!r}.")
    sources = np.array([source for source, _ in pairs], dtype=object)
    targets = np.array([target for _, target in pairs], dtype=object)
    dataset = tf.data.Dataset.from_tensor_slices((sources, targets))
    if shuffle:
        dataset = dataset.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)

    def encode(source, target):
        ragged = encode_pairs(source, target, source_tokenizer, target_tokenizer, sequence_length)
        return tuple((r.to_tensor(), r.row_lengths()) for r in ragged)

    def trim(*padded_and_lengths):
        return tuple(padded[:length] for padded, length in padded_and_lengths)

    # Tokenize in chunks (fast, vectorized), then go back to single examples for bucketing.
    dataset = dataset.batch(1024).map(encode).unbatch().map(trim)
    if padding == "fixed":
        dataset = dataset.padded_batch(
            batch_size, padded_shapes=([sequence_length],) * 3, padding_values=(PAD_ID,) * 3
        )
    else:
        boundaries = bucket_boundaries or default_bucket_boundaries(sequence_length)
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda source, decoder_inputs, _: tf.maximum(
                tf.shape(source)[0], tf.shape(decoder_inputs)[0]
            ),
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padding_values=(PAD_ID, PAD_ID, PAD_ID),
            pad_to_bucket_boundary=False,
        )
    dataset = dataset.map(
        lambda source, decoder_inputs, labels: (
            {"encoder_inputs": source, "decoder_inputs": decoder_inputs},
            labels,
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    # The number of batches depends only on how many pairs fall in each bucket, not on their
    # order, so it is the same every epoch: count it once for progress bars and `fit`.
    batches = int(dataset.reduce(0, lambda count, _: count + 1))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    # Under tf.distribute every worker runs this pipeline (same seed, same order) and keeps
    # its share of each global batch; the data is in memory, so there are no files to shard.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
