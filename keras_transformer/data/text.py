"""Plain text for language models: documents from files (or the built-in corpus) and the
`tf.data` pipeline that cuts them into blocks of tokens.

The built-in corpus needs no download: the English text of Python's documentation topics,
which every CPython ships in `pydoc_data.topics` (79 topics, about 0.47 MB).
"""

import re

import numpy as np
import tensorflow as tf

from keras_transformer.constants import END_ID, START_ID
from keras_transformer.data.files import decode_text, open_text, resolve_files
from keras_transformer.data.pipeline import seeded_passes
from keras_transformer.layers._validation import check_positive_int

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


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
    if corpus == "python-docs":
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
                       epoch=None):  # fmt: skip
    """A `tf.data.Dataset` of `(token_ids, labels)` batches for next-token training.

    Each document is tokenized as `[START] tokens [END]`; the documents are joined into one
    stream (shuffled by document when `shuffle`) and cut into blocks of `block_size + 1`
    tokens: a block's first `block_size` tokens are the inputs, its last `block_size` the
    labels (the inputs shifted by one). The last partial block is dropped.

    Args:
        documents: list of str.
        tokenizer: a tokenizer from `keras_transformer.data`.
        block_size: int. Tokens per training sequence (at most the model's
            `sequence_length`).
        batch_size: int. Blocks per batch.
        shuffle: bool. Shuffle the documents (seeded) before joining them, and the blocks
            (each pass in a new order).
        seed: int.
        epoch: an int64 `tf.Variable` keying each pass's order to its epoch (see
            `data.pipeline.seeded_passes`); None: tf.data's own sequence of orders.

    Returns:
        A dataset of int32 `token_ids` and `labels`, both `(batch, block_size)`.
    """
    check_positive_int(block_size, "block_size")
    check_positive_int(batch_size, "batch_size")
    order = np.arange(len(documents))
    if shuffle:
        np.random.default_rng(seed).shuffle(order)
    ids = tokenizer.tokenize(tf.constant([documents[i] for i in order], tf.string))
    rows = ids.nrows()
    framed = tf.concat(
        [tf.fill([rows, 1], START_ID), tf.cast(ids, tf.int32), tf.fill([rows, 1], END_ID)],
        axis=1,
    )
    stream = framed.flat_values
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
