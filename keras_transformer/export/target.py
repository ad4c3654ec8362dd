"""Where an export goes: `--overwrite` replaces only an earlier export of ours.

Every SavedModel export holds `EXPORT_MARKER`, a small JSON file (the run it came from, the
format); `export --overwrite` replaces a directory only if it holds one, and a `.keras` file
only if it is a Keras archive of one of this package's models. A run, a directory of other
files, or any other file is refused with the path and the reason, and nothing is removed.
A SavedModel is first written to a hidden sibling (`atomic_path`'s naming: it carries the
process id), renamed into place when whole; one that a killed export left is removed by the
next export into the same parent directory.
"""

import json
import pathlib
import zipfile

from keras_transformer.atomic import remove_stale_temporaries, write_json
from keras_transformer.run_marker import is_run

EXPORT_MARKER = "keras_transformer_export.json"
# The prefix of the registered names of this package's Keras objects.
_REGISTERED = "keras_transformer>"


def check_export_dir(export_dir, overwrite):
    """`export_dir` as a `pathlib.Path`, after checking it may be written.

    Raises:
        FileExistsError: `export_dir` exists and `overwrite` is False, or it is not an
            earlier export (a run, a directory without `EXPORT_MARKER`, a file).
    """
    export_dir = pathlib.Path(export_dir)
    if not export_dir.exists() and not export_dir.is_symlink():
        return export_dir
    if not overwrite:
        raise FileExistsError(
            f"{export_dir} already exists; pass overwrite=True (CLI: --overwrite) to replace it "
            "(an earlier export only) or choose another directory."
        )
    ours = export_dir.is_dir() and (export_dir / EXPORT_MARKER).is_file()
    if ours or (export_dir.is_dir() and not any(export_dir.iterdir())):
        return export_dir
    raise FileExistsError(
        f"{export_dir} is {_what(export_dir)}, not an earlier export of keras-transformer (a "
        f"directory with {EXPORT_MARKER}); --overwrite replaces only those. Nothing was "
        "removed: choose another directory."
    )


def check_keras_file(path, overwrite):
    """`path` as a `pathlib.Path` after checking that a `.keras` export may be written there:
    new, or (with `overwrite`) a `.keras` archive of one of this package's models that is not
    a run's own `model.keras`.

    Raises:
        ValueError: `path` does not end with `.keras`.
        FileExistsError: `path` exists and `overwrite` is False, or is not such a file.
    """
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"A Keras model file ends with .keras; received {path}.")
    if not path.exists() and not path.is_symlink():
        return path
    if not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True (CLI: --overwrite).")
    if is_run(path.parent):
        raise FileExistsError(
            f"{path} is a file of the run in {path.parent}, not an export; --overwrite does not "
            "replace a run's files. Nothing was removed: choose another path."
        )
    if not (path.is_file() and _is_our_keras_file(path)):
        raise FileExistsError(
            f"{path} is {_what(path)}, not a .keras export of a keras-transformer model; "
            "--overwrite replaces only those. Nothing was removed: choose another path."
        )
    return path


def mark_export(directory, run_dir, export_format):
    """Writes `EXPORT_MARKER` into a finished export `directory`."""
    run = str(pathlib.Path(run_dir).resolve()) if run_dir else None
    record = {"format": export_format, "run": run}
    write_json(pathlib.Path(directory) / EXPORT_MARKER, record)


def remove_stale_staging(export_dir):
    """Removes the staging directories (and temporaries) that killed exports left beside
    `export_dir`."""
    return remove_stale_temporaries(pathlib.Path(export_dir).parent)


def _is_our_keras_file(path):
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False
    return str(config.get("registered_name", "")).startswith(_REGISTERED)


def _what(path):
    if path.is_dir():
        if is_run(path):
            return "a run directory"
        found = sorted(p.name for p in path.iterdir())
        if not found:
            return "an empty directory"
        listed = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if found[5:] else "")
        return f"a directory of other files ({listed})"
    return "a file"
