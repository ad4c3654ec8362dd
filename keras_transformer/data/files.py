"""The input files of a corpus: globs resolved, gzip recognised, fingerprints, one cheap scan.

A corpus is one file, several files or glob patterns, each plain UTF-8 text or gzip'd
(`.gz`). `resolve_files` turns what the user wrote into the sorted list of files (or says
clearly what matched nothing); `scan_files` reads them once in large chunks without keeping
them (line count, UTF-8 check, truncated gzip with its byte offset); `fingerprint` records
each file's size, modification time and a hash of its head, so a run can refuse a corpus that
changed under it.
"""

import codecs
import dataclasses
import glob
import hashlib
import os
import re
import zlib

_CHUNK = 1 << 22  # 4 MiB
_HEAD = 1 << 20  # the fingerprint hashes the first 1 MiB


def is_gzip(path):
    """True for a `.gz` file (the name decides, as for tf.data's `compression_type`)."""
    return str(path).endswith(".gz")


def resolve_files(corpus):
    """The sorted list of files a corpus names.

    Args:
        corpus: a path or glob pattern, or a list of them (each may be gzip'd).

    Raises:
        FileNotFoundError: a path does not exist or a pattern matches no file.
        IsADirectoryError: a path is a directory.
    """
    specs = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    if not specs:
        raise ValueError("--corpus received no file; give a TSV file, several, or a glob.")
    files = []
    for spec in map(os.fspath, specs):
        if glob.has_magic(spec):
            matched = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
            if not matched:
                raise FileNotFoundError(
                    f"--corpus {spec!r}: the pattern matches no file; check the directory "
                    f"and the pattern (quote it so the shell does not expand it)."
                )
            files.extend(matched)
        elif os.path.isdir(spec):
            raise IsADirectoryError(
                f"--corpus {spec!r} is a directory; give its files, e.g. '{spec}/*.tsv'."
            )
        elif not os.path.isfile(spec):
            raise FileNotFoundError(
                f"--corpus {spec!r} is neither the built-in 'dates' corpus nor an existing "
                "TSV file (one 'source<TAB>target' pair per line, optionally .gz)."
            )
        else:
            files.append(spec)
    return list(dict.fromkeys(files))  # each file once, in the order given


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """What identifies a file's content cheaply: its size, modification time (ns) and the
    SHA-256 of its first MiB."""

    path: str
    size: int
    mtime_ns: int
    head_sha256: str

    @classmethod
    def of(cls, path):
        path = os.fspath(path)
        stat = os.stat(path)
        with open(path, "rb") as f:
            head = hashlib.sha256(f.read(_HEAD)).hexdigest()
        return cls(os.path.abspath(path), stat.st_size, stat.st_mtime_ns, head)

    def change(self):
        """None if the file is as fingerprinted, else what changed (for an error message)."""
        if not os.path.isfile(self.path):
            return f"{self.path} no longer exists"
        now = Fingerprint.of(self.path)
        if now.size != self.size:
            return f"{self.path} changed size: {self.size} -> {now.size} bytes"
        if now.head_sha256 != self.head_sha256:
            return f"{self.path} has other content in its first MiB"
        if now.mtime_ns != self.mtime_ns:
            return f"{self.path} was modified (same size, new modification time)"
        return None

    def resized(self):
        """Cheaper than `change` (one `stat`): True if the size or the time changed."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return True
        return stat.st_size != self.size or stat.st_mtime_ns != self.mtime_ns


def check_unchanged(fingerprints, what="this run"):
    """Raises ValueError naming every file that differs from its fingerprint."""
    changes = [c for c in (Fingerprint(**f).change() if isinstance(f, dict) else f.change()
                           for f in fingerprints) if c]  # fmt: skip
    if changes:
        listed = "\n  ".join(changes)
        raise ValueError(
            f"The corpus of {what} changed since it was split:\n  {listed}\nIts splits are "
            "derived from the files, so they would no longer be the same. Restore the files, "
            "or train a new run on the new corpus (another --out, or --overwrite)."
        )


class TruncatedGzipError(ValueError):
    """A gzip file ends before its end-of-stream marker (an interrupted download or copy)."""


# A blank line (spaces or tabs only) between two line ends, CRLF or LF: where
# `data.text.split_documents` finds paragraphs (its `\n[ \t]*\n` after CRLF is read as LF).
_PARAGRAPH_BREAK = re.compile(rb"\n[ \t]*\r?\n")
_OPEN_BREAK = re.compile(rb"\n[ \t]*\r?")


@dataclasses.dataclass(frozen=True)
class Scan:
    """What one pass over the files found: lines per file and the total; with
    `scan_files(..., paragraphs=True)`, whether each file has a blank line between two line
    ends (its documents are then paragraphs, `data.text.split_documents`)."""

    lines: tuple[int, ...]
    paragraphs: tuple[bool, ...] = ()

    @property
    def total(self):
        return sum(self.lines)


def _gzip_chunks(path):
    """The decompressed chunks of a gzip file (concatenated members included); raises
    `TruncatedGzipError` with the byte offset where the compressed data stops."""
    decompressor, started, offset = zlib.decompressobj(wbits=31), False, 0
    with open(path, "rb") as raw:
        while data := raw.read(_CHUNK):
            offset += len(data)
            while data:
                started = True
                yield decompressor.decompress(data)
                if not decompressor.eof:
                    break
                data = decompressor.unused_data  # another gzip member may follow
                decompressor, started = zlib.decompressobj(wbits=31), False
    if started and not decompressor.eof:
        raise TruncatedGzipError(
            f"{path}: the gzip data is truncated: it stops at byte {offset} of the file "
            "without its end-of-stream marker (an interrupted download or copy?). Recompress "
            "or fetch the file again; `gzip -t FILE` checks it."
        )


def _plain_chunks(path):
    with open(path, "rb") as f:
        while data := f.read(_CHUNK):
            yield data


def chunks(path):
    """The bytes of a file in large chunks, decompressed if it is gzip'd."""
    return _gzip_chunks(path) if is_gzip(path) else _plain_chunks(path)


