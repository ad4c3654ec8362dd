"""The tf.data pipeline: tokenize, truncate, teacher-forcing pairs, length buckets, prefetch."""

import numpy as np
import tensorflow as tf

from keras_transformer.constants import END_ID, PAD_ID, START_ID
from keras_transformer.layers.validation import check_positive_int

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


# A streamed corpus is shuffled in a buffer of this many pairs (a held one entirely).
SHUFFLE_BUFFER = 100_000


def token_batch_sizes(batch_tokens, boundaries, sequence_length):
    """Pairs per batch in each length bucket for batches of about `batch_tokens` tokens:
    `batch_tokens // longest length in the bucket`, at least 1 (OpenNMT-tf's and
    tensor2tensor's rule). The bucket's longest sequence decides, padding included."""
    uppers = [b - 1 for b in boundaries] + [sequence_length]
    return [max(1, batch_tokens // upper) for upper in uppers]


def make_dataset(
    pairs,
    source_tokenizer,
    target_tokenizer,
    sequence_length,
    batch_size=None,
    shuffle=True,
    seed=0,
    bucket_boundaries=None,
    padding="bucketed",
    batch_tokens=None,
    shard=(1, 0),
    epoch=None,
    repeat=False,
):
    """A `tf.data.Dataset` of `({"encoder_inputs", "decoder_inputs"}, labels)` batches.

    Pairs are tokenized in the graph (in parallel chunks), grouped into buckets of similar
    length (the longer of the source and the target decides), and each batch is padded with 0
    to its own longest sequence, so batches carry little padding. Shuffling (seeded,
    reshuffled each epoch) mixes the pairs before bucketing.

    Args:
        pairs: list of `(source, target)` strings, or a `TrainStream` (a streamed corpus:
            read from its files, shuffled in a buffer of `SHUFFLE_BUFFER` pairs, and not
            counted: the dataset's length is unknown until a pass ends).
        source_tokenizer, target_tokenizer: tokenizers from `keras_transformer.data`.
        sequence_length: int. Longest source and target in tokens (longer ones are truncated).
        batch_size: int. Pairs per batch (when `batch_tokens` is None).
        shuffle: bool. Defaults to `True`.
        seed: int. Shuffle seed. Defaults to `0`.
        bucket_boundaries: list of int, or None for `default_bucket_boundaries`.
        padding: `"bucketed"` (the default, described above) or `"fixed"`: no buckets, every
            batch padded to `sequence_length` (one shape for every step, at the cost of
            computing on padding).
        batch_tokens: int or None. Batches of about this many tokens (each bucket's longest
            length times its pairs per batch, `token_batch_sizes`) instead of `batch_size`
            pairs. Needs `padding="bucketed"`.
        shard: `(count, index)`: keep only this worker's share of a streamed corpus's lines.
        epoch: a `tf.Variable` holding the current epoch, or None. Given, each pass is
            shuffled with a seed drawn from `(seed, epoch, pass)` when it starts, so an
            epoch's order depends only on its number and a resumed run continues the order
            instead of replaying it; None: one seeded shuffle, reshuffled every pass.
        repeat: bool. Repeat the passes forever (with `steps_per_epoch`); each pass gets its
            own order.

    Returns:
        A dataset of dicts with int32 `encoder_inputs` `(batch, source_length)`,
        `decoder_inputs` `(batch, target_length)` and int32 labels `(batch, target_length)`.
    """
    from keras_transformer.data.streaming import TrainStream, stream_pairs

    streamed = isinstance(pairs, TrainStream)
    if not streamed and not pairs:
        raise ValueError("make_dataset received no pairs; the split is empty.")
    if batch_tokens is None:
        check_positive_int(batch_size, "batch_size")
    if batch_tokens is not None and batch_tokens < sequence_length:
        raise ValueError(
            f"batch_tokens={batch_tokens} is less than one sequence of sequence_length="
            f"{sequence_length} tokens; use at least that many."
        )
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}; received {padding!r}.")
    if batch_tokens is not None and padding != "bucketed":
        raise ValueError("batch_tokens needs padding='bucketed' (fixed padding has no buckets).")
    if streamed:
        buffer = min(len(pairs), SHUFFLE_BUFFER)

        def one_pass(pass_seed):
            dataset = stream_pairs(pairs, shuffle_seed=pass_seed if shuffle else None, shard=shard)
            return dataset.shuffle(buffer, seed=pass_seed) if shuffle else dataset
    else:
        sources = np.array([source for source, _ in pairs], dtype=object)
        targets = np.array([target for _, target in pairs], dtype=object)
        held = tf.data.Dataset.from_tensor_slices((sources, targets))
        buffer = len(pairs)

        def one_pass(pass_seed):
            return held.shuffle(buffer, seed=pass_seed) if shuffle else held

    dataset = seeded_passes(one_pass, seed, epoch, repeat)

    def encode(source, target):
        ragged = encode_pairs(source, target, source_tokenizer, target_tokenizer, sequence_length)
        return tuple((r.to_tensor(), r.row_lengths()) for r in ragged)

    def trim(*padded_and_lengths):
        return tuple(padded[:length] for padded, length in padded_and_lengths)

    # Tokenize in chunks (fast, vectorized, in parallel), then single examples for bucketing.
    dataset = dataset.batch(1024).map(encode, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.unbatch().map(trim)
    if padding == "fixed":
        dataset = dataset.padded_batch(
            batch_size, padded_shapes=([sequence_length],) * 3, padding_values=(PAD_ID,) * 3
        )
    else:
        boundaries = bucket_boundaries or default_bucket_boundaries(sequence_length)
        sizes = (
            token_batch_sizes(batch_tokens, boundaries, sequence_length)
            if batch_tokens
            else [batch_size] * (len(boundaries) + 1)
        )
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda source, decoder_inputs, _: tf.maximum(
                tf.shape(source)[0], tf.shape(decoder_inputs)[0]
            ),
            bucket_boundaries=boundaries,
            bucket_batch_sizes=sizes,
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
    options = tf.data.Options()
    if streamed or repeat:
        # Each worker reads its own shard of the lines (`shard`); tf.distribute must not
        # shard again. (A repeated held corpus: every worker's own order, no count.)
        policy = tf.data.experimental.AutoShardPolicy
        options.experimental_distribute.auto_shard_policy = policy.OFF if streamed else policy.DATA
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
    # The number of batches of a held corpus depends only on how many pairs fall in each
    # bucket, not on their order (with `batch_size`), so count it once for progress bars.
    batches = int(dataset.reduce(0, lambda count, _: count + 1))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    # Under tf.distribute every worker runs this pipeline (same seed, same order) and keeps
    # its share of each global batch; the data is in memory, so there are no files to shard.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


def seeded_passes(one_pass, seed, epoch=None, repeat=False):
    """`one_pass(pass_seed)` once, or forever with `repeat`. Without `epoch` the seed is
    `seed` and the shuffles reshuffle each iteration (tf.data's own sequence of orders);
    with it (a `tf.Variable`, which `training.callbacks.EpochRandomness` sets), each pass's
    seed is drawn from `(seed, epoch, pass index)` when it starts, so a resumed run's epochs
    see the orders of the uninterrupted run's."""
    if epoch is None:
        dataset = one_pass(seed)
        return dataset.repeat() if repeat else dataset

    def seeded_pass(index):
        # A graph-level seed of this function's own graph: with the global seed 0, TensorFlow
        # would compare the tensor op seed below with 0 in Python (`get_seed`) and fail.
        tf.compat.v1.set_random_seed(8191)
        key = (tf.cast(seed, tf.int64) * 1_000_003 + tf.cast(epoch.read_value(), tf.int64)) * 8191
        return one_pass(key + index)

    passes = tf.data.Dataset.counter() if repeat else tf.data.Dataset.range(1)
    return passes.flat_map(seeded_pass)
