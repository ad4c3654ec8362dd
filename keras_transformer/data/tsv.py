"""Parallel corpora as TSV files, one `source<TAB>target` pair per line in UTF-8.

`read_tsv` reads them (extra columns, as in the Tatoeba/Anki `fra.txt` files, are ignored),
`split_pairs` splits them with no source shared between splits, `write_tsv` writes them.
"""

import logging
import os
from dataclasses import dataclass

from keras_transformer.atomic import write_text
from keras_transformer.data.files import decode_text, open_text
from keras_transformer.data.streaming import SplitRule

logger = logging.getLogger("keras_transformer")

_MAX_LISTED = 5
_EXPECTED = "a UTF-8 text file with one 'source<TAB>target' pair per line"


@dataclass(frozen=True)
class TsvCorpus:
    """The pairs read from a TSV file, and the malformed lines that were skipped.

    Attributes:
        pairs: `(source, target)` pairs, stripped, in file order.
        skipped: `(line_number, reason)` for each malformed line skipped (1-based line numbers);
            empty unless `read_tsv` was called with `skip_malformed=True`.
        path: the file read, as given to `read_tsv`.
    """

    pairs: list[tuple[str, str]]
    skipped: list[tuple[int, str]]
    path: str


def _parse_line(line):
    """Returns `((source, target), None)` for a good line, or `(None, reason)`."""
    if "\t" not in line:
        return None, "no tab separating source and target"
    source, target = (side.strip() for side in line.split("\t")[:2])
    if not source or not target:
        empty = " and ".join(n for n, s in (("source", source), ("target", target)) if not s)
        return None, f"empty {empty}"
    return (source, target), None


def read_tsv(path, skip_malformed=False):
    """Reads a parallel corpus from a TSV file of `source<TAB>target` lines.

    Columns after the second are ignored. A UTF-8 byte order mark at the start, the line
    endings (`\\n` or `\\r\\n`) and the whitespace around each side are stripped. Blank lines
    (whitespace only) are ignored and not reported. Lines without a tab, or whose source or
    target is empty, are malformed.

    Args:
        path: the file, a `str` or `os.PathLike`.
        skip_malformed: if False (the default), any malformed line raises `ValueError`; if True,
            malformed lines are skipped, listed in `TsvCorpus.skipped`, and a warning with their
            count is logged to the `keras_transformer` logger.

    Returns:
        A `TsvCorpus` with the pairs in file order, the skipped lines and the path.

    Raises:
        FileNotFoundError: if `path` does not exist.
        IsADirectoryError: if `path` is a directory.
        ValueError: if the file is not valid UTF-8 (naming the line of the first bad byte), if
            it has malformed lines and `skip_malformed` is False (naming up to five of them as
            `path:line: reason`, with the total count), or if no valid pair is left.

    Example:
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "fra.txt")
        ...     with open(path, "w", encoding="utf-8") as f:
        ...         _ = f.write("Go.\\tVa !\\tCC-BY 2.0 (France) Attribution: tatoeba.org\\n")
        ...         _ = f.write("Hi.\\tSalut !\\n")
        ...     corpus = read_tsv(path)
        >>> corpus.pairs
        [('Go.', 'Va !'), ('Hi.', 'Salut !')]
        >>> corpus.skipped
        []
    """
    name = os.fspath(path)
    if os.path.isdir(name):
        raise IsADirectoryError(f"{name} is a directory; expected {_EXPECTED}")
    try:
        data = open_text(name)
    except FileNotFoundError:
        raise FileNotFoundError(f"{name}: no such file; expected {_EXPECTED}") from None
    text = decode_text(name, data)

    pairs, skipped = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        pair, reason = _parse_line(line)
        if pair is None:
            skipped.append((number, reason))
        else:
            pairs.append(pair)

    if skipped and not skip_malformed:
        listed = "\n".join(f"  {name}:{n}: {reason}" for n, reason in skipped[:_MAX_LISTED])
        extra = len(skipped) - _MAX_LISTED
        more = f"\n  ... and {extra} more" if extra > 0 else ""
        raise ValueError(
            f"{name}: {len(skipped)} malformed line(s); expected 'source<TAB>target' with both "
            f"sides non-empty:\n{listed}{more}\nFix these lines, or skip them with "
            f"skip_malformed=True (command line: --skip-malformed)."
        )
    if skipped:
        first = f"{name}:{skipped[0][0]}: {skipped[0][1]}"
        logger.warning("%s: skipped %d malformed line(s), first %s", name, len(skipped), first)
    if not pairs:
        detail = f" ({len(skipped)} malformed line(s) skipped)" if skipped else ""
        raise ValueError(f"{name}: no 'source<TAB>target' pair found{detail}; expected {_EXPECTED}")
    return TsvCorpus(pairs=pairs, skipped=skipped, path=name)


