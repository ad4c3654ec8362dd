"""Atomic writes: a file appears whole or not at all, and a failed write keeps the old one.

Every file the package writes (configs, tokenizers, splits, checkpoints, models, plots,
`run.json`) goes through `atomic_path`: the writer writes a temporary file next to the
target (same directory, so the final rename is atomic on POSIX), which replaces the target
only when the writer returns. If the writer raises, the temporary file is removed and the
target is untouched.
"""

import contextlib
import json
import os
import pathlib
import uuid


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path next to `path` that replaces it when the block ends.

    The temporary name keeps `path`'s suffixes (`.keras`, `.weights.h5`, `.png`), which
    writers such as `model.save` check, and starts with a dot so listings skip it.

    Example:

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = pathlib.Path(tmp) / "notes.txt"
    ...     with atomic_path(target) as temporary:
    ...         _ = temporary.write_text("done")
    ...     sorted(p.name for p in pathlib.Path(tmp).iterdir()), target.read_text()
    (['notes.txt'], 'done')
    """
    path = pathlib.Path(path)
    suffixes = "".join(path.suffixes)
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    temporary = path.with_name(f".{stem}.{uuid.uuid4().hex[:12]}.tmp{suffixes}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path, text):
    """Writes `text` (UTF-8, `\\n` line ends) to `path` atomically."""
    with atomic_path(path) as temporary, open(temporary, "x", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_json(path, value, indent=2):
    """Writes `value` as JSON (UTF-8, non-ASCII kept) to `path` atomically."""
    write_text(path, json.dumps(value, indent=indent, ensure_ascii=False) + "\n")
