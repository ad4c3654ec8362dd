"""Atomic writes: a file appears whole or not at all, and a failed write keeps the old one.

Every file the package writes (configs, tokenizers, splits, checkpoints, models, plots,
`run.json`) goes through `atomic_path`: the writer writes a temporary file next to the
target (same directory, so the final rename is atomic on POSIX), which replaces the target
only when the writer returns. If the writer raises, the temporary file is removed and the
target is untouched. A process killed while writing (`kill -9`) leaves its temporary file:
its name carries the writer's process id, and `remove_stale_temporaries` removes those of
processes that are gone (a run or an export does so when it starts).
"""

import contextlib
import json
import os
import pathlib
import re
import shutil
import uuid

# `.<stem>.<pid>-<12 hex>.tmp<suffixes>`: what `atomic_path` writes before the rename.
_TEMPORARY = re.compile(r"^\..+\.(\d+)-[0-9a-f]{12}\.tmp(\..*)?$")


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
    temporary = temporary_path(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def temporary_path(path):
    """A new hidden sibling of `path` for writing it (`.<stem>.<pid>-<hex>.tmp<suffixes>`):
    `remove_stale_temporaries` removes it if this process dies before it is renamed."""
    path = pathlib.Path(path)
    suffixes = "".join(path.suffixes)
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    return path.with_name(f".{stem}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp{suffixes}")


def write_text(path, text):
    """Writes `text` (UTF-8, `\\n` line ends) to `path` atomically."""
    with atomic_path(path) as temporary, open(temporary, "x", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_json(path, value, indent=2):
    """Writes `value` as JSON (UTF-8, non-ASCII kept) to `path` atomically."""
    write_text(path, json.dumps(value, indent=indent, ensure_ascii=False) + "\n")


def process_alive(pid):
    """Whether a process `pid` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def is_stale_temporary(path):
    """Whether `path` is an `atomic_path` temporary left by a process that is gone."""
    match = _TEMPORARY.match(pathlib.Path(path).name)
    return bool(match) and not process_alive(int(match.group(1)))


def remove_stale_temporaries(directory):
    """Removes the `atomic_path` temporaries that killed writers left directly in
    `directory` (not below it); returns their names."""
    directory = pathlib.Path(directory)
    removed = []
    if not directory.is_dir():
        return removed
    for path in directory.iterdir():
        if is_stale_temporary(path):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed
