"""Labelled text for classifiers: TSV files of `text<TAB>label` (or sentence pairs
`text_a<TAB>text_b<TAB>label`), the built-in date-validity task, the label vocabulary, the
class balance, and the `tf.data` pipeline that encodes texts as the `Classifier` reads them.

An example is a tuple: `(text, label)`, or `(text_a, text_b, label)` for sentence pairs.
A text is encoded as `[START] text` (the `[START]` token is what `"cls"` pooling reads), a
pair as `[START] text_a [END] text_b` with segment ids 0 for `[START] text_a [END]` and 1
for `text_b`; both truncated to the model's `sequence_length`.

`load_labelled` splits a corpus three ways: in memory, or, for files of more than
`data.corpus.STREAM_ABOVE_LINES` lines, streamed (`data.example_streaming`: the same
examples in the same splits, the training ones read from the files at every pass).
"""

import collections
import os

import numpy as np
import tensorflow as tf

from keras_transformer.constants import END_ID, START_ID
from keras_transformer.data.files import decode_text, open_text, resolve_files
from keras_transformer.data.pipeline import SHUFFLE_BUFFER, seeded_passes
from keras_transformer.data.tokenizers import DEFAULT_SAMPLE_SIZE
from keras_transformer.layers.validation import check_positive_int

BUILT_IN = "date-validity"
_MAX_LISTED = 5


def read_labelled(corpus, skip_malformed=False):
    """The examples of `corpus`: TSV files (paths, globs or a list of them, plain or .gz) of
    `text<TAB>label` lines, or `text_a<TAB>text_b<TAB>label` lines for sentence pairs.

    The last column is the label. Every line of every file must have the same number of
    columns (2 or 3); blank lines are ignored; a line with an empty field is malformed.

    Returns:
        A list of `(text, label)` or `(text_a, text_b, label)` tuples, in file order.

    Raises:
        FileNotFoundError: a file or glob matches nothing.
        ValueError: a line has no label column (no tab), a different number of columns from
            the first line, or an empty field (unless `skip_malformed`); or no example is left.

    Example:

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "reviews.tsv")
    ...     with open(path, "w", encoding="utf-8") as f:
    ...         _ = f.write("Great film.\\tpositive\\nDull.\\tnegative\\n")
    ...     read_labelled(path)
    [('Great film.', 'positive'), ('Dull.', 'negative')]
    """
    examples, skipped, columns = [], [], None
    for path in resolve_files(corpus):
        name = os.fspath(path)
        text = decode_text(name, open_text(name))
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            fields = tuple(field.strip() for field in line.split("\t"))
            if columns is None and len(fields) in (2, 3):
                columns = len(fields)
            reason = None
            if len(fields) == 1:
                reason = "no label column (no tab): expected 'text<TAB>label'"
            elif len(fields) != columns:
                reason = f"{len(fields)} columns where the first line has {columns}"
            elif not all(fields):
                reason = "an empty field"
            if reason is None:
                examples.append(fields)
            else:
                skipped.append(f"{name}:{number}: {reason}")
    if skipped and not skip_malformed:
        listed = "\n".join(f"  {line}" for line in skipped[:_MAX_LISTED])
        extra = len(skipped) - _MAX_LISTED
        more = f"\n  ... and {extra} more" if extra > 0 else ""
        raise ValueError(
            f"{len(skipped)} malformed line(s); expected 'text<TAB>label' or "
            f"'text_a<TAB>text_b<TAB>label' lines, all with the same columns:\n{listed}{more}\n"
            "Fix these lines, or skip them with --skip-malformed."
        )
    if not examples:
        raise ValueError(
            f"{corpus!r} holds no example; expected 'text<TAB>label' lines (or "
            "'text_a<TAB>text_b<TAB>label' for sentence pairs)."
        )
    return examples


