"""Loading a corpus by name: the built-in `dates` corpus or a user's TSV files, split three ways.

A corpus small enough to hold (up to `STREAM_ABOVE_LINES` lines) is read into memory and its
splits are copied into the run directory, as before. A larger one is never held: its training
split is streamed from the user's files (`keras_transformer.data.streaming`), and the run
directory records the files' fingerprints and the split rule (`splits/corpus.json`) instead of
copies; `evaluate` and a resumed run re-derive the splits and refuse if the files changed.

The language model's documents and the classifier's examples stream alike
(`load_examples`, behind `data.text.load_documents` and `data.labelled.load_labelled`): a
`StreamedExampleSplits` holds the held-out splits (saved beside `corpus.json`, so reopening
a run needs no pass over the files) and streams the training split
(`data.example_streaming`).
"""

import dataclasses
import json
import logging
import os
import pathlib
import reprlib

from keras_transformer.atomic import atomic_path, write_json
from keras_transformer.data.dates import generate_dates_corpus
from keras_transformer.data.example_streaming import (
    KINDS,
    ExampleStream,
    first_columns,
    survey_examples,
)
from keras_transformer.data.files import Fingerprint, is_gzip, resolve_files, scan_files
from keras_transformer.data.streaming import SplitRule, TrainStream, report_malformed, survey
from keras_transformer.data.tokenizers import DEFAULT_SAMPLE_SIZE
from keras_transformer.data.tsv import read_tsv, split_pairs, write_tsv

logger = logging.getLogger("keras_transformer")

SPLITS = ("train", "validation", "test")
# Corpora with more lines than this are streamed from their files instead of held in memory.
STREAM_ABOVE_LINES = 200_000
# Above 100k lines, the held-out fractions left unset give about this many pairs each.
HELD_OUT_PAIRS = 5000
_STREAM_FILE = "corpus.json"


def held_out_fraction(lines):
    """The validation (and test) fraction for a corpus of `lines` lines: 5 % up to 100k,
    then about `HELD_OUT_PAIRS` pairs."""
    return 0.05 if lines <= 100_000 else round(HELD_OUT_PAIRS / lines, 8)


@dataclasses.dataclass(frozen=True)
class Splits:
    """Train, validation and test pairs; no source string is in two splits.

    `train` is a list of pairs, or a `TrainStream` for a streamed corpus. `rule` is the split
    rule of a TSV corpus (None for the built-in one); `sample` the training pairs the
    tokenizers learn from when they are not all of `train`.
    """

    train: list
    validation: list
    test: list
    rule: SplitRule | None = None
    sample: list | None = None

    @property
    def streamed(self):
        return isinstance(self.train, TrainStream)

    def save(self, directory):
        """Writes `train.tsv`, `validation.tsv`, `test.tsv` into `directory`, or for a
        streamed corpus `corpus.json` (files, fingerprints, rule)."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.streamed:
            write_json(directory / _STREAM_FILE, self.train.to_dict(), indent=1)
            return
        for name in SPLITS:
            pairs = getattr(self, name)
            if pairs:
                write_tsv(pairs, directory / f"{name}.tsv")

    @classmethod
    def load(cls, directory):
        """Reads the splits written by `save` (a missing split file is an empty split); for
        a streamed corpus, re-derives the held-out splits when they are first used (checking
        the files' fingerprints first)."""
        directory = pathlib.Path(directory)
        if (directory / _STREAM_FILE).is_file():
            stream = TrainStream.from_dict(json.loads((directory / _STREAM_FILE).read_text()))
            return StreamedSplits(stream, f"the run in {directory.parent}")
        values = {}
        for name in SPLITS:
            path = directory / f"{name}.tsv"
            values[name] = read_tsv(path).pairs if path.exists() else []
        if not values["train"]:
            raise FileNotFoundError(f"No training split in {directory} (expected train.tsv).")
        return cls(**values)


class StreamedSplits(Splits):
    """The splits of a streamed run, loaded: the held-out pairs are gathered by one pass
    over the files the first time `validation` or `test` is read, after checking that the
    files are those the run was split from (a resumed run checks `train` itself)."""

    def __init__(self, stream, what):
        super().__init__(stream, None, None, stream.rule)
        object.__setattr__(self, "_held_out", None)
        object.__setattr__(self, "_what", what)

    def _gather(self):
        if self._held_out is None:
            self.train.check_unchanged(self._what)
            result = survey(self.train.files, self.train.rule)
            object.__setattr__(self, "_held_out", (result.validation, result.test))
        return self._held_out

    def __getattribute__(self, name):
        if name in ("validation", "test"):
            return self._gather()[0 if name == "validation" else 1]
        return super().__getattribute__(name)


# Characters that JSON leaves raw in a string but that some readers take for line ends
# (Python's `str.splitlines`, JavaScript): written as escapes, every .jsonl line is one example
# for any reader that splits on "\n". (JSON escapes the C0 controls, "\r" among them, itself.)
_LINE_BREAKS_LEFT_RAW = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_DAMAGED = "the run's split file is damaged; train again with --overwrite (or another --out)"


def _example_line(example, split, index):
    """One example as a JSON line (UTF-8 bytes, ended by a newline)."""
    line = json.dumps(example, ensure_ascii=False)
    for raw, escaped in _LINE_BREAKS_LEFT_RAW.items():
        line = line.replace(raw, escaped)
    try:
        return (line + "\n").encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"The {split} split's example {index} holds a lone surrogate "
            f"({line[error.start]!r}), which is not text and cannot be written as UTF-8: "
            f"{reprlib.repr(example)}"
        ) from None


