"""`load_predictor`: the predictor of a trained run, as its task makes it."""

from keras_transformer import tasks
from keras_transformer.run import Run


def load_predictor(run_dir, command=None):
    """The predictor of the run in `run_dir`: a `Translator`, `Generator` or
    `TextClassifier`; with `command` (translate, generate, classify), checked to be that
    command's task."""
    run = Run.open(run_dir)
    if command is not None:
        tasks.for_command(command).check_run(run, f"`{command}`")
    return tasks.of(run).predictor(run)