def load_labelled(corpus, validation_fraction=None, test_fraction=None, seed=0,
                  skip_malformed=False, sample_size=DEFAULT_SAMPLE_SIZE, stream=None):  # fmt: skip
    """The train, validation and test examples of `corpus` (TSV files, as `read_labelled`
    reads them), each example in the split a seeded hash of its texts (not its label)
    chooses (`split_examples`), so equal texts never straddle two splits.

    Args:
        corpus: TSV files (paths, globs or a list of them, plain or gzip'd). The built-in
            `"date-validity"` task is generated (`data.date_validity`), not loaded.
        validation_fraction, test_fraction: shares held out; None: 5 % each (streamed:
            `data.corpus.held_out_fraction` of the lines: 5 % up to 100k lines, then about
            5000 examples).
        seed: the split's seed.
        skip_malformed: skip malformed lines (with a warning) instead of raising.
        sample_size: a streamed corpus's sample (`.sample`): about this many texts of
            training examples (sentence pairs: half as many examples), plus the first
            example of every label the seeded sample missed.
        stream: None: stream the files when they hold more than
            `data.corpus.STREAM_ABOVE_LINES` lines; True or False: stream them or not.

    Returns:
        An `ExampleSplits` of lists of examples, or a `StreamedExampleSplits` whose `train`
        is an `ExampleStream` (read by `make_classification_dataset`; `label_counts` counts
        every training label) and whose `sample` holds every training label, so
        `label_vocabulary(splits.sample)` is the training split's.

    Raises:
        FileNotFoundError: a file or glob matches nothing.
        ValueError: as `read_labelled`; or the training split would be empty.
    """
    from keras_transformer.data.corpus import load_examples

    if corpus == BUILT_IN:
        raise ValueError(
            f"{BUILT_IN!r} is generated, not loaded: use "
            "keras_transformer.data.date_validity.generate_date_validity."
        )
    return load_examples(
        corpus, "labelled", lambda: read_labelled(corpus, skip_malformed), validation_fraction,
        test_fraction, seed=seed, sample_size=sample_size, stream=stream,
        skip_malformed=skip_malformed,
    )  # fmt: skip


def label_vocabulary(examples):
    """The sorted distinct labels of `examples` (a label's index is its class id).

    Raises:
        ValueError: fewer than two labels.
    """
    labels = sorted({example[-1] for example in examples})
    if len(labels) < 2:
        raise ValueError(
            f"A classifier needs at least two labels; the training examples have only "
            f"{labels!r}. Check the last column of the corpus."
        )
    return labels


def class_counts(examples, labels):
    """`{label: count}` over `examples`, in the order of `labels`."""
    counts = collections.Counter(example[-1] for example in examples)
    return {label: counts.get(label, 0) for label in labels}


def balanced_class_weight(examples, labels):
    """Keras `class_weight` `{class_id: n / (classes * count)}` (scikit-learn's "balanced"):
    every class weighs as much in the loss as if the classes were equally frequent.

    Example:

    >>> balanced_class_weight([("a", "x"), ("b", "x"), ("c", "x"), ("d", "y")], ["x", "y"])
    {0: 0.6666666666666666, 1: 2.0}
    """
    return class_weight_of_counts(class_counts(examples, labels))


def class_weight_of_counts(counts):
    """`balanced_class_weight` from `{label: count}` in class-id order (a streamed corpus's
    counts, gathered while it was surveyed)."""
    total = sum(counts.values())
    return {i: total / (len(counts) * max(count, 1)) for i, count in enumerate(counts.values())}


def encode_texts(tokenizer, texts, sequence_length, second=None):
    """Classifier inputs of a batch of strings (tf.string `(batch,)`), in-graph.

    Returns:
        int32 `token_ids` `(batch, width)` padded with 0, `[START]` first; with `second`
        (the `text_b` strings), also `segment_ids`: a dict `{"token_ids", "segment_ids"}`.
    """
    first_ids = tf.cast(tokenizer.tokenize(texts), tf.int32)
    rows = first_ids.nrows()
    start = tf.fill([rows, 1], START_ID)
    if second is None:
        ids = tf.concat([start, first_ids], axis=1)[:, :sequence_length]
        return ids.to_tensor()
    second_ids = tf.cast(tokenizer.tokenize(second), tf.int32)
    first = tf.concat([start, first_ids, tf.fill([rows, 1], END_ID)], axis=1)
    ids = tf.concat([first, second_ids], axis=1)[:, :sequence_length]
    segments = tf.concat([tf.zeros_like(first), tf.ones_like(second_ids)], axis=1)
    segments = segments[:, :sequence_length]
    return {"token_ids": ids.to_tensor(), "segment_ids": segments.to_tensor()}


