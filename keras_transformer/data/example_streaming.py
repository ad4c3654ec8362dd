"""Language-model documents and classifier examples larger than memory, streamed by tf.data
and split by translation's rule (`data.streaming.SplitRule`).

A streamed corpus is read as `data.text.read_documents` and `data.labelled.read_labelled`
read a held one, in the graph, and each example goes to the split that the seeded hash of its
key chooses, the key being what `data.corpus.split_examples` hashes (the JSON text of the
document, or of the example's texts without the label, computed in the graph): a corpus
split in memory and the same corpus streamed have the same three splits, in the same order.

- Documents: a file's documents are its blank-line separated paragraphs when it has a blank
  line (found by `data.files.scan_files`), else its lines, as `data.text.split_documents`
  cuts them; a paragraph is gathered from its lines in the graph (and held whole while it is
  read: a file of one huge paragraph is one huge document, as in memory).
- Labelled examples: `text<TAB>label` or `text_a<TAB>text_b<TAB>label` lines; the number of
  columns is the first such line's, as in memory; malformed lines are reported by `survey`
  (file and line) and skipped by the training stream.

The two readers agree on any UTF-8 text except lines that end in a lone carriage return
(tf.data's line reader drops every `\\r` before a line end; the in-memory readers only that of
a CRLF).
"""

import codecs
import collections
import dataclasses

import tensorflow as tf

from keras_transformer.data.files import Fingerprint, check_unchanged, chunks, is_gzip
from keras_transformer.data.streaming import SplitRule

KINDS = ("documents", "labelled")
_PARSE_BATCH = 8192
_LINE_BATCH = 4096
_MAX_LISTED = 5
# What Python's `str.strip` strips (`str.isspace`), as an RE2 class: the graph strips alike.
_SPACE = (
    r"[\t-\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}]"
)
# The C0 controls that JSON writes as \u00XX (the others have short escapes).
_CONTROLS = [c for c in range(32) if chr(c) not in "\b\t\n\f\r"]
_SHORT_ESCAPES = [("\n", r"\\n"), ("\r", r"\\r"), ("\t", r"\\t"), ("\x08", r"\\b"),
                  ("\x0c", r"\\f")]  # fmt: skip


def strip(strings):
    """A string tensor stripped as Python's `str.strip()` strips (Unicode whitespace)."""
    return tf.strings.regex_replace(strings, f"^{_SPACE}+|{_SPACE}+$", "")


def json_escaped(strings):
    """The strings of a 1-D tensor escaped as JSON escapes them within quotes
    (`json.dumps(s, ensure_ascii=False)[1:-1]`), in the graph; only the strings that hold a
    quote, a backslash or a control character are rewritten."""
    plain = tf.strings.regex_full_match(strings, r'[^"\\\x{00}-\x{1f}]*')
    kept = tf.where(plain)[:, 0]
    rows = tf.where(tf.logical_not(plain))[:, 0]
    escaped = tf.gather(strings, rows)
    escaped = tf.strings.regex_replace(escaped, r"\\", r"\\\\")
    escaped = tf.strings.regex_replace(escaped, '"', r'\\"')
    for raw, replacement in _SHORT_ESCAPES:
        escaped = tf.strings.regex_replace(escaped, raw, replacement)
    for code in _CONTROLS:
        escaped = tf.strings.regex_replace(escaped, f"\\x{{{code:02x}}}", f"\\\\u{code:04x}")
    positions = [tf.cast(kept, tf.int32), tf.cast(rows, tf.int32)]
    return tf.dynamic_stitch(positions, [tf.gather(strings, kept), escaped])


def json_parts(columns):
    """The parts of the JSON text of each row, to be joined (by `tf.strings.join`, or by
    `SplitRule.assign(parts, parts=True)` with its seed in one pass): of a string, for a 1-D
    tensor (`json.dumps(s, ensure_ascii=False)`), or of a list of strings, for a list of
    1-D tensors, the columns (`json.dumps(list(row), ensure_ascii=False)`).

    Example:

    >>> import json
    >>> texts = ['say "hi"', "a\\tab", "a bell\\x07", "back\\\\slash", "plain"]
    >>> got = tf.strings.join(json_parts(tf.constant(texts))).numpy()
    >>> [s.decode() for s in got] == [json.dumps(text, ensure_ascii=False) for text in texts]
    True
    >>> got = tf.strings.join(json_parts([tf.constant(texts), tf.constant(texts[::-1])]))
    >>> got.numpy()[0].decode() == json.dumps([texts[0], texts[-1]], ensure_ascii=False)
    True
    """
    if not isinstance(columns, (list, tuple)):
        return ['"', json_escaped(columns), '"']
    parts = ['["']
    for i, column in enumerate(columns):
        parts += [json_escaped(column), '", "' if i < len(columns) - 1 else '"]']
    return parts