def _read_examples(path):
    """The examples of a .jsonl split file; ValueError naming the line of any damage."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueError(f"{path}:{line}: not valid UTF-8; {_DAMAGED}.") from None
    # Only "\n" ends a line: files written before U+2028, U+2029 and U+0085 were escaped
    # hold them raw inside strings, where `str.splitlines` would cut.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    examples = []
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: {error.msg}; {_DAMAGED}.") from None
        if isinstance(row, list) and len(row) >= 2 and all(isinstance(f, str) for f in row):
            row = tuple(row)
        elif not isinstance(row, str):
            raise ValueError(
                f"{path}:{number}: a {type(row).__name__} where a document (a string) or a "
                f"labelled example (a list of strings) was expected; {_DAMAGED}."
            )
        examples.append(row)
    return examples


@dataclasses.dataclass(frozen=True)
class ExampleSplits:
    """Train, validation and test examples of a language-model or classifier run: documents
    (str) or labelled examples (tuples of str, the label last), held in memory and saved as
    JSON lines (`splits/<name>.jsonl`), which hold any text, newlines and tabs included.

    Each line is one example for any reader that splits on "\\n": JSON escapes the control
    characters, and U+0085, U+2028 and U+2029 are written as escapes too.
    """

    train: list
    validation: list
    test: list
    rule = None
    sample = None
    streamed = False

    def save(self, directory):
        """Writes `<split>.jsonl` for the three splits into `directory`.

        Raises:
            ValueError: an example holds a lone surrogate (naming the split and the index);
                nothing is written then.
        """
        _write_examples(directory, {name: getattr(self, name) for name in SPLITS})

    @classmethod
    def load(cls, directory):
        """Reads the splits written by `save`: an `ExampleSplits`, or the
        `StreamedExampleSplits` of a streamed corpus (`corpus.json` in `directory`).

        Raises:
            FileNotFoundError: a split file is missing.
            ValueError: a split file is damaged (naming the file and the line).
        """
        directory = pathlib.Path(directory)
        if (directory / _STREAM_FILE).is_file():
            return StreamedExampleSplits.load(directory)
        values = {}
        for name in SPLITS:
            path = directory / f"{name}.jsonl"
            if not path.is_file():
                raise FileNotFoundError(f"No {name} split in {directory} (expected {path.name}).")
            values[name] = _read_examples(path)
        return cls(**values)


def _write_examples(directory, splits):
    """Writes `<name>.jsonl` for each `{name: examples}` into `directory` (nothing when an
    example cannot be written)."""
    directory = pathlib.Path(directory)
    contents = {
        name: b"".join(_example_line(e, name, i) for i, e in enumerate(examples))
        for name, examples in splits.items()
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        with atomic_path(directory / f"{name}.jsonl") as temporary:
            temporary.write_bytes(data)


@dataclasses.dataclass(frozen=True)
class StreamedExampleSplits(ExampleSplits):
    """The splits of a streamed language-model or classifier corpus: `train` an
    `ExampleStream` (its `len()`, `files`, `fingerprints`, `check_unchanged`; read by
    `data.example_streaming.stream_examples`, `make_block_dataset` and
    `make_classification_dataset`), `validation` and `test` lists, `rule` the `SplitRule`,
    and `sample` a seeded sample of training examples (documents, or labelled examples
    holding every training label) to learn the tokenizer and the labels from.

    `save` writes `corpus.json` (the stream: files, fingerprints, rule, counts),
    `validation.jsonl`, `test.jsonl` and `sample.jsonl` (its first `SAVED_SAMPLE`
    examples, and for a classifier the first of each label); `ExampleSplits.load` reads
    them back as a `StreamedExampleSplits`.
    """

    rule: SplitRule | None = None
    sample: list | None = None
    streamed = True
    SAVED_SAMPLE = 2000

    @property
    def label_counts(self):
        """A classifier corpus's `{label: training examples}` over the whole training split
        (None for documents)."""
        return self.train.label_counts

    def save(self, directory):
        directory = pathlib.Path(directory)
        sample = list(self.sample or [])
        kept = sample[: self.SAVED_SAMPLE]
        if self.train.kind == "labelled":
            labels = {example[-1] for example in kept}
            for example in sample[self.SAVED_SAMPLE :]:
                if example[-1] not in labels:
                    kept.append(example)
                    labels.add(example[-1])
        _write_examples(directory, {"validation": self.validation, "test": self.test,
                                    "sample": kept})  # fmt: skip
        write_json(directory / _STREAM_FILE, self.train.to_dict(), indent=1)

    @classmethod
    def load(cls, directory):
        """Reads what `save` wrote (the files are checked only when they are read again:
        `train.check_unchanged`)."""
        directory = pathlib.Path(directory)
        path = directory / _STREAM_FILE
        try:
            stream = ExampleStream.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"{path}: {error}; {_DAMAGED}.") from None
        values = {}
        for name in ("validation", "test", "sample"):
            split = directory / f"{name}.jsonl"
            if not split.is_file():
                raise FileNotFoundError(f"No {name} split in {directory} (expected {split.name}).")
            values[name] = _read_examples(split)
        return cls(stream, values["validation"], values["test"], stream.rule, values["sample"])


def _check_fractions(validation_fraction, test_fraction):
    given = f"validation_fraction={validation_fraction!r}, test_fraction={test_fraction!r}"
    if not (0 <= validation_fraction < 1 and 0 <= test_fraction < 1):
        raise ValueError(f"each fraction must be in [0, 1), got {given}")
    if not validation_fraction + test_fraction < 1:
        raise ValueError(f"the fractions must sum to less than 1, got {given}")


def _at_most_lines(files, lines):
    """True when `files` surely hold at most `lines` lines: plain files of at most that many
    bytes together (a line takes at least one byte), known without reading them."""
    return not any(is_gzip(f) for f in files) and sum(os.path.getsize(f) for f in files) <= lines


def load_examples(corpus, kind, read, validation_fraction=None, test_fraction=None, seed=0,
                  sample_size=DEFAULT_SAMPLE_SIZE, stream=None, skip_malformed=False):  # fmt: skip
    """The splits of a language-model (`kind="documents"`) or classifier (`"labelled"`)
    corpus of files: an `ExampleSplits` of `read()` (the examples in memory) split by
    `split_examples` (fractions left None: 5 % each), or, when the files hold more than
    `STREAM_ABOVE_LINES` lines (or `stream` is True), a `StreamedExampleSplits` of one pass
    over them (fractions left None: `held_out_fraction` of the lines, 5 % up to 100k lines,
    then about `HELD_OUT_PAIRS` lines' worth each). Both split alike: an example's split is
    the same whether its corpus is held or streamed (with the same fractions).

    `sample_size` bounds the sample (`StreamedExampleSplits.sample`): about that many
    documents, or labelled examples of that many texts (pairs: half as many examples), for
    a corpus of about one example a line.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; received {kind!r}.")
    key = (lambda example: example[:-1]) if kind == "labelled" else None
    files = resolve_files(corpus)
    scan = None
    if stream is None:
        if _at_most_lines(files, STREAM_ABOVE_LINES):
            stream = False
        else:
            scan = scan_files(files, paragraphs=kind == "documents")
            stream = scan.total > STREAM_ABOVE_LINES
    if not stream:
        fractions = [0.05 if f is None else f for f in (validation_fraction, test_fraction)]
        train, validation, test = split_examples(read(), *fractions, seed=seed, key=key)
        return ExampleSplits(train, validation, test)
    fingerprints = tuple(Fingerprint.of(path) for path in files)
    scan = scan or scan_files(files, paragraphs=kind == "documents")
    fractions = [held_out_fraction(scan.total) if f is None else f
                 for f in (validation_fraction, test_fraction)]  # fmt: skip
    _check_fractions(*fractions)
    rule = SplitRule(*fractions, seed=seed)
    what = "documents" if kind == "documents" else "examples"
    logger.info(
        "Streaming the corpus: %d lines in %d file(s)%s; held out: %.4g %% of the %s for "
        "validation and %.4g %% for test.",
        scan.total, len(files),
        f", too many to hold (above {STREAM_ABOVE_LINES})" if scan.total > STREAM_ABOVE_LINES
        else "", 100 * fractions[0], what, 100 * fractions[1],
    )  # fmt: skip
    # None: no line has 2 or 3 columns; the survey then finds every line malformed.
    columns = first_columns(files) if kind == "labelled" else None
    per_example = (columns - 1) if columns else 1
    result = survey_examples(
        files, kind, rule, sample_size // per_example, scan.total * (1 - sum(fractions)),
        columns=columns, paragraphs=scan.paragraphs,
    )  # fmt: skip
    if kind == "labelled":
        _report_malformed_examples(result, skip_malformed)
    if not result.total:
        if kind == "documents":
            raise ValueError(
                f"{corpus!r} holds no text (every line is empty); a language model needs "
                "documents, one per line or separated by blank lines."
            )
        raise ValueError(
            f"{corpus!r} holds no example; expected 'text<TAB>label' lines (or "
            "'text_a<TAB>text_b<TAB>label' for sentence pairs)."
        )
    if not result.examples:
        raise ValueError(
            f"The training split would be empty: {result.total} {what} are too few for "
            f"validation_fraction={fractions[0]}, test_fraction={fractions[1]}."
        )
    train = ExampleStream(
        kind, tuple(f.path for f in fingerprints), fingerprints, rule, result.examples,
        scan.total, paragraphs=scan.paragraphs, columns=columns,
        label_counts=result.label_counts if kind == "labelled" else None,
        characters=result.characters,
    )  # fmt: skip
    return StreamedExampleSplits(train, result.validation, result.test, rule, result.sample)


def _report_malformed_examples(result, skip_malformed):
    """Raises for malformed labelled lines (as `read_labelled`) unless they are skipped
    (then logs a warning)."""
    if not result.malformed:
        return
    if not skip_malformed:
        listed = "\n".join(f"  {line}" for line in result.first_malformed)
        extra = result.malformed - len(result.first_malformed)
        more = f"\n  ... and {extra} more" if extra > 0 else ""
        raise ValueError(
            f"{result.malformed} malformed line(s); expected 'text<TAB>label' or "
            f"'text_a<TAB>text_b<TAB>label' lines, all with the same columns:\n{listed}{more}\n"
            "Fix these lines, or skip them with --skip-malformed."
        )
    logger.warning("Skipped %d malformed line(s), first %s", result.malformed,
                   result.first_malformed[0])  # fmt: skip


def split_examples(examples, validation_fraction=0.05, test_fraction=0.05, seed=0, key=None):
    """`(train, validation, test)`: each example in the split a seeded hash of its `key`
    (the example itself, or `key(example)`, e.g. a labelled example's texts) chooses, as
    `split_pairs` splits by source, so equal texts never straddle two splits.

    Example:

    >>> train, validation, test = split_examples([str(i) for i in range(200)], 0.1, 0.1)
    >>> len(train) + len(validation) + len(test), 0 < len(test) < 40
    (200, True)
    """
    keys = [json.dumps(key(e) if key else e, ensure_ascii=False) for e in examples]
    distinct = list(dict.fromkeys(keys))
    ids = SplitRule(validation_fraction, test_fraction, seed).assign(distinct).numpy().tolist()
    bucket = dict(zip(distinct, ids, strict=True))
    splits = ([], [], [])
    for example, k in zip(examples, keys, strict=True):
        splits[bucket[k]].append(example)
    if not splits[0]:
        raise ValueError(
            f"The training split would be empty: {len(examples)} example(s) are too few for "
            f"validation_fraction={validation_fraction}, test_fraction={test_fraction}."
        )
    return splits


def load_corpus(
    corpus,
    train_size=20000,
    validation_size=1000,
    test_size=1000,
    validation_fraction=None,
    test_fraction=None,
    skip_malformed=False,
    seed=0,
    sample_pairs=None,
):
    """The splits of `corpus`: `"dates"` (built in, sizes as given) or TSV files (a path, a
    glob, or a list of them, plain or gzip'd), split by a seeded hash of the source.

    Fractions left None are chosen by `held_out_fraction`. For a streamed corpus,
    `sample_pairs` bounds the training pairs gathered for the tokenizers (`Splits.sample`).
    """
    if corpus == "dates":
        dates = generate_dates_corpus(
            train_size=train_size, validation_size=validation_size, test_size=test_size, seed=seed
        )
        return Splits(list(dates.train), list(dates.validation), list(dates.test))
    files = resolve_files(corpus)
    fingerprints = tuple(Fingerprint.of(path) for path in files)
    scan = scan_files(files)
    fractions = [held_out_fraction(scan.total) if f is None else f
                 for f in (validation_fraction, test_fraction)]  # fmt: skip
    rule = SplitRule(*fractions, seed=seed)
    if scan.total <= STREAM_ABOVE_LINES:
        pairs = []
        for path in files:
            pairs += read_tsv(path, skip_malformed=skip_malformed).pairs
        train, validation, test = split_pairs(pairs, *fractions, seed=seed)
        return Splits(train, validation, test, rule)
    logger.info(
        "Streaming the corpus: %d lines in %d file(s), too many to hold (above %d); held out: "
        "%.4g %% for validation and %.4g %% for test.",
        scan.total, len(files), STREAM_ABOVE_LINES, 100 * fractions[0], 100 * fractions[1],
    )  # fmt: skip
    train_lines = scan.total * (1 - sum(fractions))
    result = survey(files, rule, sample_pairs or 0, train_lines)
    report_malformed(result, skip_malformed)
    if not result.train_pairs:
        raise ValueError(f"{corpus}: no training pair; the held-out fractions are too large.")
    stream = TrainStream(
        tuple(f.path for f in fingerprints), fingerprints, rule, result.train_pairs, scan.total
    )
    return Splits(stream, result.validation, result.test, rule, result.sample)
