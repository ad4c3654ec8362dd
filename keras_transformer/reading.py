"""`DamagedRunFileError` and `reading`: a file of ours that exists but cannot be read is
named, with what to do, whatever parser failed on it."""

import contextlib


class DamagedRunFileError(ValueError):
    """A file of a run exists but cannot be read (cut short, edited, or not ours)."""


@contextlib.contextmanager
def reading(path, fix):
    """Turns any failure to read or parse `path` (but its absence) into a
    `DamagedRunFileError` that names it and says what to do (`fix`)."""
    try:
        yield
    except (FileNotFoundError, DamagedRunFileError):
        raise
    except Exception as error:  # parsers (json, h5py, zipfile, Keras) raise many kinds
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        reason = f"{type(error).__name__}: {reason[:200]}" if reason else type(error).__name__
        raise DamagedRunFileError(
            f"{path} is damaged and cannot be read ({reason}); {fix}."
        ) from error
