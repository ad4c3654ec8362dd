"""What every SavedModel export shares: writing it to a temporary sibling then renaming it
(`save_staged`), the tokenizers' vocabularies as assets (`write_vocabulary`), the raw
variables its functions use tracked (`track_used_variables`), and the check that a tokenizer
fits its model (`check_tokenizer_size`). A new format or task adds one module that builds
its `tf.Module` and calls these."""

import json
import shutil

import tensorflow as tf

from keras_transformer.atomic import temporary_path
from keras_transformer.export.target import check_export_dir, mark_export, remove_stale_staging


def write_vocabulary(tokenizer, path):
    """Writes `tokenizer`'s vocabulary to `path`, one JSON string a line (the asset the
    exports carry); returns `path`."""
    path.write_text(
        "".join(json.dumps(token, ensure_ascii=False) + "\n" for token in tokenizer.vocabulary),
        encoding="utf-8",
    )
    return path


def track_used_variables(module, functions):
    """Tracks on `module` the raw `tf.Variable`s `functions` (its `tf.function`s) capture,
    as Keras' ExportArchive does: without this, TF1-style loaders (`saved_model_cli run`,
    TF Serving) cannot find the Keras 3 variables."""
    used = {}
    for function in functions:
        for variable in function.get_concrete_function().variables:
            used[id(variable)] = variable
    module._all_variables = list(used.values())


def check_tokenizer_size(tokenizer, model):
    """Raises ValueError when `tokenizer` makes ids the model has no embedding for."""
    model_size = model.config.vocabulary_size
    if tokenizer.vocabulary_size > model_size:
        raise ValueError(
            f"The tokenizer has {tokenizer.vocabulary_size} tokens but the model only "
            f"{model_size}; pass the tokenizer the model was trained with."
        )


def save_staged(export_dir, build, overwrite=False, run_dir=None):
    """Writes a SavedModel to a hidden sibling of `export_dir`, then renames it, so a
    failed export leaves nothing half-written (and an existing `export_dir` untouched).

    Args:
        export_dir: str or path. Where the SavedModel ends up.
        build: `build(staging) -> (module, signatures)`: makes the `tf.Module` to save and
            its signatures dict; `staging` (a `pathlib.Path`, removed afterwards) may hold
            the files its assets point to (they are copied into the SavedModel).
        overwrite: bool. Replace an earlier export in `export_dir` (only that: see
            `check_export_dir`). Defaults to `False`.
        run_dir: the run exported, recorded in the export's `EXPORT_MARKER`.

    Returns:
        The export directory (`pathlib.Path`).

    Raises:
        FileExistsError: `export_dir` exists and `overwrite` is False, or it is not an
            earlier export.
    """
    export_dir = check_export_dir(export_dir, overwrite)
    export_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(export_dir)
    staging = temporary_path(export_dir)
    try:
        staging.mkdir()
        module, signatures = build(staging)
        tf.saved_model.save(module, str(staging / "model"), signatures=signatures)
        mark_export(staging / "model", run_dir, "saved_model")
        check_export_dir(export_dir, overwrite)  # again: it may have appeared since
        if export_dir.exists():
            (staging / "model").rename(staging / "new")
            export_dir.rename(staging / "model")  # the old export: removed with the staging
            (staging / "new").rename(export_dir)
        else:
            (staging / "model").rename(export_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return export_dir