def write_tsv(pairs, path):
    """Writes `(source, target)` pairs as `source<TAB>target` lines in UTF-8, atomically.

    The lines go to a temporary file in the same directory, which then replaces `path`, so a
    reader never sees a half-written file.

    Args:
        pairs: an iterable of `(source, target)` string pairs.
        path: the file to write, a `str` or `os.PathLike`; its directory must exist.

    Raises:
        ValueError: if a side is empty (after stripping) or contains a tab or a line break, as
            `read_tsv` would not read it back; nothing is written then.
    """
    lines = []
    for index, (source, target) in enumerate(pairs):
        for side, text in (("source", source), ("target", target)):
            if not text.strip() or any(c in text for c in "\t\n\r"):
                raise ValueError(
                    f"pair {index}: the {side} {text!r} is empty or contains a tab or a line "
                    f"break, which a TSV line cannot hold"
                )
        lines.append(f"{source}\t{target}\n")
    write_text(path, "".join(lines))


def split_pairs(pairs, validation_fraction=0.05, test_fraction=0.05, seed=0):
    """Splits pairs into train, validation and test sets, keeping each source in one set.

    Each distinct source string goes to a set chosen by a seeded 64-bit hash of the source
    (`keras_transformer.data.streaming.SplitRule`, the rule of streamed corpora too), so the
    split is the same on every run and machine, and pairs sharing a source (several
    translations of one sentence) never straddle two sets. The fractions are therefore met
    approximately, counted in distinct sources rather than pairs; on a tiny corpus the
    validation or test set may be empty. The order of the pairs is kept within each set.

    Args:
        pairs: an iterable of `(source, target)` pairs.
        validation_fraction: the share of sources for validation, in `[0, 1)`.
        test_fraction: the share of sources for test, in `[0, 1)`.
        seed: any value whose `str` salts the hash; another seed gives another split.

    Returns:
        A tuple `(train, validation, test)` of lists of `(source, target)` tuples.

    Raises:
        ValueError: if a fraction is outside `[0, 1)`, if they sum to 1 or more, or if the
            training set would be empty.
    """
    given = f"validation_fraction={validation_fraction!r}, test_fraction={test_fraction!r}"
    if not (0 <= validation_fraction < 1 and 0 <= test_fraction < 1):
        raise ValueError(f"each fraction must be in [0, 1), got {given}")
    if not validation_fraction + test_fraction < 1:
        raise ValueError(f"the fractions must sum to less than 1, got {given}")
    pairs = list(pairs)
    distinct = list(dict.fromkeys(source for source, _ in pairs))
    rule = SplitRule(validation_fraction, test_fraction, seed)
    ids = rule.assign(distinct).numpy().tolist() if distinct else []
    buckets = dict(zip(distinct, ids, strict=True))
    splits = ([], [], [])
    for source, target in pairs:
        splits[buckets[source]].append((source, target))
    if not splits[0]:
        total = sum(len(s) for s in splits)
        raise ValueError(
            f"the training set would be empty: {total} pair(s) with {len(buckets)} distinct "
            f"source(s) are too few for {given}; use more pairs or smaller fractions"
        )
    return splits