def truncation_offset(path):
    """The byte offset where a truncated gzip file stops, or None if it is whole."""
    try:
        for _ in _gzip_chunks(path):
            pass
    except TruncatedGzipError:
        return os.path.getsize(path)
    return None


def scan_files(files, paragraphs=False):
    """Reads every file once, in chunks, keeping nothing: counts the lines and checks that
    the text is UTF-8 and that gzip files are whole; with `paragraphs`, also looks for a
    blank line between two line ends in each file (`Scan.paragraphs`).

    Returns:
        `Scan`.

    Raises:
        ValueError: a file is not UTF-8 (naming the line), or a gzip file is truncated
            (`TruncatedGzipError`, naming the byte offset).
    """
    counts, breaks = [], []
    for path in files:
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines, last = 0, b"\n"
        found, pending = not paragraphs, b""
        for data in chunks(path):
            if not data:
                continue
            if not found:
                found, pending = _find_break(pending, data)
            try:
                decoder.decode(data)
            except UnicodeDecodeError as err:
                line = lines + data.count(b"\n", 0, max(err.start, 0)) + 1
                raise ValueError(
                    f"{path}:{line}: not valid UTF-8 (byte 0x{data[err.start]:02x}); re-encode "
                    f"the file to UTF-8, e.g. `iconv -f latin1 -t utf-8`."
                ) from None
            lines += data.count(b"\n")
            last = data[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            message = f"{path}:{lines + 1}: the file ends inside a UTF-8 character."
            raise ValueError(message) from None
        counts.append(lines + (last != b"\n"))
        breaks.append(found)
    return Scan(tuple(counts), tuple(breaks) if paragraphs else ())


def _find_break(pending, data):
    """`(found, pending)`: whether `pending + data` holds a paragraph break, and the end of
    it that may begin one continued by the next chunk (from its last line end)."""
    text = pending + data
    if _PARAGRAPH_BREAK.search(text):
        return True, b""
    cut = text.rfind(b"\n")
    if cut >= 0 and _OPEN_BREAK.fullmatch(text, cut):
        return False, text[cut:]
    return False, b""


def decode_text(path, data):
    """Decodes `data`, the bytes of the file `path`, as UTF-8 without its byte order mark
    (an encoding mark, not text), naming the line and byte of the first invalid byte.

    Every reader of the user's text files decodes with this, so a BOM and CRLF line ends are
    handled alike everywhere; strict decoding also refuses encoded lone surrogates.

    Raises:
        ValueError: `path:line: not valid UTF-8 (...)` with a way to re-encode the file.

    Example:

    >>> decode_text("a.txt", codecs.BOM_UTF8 + b"caf\\xc3\\xa9\\r\\n")
    'café\\r\\n'
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise ValueError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{data[err.start]:02x} at byte {column} of "
            f"the line); re-encode the file to UTF-8, e.g. "
            f"`iconv -f latin1 -t utf-8 {path} > {path}.utf8`"
        ) from None


def open_text(path):
    """The whole bytes of a (possibly gzip'd) file, for corpora small enough to hold; a
    truncated gzip raises `TruncatedGzipError` with its byte offset (as `scan_files`)."""
    return b"".join(chunks(path))