def _file_lines(file, compression):
    """The lines of one file, a byte order mark dropped from its first line only."""
    first = tf.data.TextLineDataset(file, compression, 1 << 20).take(1)
    rest = tf.data.TextLineDataset(file, compression, 1 << 20).skip(1)
    return first.map(lambda line: tf.strings.regex_replace(line, "^\ufeff", "")).concatenate(rest)


def _paragraphs(carry, lines):
    """`(carry, paragraphs)`: the paragraphs the batch `lines` completes (the first one
    continuing `carry`, the lines of an unfinished paragraph), and the unfinished one."""
    blank = tf.strings.regex_full_match(lines, "[ \t]*")
    segment = tf.cumsum(tf.cast(blank, tf.int32))
    breaks = segment[-1]
    keep = tf.logical_not(blank)
    parts = tf.strings.unsorted_segment_join(
        tf.boolean_mask(lines, keep), tf.boolean_mask(segment, keep), breaks + 1, separator="\n"
    )
    first = parts[0]
    continued = tf.where(tf.equal(first, ""), carry, tf.strings.join([carry, first], "\n"))
    joined = tf.where(tf.equal(carry, ""), first, continued)
    parts = tf.concat([[joined], parts[1:]], axis=0)
    return parts[breaks], parts[:breaks]


def file_documents(file, compression, paragraphs):
    """A dataset of the documents of one file (stripped, none empty), in order: its
    paragraphs when `paragraphs` (a bool tensor), else its lines."""
    lines = _file_lines(file, compression).concatenate(tf.data.Dataset.from_tensors(""))

    def step(carry, batch):
        carry, documents = tf.cond(paragraphs, lambda: _paragraphs(carry, batch),
                                   lambda: (carry, batch))  # fmt: skip
        documents = strip(documents)
        return carry, tf.boolean_mask(documents, tf.not_equal(documents, ""))

    documents = lines.batch(_LINE_BATCH).scan(tf.constant(""), step)
    return documents.unbatch()


def _compressions(files):
    return ["GZIP" if is_gzip(f) else "" for f in files]


def parse_labelled(lines, columns):
    """`(fields, valid, blank, reason, counts)` of a batch of `text<TAB>label` lines:
    `fields` `(batch, columns)` stripped, `valid` for the well-formed lines, `reason` of the
    others (0: no tab, 1: another number of columns, 2: an empty field) and their `counts`
    of columns."""
    split = tf.strings.split(lines, "\t")
    counts = split.row_lengths()
    fields = tf.ragged.map_flat_values(strip, split).to_tensor("", shape=[None, columns])
    blank = tf.equal(strip(lines), "")
    wrong = tf.not_equal(counts, columns)
    empty = tf.reduce_any(tf.equal(fields, ""), axis=1)
    valid = tf.logical_not(blank) & tf.logical_not(wrong) & tf.logical_not(empty)
    reason = tf.where(tf.equal(counts, 1), 0, tf.where(wrong, 1, 2))
    return fields, valid, blank, reason, counts


def example_keys(kind, values):
    """The split keys (`split_examples`'s) of a batch, as parts to join (`json_parts`):
    documents (strings) or labelled fields `(batch, columns)`, the label last."""
    if kind == "documents":
        return json_parts(values)
    return json_parts([values[:, i] for i in range(values.shape[1] - 1)])


def _whole_keys(kind, values):
    """A key of the whole example (the label too), which seeds the sample."""
    if kind == "documents":
        return values
    return tf.strings.reduce_join(values, axis=1, separator="\t")


@dataclasses.dataclass(frozen=True)
class ExampleStream:
    """The training split of a streamed language-model or classifier corpus.

    Attributes:
        kind: `"documents"` (lm) or `"labelled"` (classify).
        files: the files, in corpus order; `fingerprints` their `Fingerprint`s.
        rule: the `SplitRule`.
        examples: training documents or examples (`len()`).
        lines: lines in the files.
        paragraphs: documents: per file, True where its documents are paragraphs.
        columns: labelled: 2 (`text<TAB>label`) or 3 (sentence pairs).
        label_counts: labelled: `{label: training examples}`, sorted by label.
        characters: characters in the training documents (or the examples' texts).
    """

    kind: str
    files: tuple
    fingerprints: tuple
    rule: SplitRule
    examples: int
    lines: int
    paragraphs: tuple = ()
    columns: int | None = None
    label_counts: dict | None = None
    characters: int = 0

    def __len__(self):
        return self.examples

    def check_unchanged(self, what="this run"):
        """Raises ValueError naming every file that changed since the corpus was split."""
        check_unchanged(self.fingerprints, what)

    def head(self, count, what="this run"):
        """The first `count` training examples (in corpus order), after checking the files."""
        self.check_unchanged(what)
        values = stream_examples(self).take(count).as_numpy_iterator()
        return [_example(self.kind, value) for value in values]

    def to_dict(self):
        values = dataclasses.asdict(self)
        values.update(
            files=list(self.files),
            fingerprints=[dataclasses.asdict(f) for f in self.fingerprints],
            rule=self.rule.to_dict(),
            paragraphs=list(self.paragraphs),
        )
        return values

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        values.update(
            files=tuple(values["files"]),
            fingerprints=tuple(Fingerprint(**f) for f in values["fingerprints"]),
            rule=SplitRule(**values["rule"]),
            paragraphs=tuple(values.get("paragraphs", ())),
        )
        return cls(**values)