def make_classification_dataset(examples, tokenizer, labels, sequence_length, batch_size,
                                shuffle=True, seed=0, known_only=False, epoch=None,
                                shard=(1, 0)):  # fmt: skip
    """A `tf.data.Dataset` of `(inputs, class_ids)` batches for `Classifier.fit`.

    Args:
        examples: `(text, label)` or `(text_a, text_b, label)` tuples, or the `ExampleStream`
            of a streamed corpus: read from its files at every pass (with `shuffle`, the
            files in a seeded order of each pass, the examples shuffled in a buffer of
            `data.pipeline.SHUFFLE_BUFFER`), with memory flat in the corpus's size; its
            number of batches is unknown until a pass ends.
        tokenizer: the run's tokenizer.
        labels: the label vocabulary (`label_vocabulary`); an unknown label raises.
        sequence_length: the model's; longer inputs are truncated.
        batch_size: examples per batch, each padded to its longest.
        shuffle: reshuffle the examples every pass (seeded).
        seed: int.
        epoch: an int64 `tf.Variable` keying each pass's order to its epoch (see
            `data.pipeline.seeded_passes`); None: tf.data's own sequence of orders.
        known_only: leave out the examples whose label is not in `labels` (a held-out
            split's labels the training split never had) instead of raising.
        shard: `(count, index)`: keep only this worker's share of a streamed corpus's lines
            (every `count`-th); a list is left to tf.distribute's own sharding.
    """
    from keras_transformer.data.example_streaming import ExampleStream

    check_positive_int(batch_size, "batch_size")
    index = {label: i for i, label in enumerate(labels)}
    streamed = isinstance(examples, ExampleStream)
    if streamed:
        present = set(examples.label_counts or {})
    else:
        if known_only:
            examples = [example for example in examples if example[-1] in index]
        present = {example[-1] for example in examples}
    unknown = sorted(present - set(index))
    if unknown and not (streamed and known_only):
        raise ValueError(
            f"Labels {unknown[:5]} are not among the run's labels {list(labels)}; a "
            "classifier predicts only the labels it was trained on."
        )
    if not examples:
        raise ValueError("No example to make a dataset of (every label unknown, or none given).")
    if streamed:
        batches = _streamed_batches(examples, index, batch_size, shuffle, seed, epoch, shard,
                                    keep_known=bool(unknown))  # fmt: skip
    else:
        columns = list(zip(*examples, strict=True))
        class_ids = np.array([index[label] for label in columns[-1]], "int32")
        texts = tuple(np.array(column, dtype=object) for column in columns[:-1])
        held = tf.data.Dataset.from_tensor_slices((texts, class_ids))

        def one_pass(pass_seed):
            return held.shuffle(len(examples), seed=pass_seed) if shuffle else held

        batches = seeded_passes(one_pass, seed, epoch if shuffle else None).batch(batch_size)

    def encode(texts, class_ids):
        second = texts[1] if len(texts) == 2 else None
        return encode_texts(tokenizer, texts[0], sequence_length, second), class_ids

    dataset = batches.map(encode, num_parallel_calls=tf.data.AUTOTUNE)
    if streamed:
        options = tf.data.Options()
        # Each worker reads its own share (`shard`); tf.distribute must not shard again.
        policy = tf.data.experimental.AutoShardPolicy.OFF
        options.experimental_distribute.auto_shard_policy = policy
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
    batches = -(-len(examples) // batch_size)
    return dataset.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(
        tf.data.AUTOTUNE
    )


def _streamed_batches(stream, index, batch_size, shuffle, seed, epoch, shard, keep_known):
    """Batches of `((texts...), class_ids)` of the training examples of an `ExampleStream`,
    read at every pass; `keep_known` leaves out those whose label is not in `index` (else
    every label is)."""
    from keras_transformer.data.example_streaming import stream_examples

    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(index), tf.string), tf.constant(list(index.values()), tf.int32)
        ),
        default_value=-1,
    )

    def one_pass(pass_seed):
        examples = stream_examples(stream, pass_seed if shuffle else None, shard)
        if keep_known:
            examples = examples.filter(lambda *fields: table.lookup(fields[-1]) >= 0)
        if shuffle:
            examples = examples.shuffle(min(len(stream), SHUFFLE_BUFFER), seed=pass_seed)
        return examples

    dataset = seeded_passes(one_pass, seed, epoch if shuffle else None).batch(batch_size)
    return dataset.map(lambda *fields: (tuple(fields[:-1]), table.lookup(fields[-1])))
