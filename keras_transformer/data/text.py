"""Plain text for language models: documents from files (or the built-in corpus) and the
`tf.data` pipeline that cuts them into blocks of tokens.

The built-in corpus needs no download: the English text of Python's documentation topics,
which every CPython ships in `pydoc_data.topics` (79 topics, about 0.47 MB).

`load_documents` splits a corpus three ways: in memory, or, for files of more than
`data.corpus.STREAM_ABOVE_LINES` lines, streamed (`data.example_streaming`: the same
documents, lines or blank-line separated paragraphs, in the same splits, read from the files
at every pass).
"""

import re

import numpy as np
import tensorflow as tf

from keras_transformer.constants import END_ID, START_ID
from keras_transformer.data.files import decode_text, open_text, resolve_files
from keras_transformer.data.pipeline import seeded_passes
from keras_transformer.data.tokenizers import DEFAULT_SAMPLE_SIZE
from keras_transformer.layers.validation import check_positive_int

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
BUILT_IN = "python-docs"
# A streamed corpus is shuffled in buffers of this many documents, then of blocks.
DOCUMENT_BUFFER = 10_000
BLOCK_BUFFER = 10_000


def split_documents(text):
    """The documents of a text: its blank-line separated paragraphs when it has blank
    lines, else its lines; surrounding whitespace stripped, empty ones dropped.

    Lines end with `\\n` or `\\r\\n` (as for the TSV readers); no other character ends a
    line, so a U+2028 LINE SEPARATOR, a form feed or a lone `\\r` stays inside its document.

    Example:

    >>> split_documents("One line.\\nAnother.\\n")
    ['One line.', 'Another.']
    >>> split_documents("A paragraph\\nin two lines.\\n\\nA second one.")
    ['A paragraph\\nin two lines.', 'A second one.']
    >>> split_documents("A paragraph\\r\\nin two lines.\\r\\n\\r\\nOne\\u2028more.\\r\\n")
    ['A paragraph\\nin two lines.', 'One\\u2028more.']
    """
    text = text.replace("\r\n", "\n")
    parts = _PARAGRAPH_BREAK.split(text) if _PARAGRAPH_BREAK.search(text) else text.split("\n")
    return [part.strip() for part in parts if part.strip()]


def python_docs_documents():
    """The built-in corpus: the paragraphs of Python's documentation topics, in a fixed
    order (sorted by topic)."""
    from pydoc_data.topics import topics

    return [doc for name in sorted(topics) for doc in split_documents(topics[name])]


def read_documents(corpus):
    """The documents of `corpus`: `"python-docs"` (the built-in corpus), or text files
    (paths, globs or a list of them; gzip'd files too), each split by `split_documents`.

    The files are decoded as the TSV readers decode theirs (`data.files.decode_text`): UTF-8,
    a byte order mark at the start dropped, `\\r\\n` read as `\\n`.

    Raises:
        FileNotFoundError: a file or glob matches nothing.
        ValueError: the files hold no text, or a file is not UTF-8 (naming its line).
    """
    if corpus == BUILT_IN:
        return python_docs_documents()
    documents = []
    for path in resolve_files(corpus):
        documents += split_documents(decode_text(path, open_text(path)))
    if not documents:
        raise ValueError(
            f"{corpus!r} holds no text (every line is empty); a language model needs "
            "documents, one per line or separated by blank lines."
        )
    return documents


def load_documents(corpus, validation_fraction=None, test_fraction=None, seed=0,
                   sample_size=DEFAULT_SAMPLE_SIZE, stream=None):  # fmt: skip
    """The train, validation and test documents of `corpus` (as `read_documents` reads it),
    each document in the split a seeded hash of its text chooses (`split_examples`).

    Args:
        corpus: `"python-docs"` (the built-in corpus, never streamed) or text files (paths,
            globs or a list of them, plain or gzip'd).
        validation_fraction, test_fraction: shares held out; None: 5 % each (streamed:
            `data.corpus.held_out_fraction` of the lines: 5 % up to 100k lines, then about
            5000 lines' worth of documents).
        seed: the split's seed.
        sample_size: a streamed corpus's sample (`.sample`, which the tokenizer learns
            from): about this many lines' worth of training documents.
        stream: None: stream the files when they hold more than
            `data.corpus.STREAM_ABOVE_LINES` lines; True or False: stream them or not.

    Returns:
        An `ExampleSplits` of lists of documents, or a `StreamedExampleSplits` whose `train`
        is an `ExampleStream` read by `make_block_dataset`. A streamed file's documents are
        what `split_documents` finds in it (its paragraphs when it has a blank line, else
        its lines), gathered from its lines as they are read; a paragraph is held whole.

    Raises:
        FileNotFoundError: a file or glob matches nothing.
        ValueError: the files hold no text, a file is not UTF-8, a gzip file is truncated,
            or the training split would be empty.
    """
    from keras_transformer.data.corpus import ExampleSplits, load_examples, split_examples

    if corpus == BUILT_IN:
        fractions = [0.05 if f is None else f for f in (validation_fraction, test_fraction)]
        return ExampleSplits(*split_examples(python_docs_documents(), *fractions, seed=seed))
    return load_examples(
        corpus, "documents", lambda: read_documents(corpus), validation_fraction,
        test_fraction, seed=seed, sample_size=sample_size, stream=stream,
    )  # fmt: skip