def _example(kind, value):
    """A document (str) or labelled example (tuple of str) from its numpy value."""
    if kind == "documents":
        return value.decode("utf-8")
    return tuple(field.decode("utf-8") for field in value)


def _documents(files, paragraphs, shuffle_seed=None):
    """The documents of `files`, in corpus order, or (with `shuffle_seed`) the files in a
    seeded order, read four at a time (16 documents from each in turn)."""
    files = [str(f) for f in files]
    slices = (files, _compressions(files), [bool(p) for p in paragraphs])
    dataset = tf.data.Dataset.from_tensor_slices(slices)
    if shuffle_seed is None or len(files) == 1:
        return dataset.flat_map(file_documents)
    dataset = dataset.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.interleave(file_documents, cycle_length=min(len(files), 4), block_length=16)


def _lines(files, numbered=False, shuffle_seed=None):
    """The lines of `files`, in corpus order, or (with `shuffle_seed`) the files in a seeded
    order, read four at a time; `numbered` adds (file index, 0-based line number) to each."""
    files = [str(f) for f in files]
    dataset = tf.data.Dataset.from_tensor_slices((files, _compressions(files)))
    if numbered:
        return dataset.enumerate().flat_map(
            lambda index, file: (
                _file_lines(file[0], file[1])
                .enumerate()
                .map(lambda number, line: (index, number, line))
            )
        )
    if shuffle_seed is None or len(files) == 1:
        return dataset.flat_map(_file_lines)
    dataset = dataset.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.interleave(_file_lines, cycle_length=min(len(files), 4), block_length=16)


def stream_examples(stream, shuffle_seed=None, shard=(1, 0)):
    """A dataset of the training split of `stream` (an `ExampleStream`): documents (string
    scalars) or labelled examples (tuples of string scalars, the label last), read from the
    files (in corpus order, or with `shuffle_seed` in a seeded order of the files, read a few
    at a time), split by the rule in the graph. `shard=(count, index)` keeps this worker's
    share: every `count`-th document, or line of a labelled corpus."""
    rule, kind, count, index = stream.rule, stream.kind, *shard
    if kind == "documents":
        dataset = _documents(stream.files, stream.paragraphs, shuffle_seed)
    else:
        dataset = _lines(stream.files, shuffle_seed=shuffle_seed)
    if count > 1:
        dataset = dataset.shard(count, index)

    def keep_train(values):
        if kind == "labelled":
            values, valid, *_ = parse_labelled(values, stream.columns)
        else:
            valid = tf.fill(tf.shape(values), True)
        keep = valid & tf.equal(rule.assign(example_keys(kind, values), parts=True), 0)
        kept = tf.boolean_mask(values, keep)
        return kept if kind == "documents" else tuple(kept[:, i] for i in range(stream.columns))

    batched = dataset.batch(_PARSE_BATCH if kind == "labelled" else 1024)
    return batched.map(keep_train, num_parallel_calls=tf.data.AUTOTUNE).unbatch()


@dataclasses.dataclass
class ExampleSurvey:
    """What one pass over a streamed corpus found."""

    examples: int  # training examples
    total: int  # examples in all three splits (0: the corpus holds none)
    validation: list
    test: list
    sample: list  # training examples in the tokenizer sample
    label_counts: dict  # labelled: {label: training examples}
    characters: int
    malformed: int
    first_malformed: list  # "file:line: reason"


_REASONS = (
    "no label column (no tab): expected 'text<TAB>label'",
    "{count} columns where the first line has {columns}",
    "an empty field",
)


