"""`export`: one signature for every task and format."""

from keras_transformer import tasks
from keras_transformer.export.keras_file import export_keras
from keras_transformer.run import Run

EXPORT_FORMATS = ("saved_model", "keras")


def export(run, directory, format="saved_model", options=None, overwrite=False):
    """Exports a trained run.

    Args:
        run: a `Run`, or its directory.
        directory: where to write the export (a SavedModel directory, or the `.keras` file).
        format: `"saved_model"` (the default: a SavedModel that takes strings and
            translates, generates or classifies, as the run's task) or `"keras"` (the bare
            model).
        options: `DecodingOptions` the SavedModel decodes with (a task that decodes); None:
            the task's defaults.
        overwrite: replace an earlier export of ours (never a run or other files).

    Returns:
        The export's path.
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}; received {format!r}.")
    run = run if isinstance(run, Run) else Run.open(run)
    if format == "keras":
        return export_keras(run.directory, directory, overwrite=overwrite)
    return tasks.of(run).export_saved_model(run, directory, options, overwrite=overwrite)