def hold_out(documents, fraction=0.05, seed=0):
    """`(train, held_out)`: a seeded `fraction` of the documents (at least one) held out.

    Example:

    >>> train, held_out = hold_out([str(i) for i in range(40)], 0.1, seed=0)
    >>> len(train), len(held_out), sorted(train + held_out) == sorted(map(str, range(40)))
    (36, 4, True)
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1; received {fraction}.")
    if len(documents) < 2:
        raise ValueError("Holding out documents needs at least two of them.")
    order = np.random.default_rng(seed).permutation(len(documents))
    count = max(1, round(fraction * len(documents)))
    held = set(order[:count].tolist())
    return (
        [d for i, d in enumerate(documents) if i not in held],
        [d for i, d in enumerate(documents) if i in held],
    )


def make_block_dataset(documents, tokenizer, block_size, batch_size, shuffle=True, seed=0,
                       epoch=None, shard=(1, 0)):  # fmt: skip
    """A `tf.data.Dataset` of `(token_ids, labels)` batches for next-token training.

    Each document is tokenized as `[START] tokens [END]`; the documents are joined into one
    stream (shuffled by document when `shuffle`) and cut into blocks of `block_size + 1`
    tokens: a block's first `block_size` tokens are the inputs, its last `block_size` the
    labels (the inputs shifted by one). The last partial block is dropped.

    Args:
        documents: list of str, or the `ExampleStream` of a streamed corpus: read from its
            files at every pass (with `shuffle`, the files in a seeded order of each pass,
            the documents shuffled in a buffer of `DOCUMENT_BUFFER` and the blocks in one of
            `BLOCK_BUFFER`), with memory flat in the corpus's size; its number of batches is
            unknown until a pass ends.
        tokenizer: a tokenizer from `keras_transformer.data`.
        block_size: int. Tokens per training sequence (at most the model's
            `sequence_length`).
        batch_size: int. Blocks per batch.
        shuffle: bool. Shuffle the documents (seeded) before joining them, and the blocks
            (each pass in a new order).
        seed: int.
        epoch: an int64 `tf.Variable` keying each pass's order to its epoch (see
            `data.pipeline.seeded_passes`); None: tf.data's own sequence of orders.
        shard: `(count, index)`: keep only this worker's share of a streamed corpus's
            documents (every `count`-th); a list is left to tf.distribute's own sharding.

    Returns:
        A dataset of int32 `token_ids` and `labels`, both `(batch, block_size)`.
    """
    from keras_transformer.data.example_streaming import ExampleStream

    check_positive_int(block_size, "block_size")
    check_positive_int(batch_size, "batch_size")
    if isinstance(documents, ExampleStream):
        return _streamed_blocks(documents, tokenizer, block_size, batch_size, shuffle, seed,
                                epoch, shard)  # fmt: skip
    order = np.arange(len(documents))
    if shuffle:
        np.random.default_rng(seed).shuffle(order)
    ids = tokenizer.tokenize(tf.constant([documents[i] for i in order], tf.string))
    stream = _framed(ids)
    blocks = int(stream.shape[0]) // (block_size + 1)
    if blocks == 0:
        raise ValueError(
            f"The documents make {int(stream.shape[0])} tokens, fewer than one block of "
            f"{block_size + 1}; lower --block-size or give more text."
        )
    stream = tf.reshape(stream[: blocks * (block_size + 1)], [blocks, block_size + 1])
    held = tf.data.Dataset.from_tensor_slices(stream)

    def one_pass(pass_seed):
        return held.shuffle(blocks, seed=pass_seed) if shuffle else held

    dataset = seeded_passes(one_pass, seed, epoch if shuffle else None)
    dataset = dataset.map(lambda block: (block[:-1], block[1:])).batch(batch_size)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(-(-blocks // batch_size)))
    return dataset.prefetch(tf.data.AUTOTUNE)


def _framed(ids):
    """The token ids of a batch of documents (ragged) as one stream, each document framed by
    `[START]` and `[END]`."""
    rows = ids.nrows()
    framed = tf.concat(
        [tf.fill([rows, 1], START_ID), tf.cast(ids, tf.int32), tf.fill([rows, 1], END_ID)],
        axis=1,
    )
    return framed.flat_values


def _streamed_blocks(stream, tokenizer, block_size, batch_size, shuffle, seed, epoch, shard):
    """`make_block_dataset` of an `ExampleStream`: documents tokenized a batch at a time, the
    tokens carried over to the next batch's until they fill a block."""
    from keras_transformer.data.example_streaming import stream_examples

    width = block_size + 1
    empty = tf.zeros([0], tf.int32)

    def cut(carry, tokens):
        tokens = tf.concat([carry, tokens], axis=0)
        whole = tf.shape(tokens)[0] // width * width
        return tokens[whole:], tf.reshape(tokens[:whole], [-1, width])

    def one_pass(pass_seed):
        documents = stream_examples(stream, pass_seed if shuffle else None, shard)
        if shuffle:
            documents = documents.shuffle(min(len(stream), DOCUMENT_BUFFER), seed=pass_seed)
        tokens = documents.batch(256).map(lambda batch: _framed(tokenizer.tokenize(batch)))
        blocks = tokens.scan(empty, cut).unbatch()
        return blocks.shuffle(BLOCK_BUFFER, seed=pass_seed) if shuffle else blocks

    dataset = seeded_passes(one_pass, seed, epoch if shuffle else None)
    dataset = dataset.map(lambda block: (block[:-1], block[1:])).batch(batch_size)
    options = tf.data.Options()
    # Each worker reads its own share (`shard`); tf.distribute must not shard again.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