def survey_examples(files, kind, rule, sample_size=0, train_estimate=None, columns=None,
                    paragraphs=()):  # fmt: skip
    """One batched pass over `files`: counts the training examples (and, labelled, each
    label's and the malformed lines; `columns` None: no line has 2 or 3, all are malformed),
    gathers the validation and test examples (in corpus order) and a seeded sample of about
    `sample_size` training examples (`train_estimate` estimates their number), to which the
    first training example of every label the sample missed is added: the sample holds
    every training label."""
    rate = 0.0 if not sample_size else min(1.0, 1.05 * sample_size / max(1, train_estimate or 1))

    def look(*batch):
        if kind == "documents":
            (values,) = batch
            valid = tf.fill(tf.shape(values), True)
        else:
            file_index, numbers, lines = batch
            values, valid, blank, reason, counts = parse_labelled(lines, columns or 2)
            if columns is None:  # no line has 2 or 3 columns: every one is malformed
                valid = tf.zeros_like(valid)
        split = rule.assign(example_keys(kind, values), parts=True)
        train = valid & tf.equal(split, 0)
        sampled = train & rule.sample_keys(_whole_keys(kind, values), rate)
        held = valid & tf.not_equal(split, 0)
        texts = values if kind == "documents" else values[:, :-1]
        found = {
            "train": tf.reduce_sum(tf.cast(train, tf.int64)),
            "valid": tf.reduce_sum(tf.cast(valid, tf.int64)),
            "characters": tf.reduce_sum(
                tf.boolean_mask(tf.strings.length(texts, unit="UTF8_CHAR"), train)
            ),
            "held": (tf.boolean_mask(values, held), tf.boolean_mask(split, held)),
            "sample": tf.boolean_mask(values, sampled),
        }
        if kind == "labelled":
            train_values = tf.boolean_mask(values, train)
            labels, ids, label_counts = tf.unique_with_counts(train_values[:, -1])
            positions = tf.math.unsorted_segment_min(
                tf.range(tf.shape(ids)[0]), ids, tf.shape(labels)[0]
            )
            bad = tf.logical_not(valid) & tf.logical_not(blank)
            found.update(
                labels=(labels, label_counts, tf.gather(train_values, positions)),
                bad=(tf.boolean_mask(file_index, bad), tf.boolean_mask(numbers, bad),
                     tf.boolean_mask(reason, bad), tf.boolean_mask(counts, bad)),
            )  # fmt: skip
        return found

    documents = kind == "documents"
    dataset = _documents(files, paragraphs) if documents else _lines(files, numbered=True)
    dataset = dataset.batch(_PARSE_BATCH).map(look, num_parallel_calls=tf.data.AUTOTUNE)
    result = ExampleSurvey(0, 0, [], [], [], {}, 0, 0, [])
    counter, firsts = collections.Counter(), {}
    for batch in dataset.prefetch(2).as_numpy_iterator():
        result.examples += int(batch["train"])
        result.total += int(batch["valid"])
        result.characters += int(batch["characters"])
        values, split = batch["held"]
        for value, where in zip(values, split, strict=True):
            (result.validation if where == 1 else result.test).append(_example(kind, value))
        result.sample.extend(_example(kind, value) for value in batch["sample"])
        if kind == "documents":
            continue
        labels, label_counts, first = batch["labels"]
        for label, label_count, example in zip(labels, label_counts, first, strict=True):
            label = label.decode("utf-8")
            counter[label] += int(label_count)
            if label not in firsts:
                firsts[label] = _example(kind, example)
        indices, numbers, reasons, counts = batch["bad"]
        result.malformed += len(indices)
        for index, number, reason, count in zip(indices, numbers, reasons, counts, strict=True):
            if len(result.first_malformed) < _MAX_LISTED:
                why = _REASONS[reason].format(count=count, columns=columns)
                if reason == 1 and columns is None:
                    why = f"{count} columns where 2 or 3 are expected"
                result.first_malformed.append(f"{files[index]}:{number + 1}: {why}")
    if kind == "labelled":
        result.label_counts = dict(sorted(counter.items()))
        sampled = {example[-1] for example in result.sample}
        result.sample.extend(firsts[label] for label in result.label_counts if label not in sampled)
    return result


def first_columns(files):
    """The number of columns (2 or 3) of the first non-blank line that has 2 or 3 (as
    `read_labelled` decides), reading no further than it; None when no line has."""
    for path in files:
        decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        pending = ""
        for data in chunks(path):
            lines = (pending + decoder.decode(data)).split("\n")
            pending = lines.pop()
            for line in lines:
                if line.strip() and len(line.split("\t")) in (2, 3):
                    return len(line.split("\t"))
        line = pending + decoder.decode(b"", final=True)
        if line.strip() and len(line.split("\t")) in (2, 3):
            return len(line.split("\t"))
    return None
