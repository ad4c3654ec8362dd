"""`train()`: a corpus and two configs in, a run directory (`keras_transformer.run.Run`)
with a trained model out; re-running the same command resumes an unfinished run.

Under `--strategy multiworker` the chief writes the run directory; every other worker keeps
its own copy (resumable in the same way) in `workers/<task>-<index>/` inside it.
"""

import dataclasses
import logging
import math
import pathlib

import keras
import tensorflow as tf

from keras_transformer import tasks
from keras_transformer.data.files import is_gzip, truncation_offset
from keras_transformer.plots import plot_training_curves
from keras_transformer.reading import reading
from keras_transformer.run import Run
from keras_transformer.training.callbacks import (
    EpochRandomness,
    EstimatedProgbar,
    GoodCheckpoint,
    HistoryFile,
    InputWatch,
    RunAccounting,
    RunBackup,
)
from keras_transformer.training.devices import (
    choose_strategy,
    precision_policy,
    release_free_memory,
)
from keras_transformer.training.multiworker import input_shard, worker_identity
from keras_transformer.training.optimizer import make_optimizer
from keras_transformer.training.selection import TrainingClock, average_weights

logger = logging.getLogger("keras_transformer")

# What to do when a checkpoint the run keeps cannot be read.
_DAMAGED_CHECKPOINT = "the weights it held are lost; train the run again with --overwrite"


@dataclasses.dataclass
class TrainResult:
    """What `train()` returns: where the run is and how it ended."""

    run_dir: pathlib.Path
    status: str  # "finished" or "diverged"
    epochs: int
    seconds: float
    metrics: dict  # the last epoch's logs (loss, masked_accuracy, val_...)
    kept: str = "last"  # the weights in model.keras: "last", "best epoch N" or "average of N"


__all__ = ["TrainResult", "compile_model", "make_optimizer", "train"]


def compile_model(model, model_config, train_config):
    """Compiles with the paper's recipe for the task of `train_config` (`Task.compile`):
    `make_optimizer` and the task's loss and metrics (translation: label-smoothed masked
    cross-entropy, masked token accuracy)."""
    return tasks.get(train_config.task).compile(model, model_config, train_config)


def _prepare_run(model_config, train_config, overwrite, model_overrides=None):
    """The run `train` writes: a new one, prepared, or the unfinished one in `out`, checked
    against the settings given and resumed."""
    run = Run.create(train_config.out, overwrite)
    if run.prepared and not run.replacing:
        if run.splits.streamed:
            run.splits.train.check_unchanged(f"the run in {run.directory}")
        run.check_resumable(model_config, train_config, model_overrides)
        saved = run.train_config
        run.train_config = saved.replace(
            epochs=train_config.epochs or saved.epochs, time_budget=train_config.time_budget
        )
        logger.info("Resuming the unfinished run in %s.", run.directory)
        return run
    prepare_run(run, train_config, model_config, model_overrides)
    return run


def prepare_run(run, train_config, model_config=None, model_overrides=None):
    """Prepares `run` for the task of `train_config` (`Task.prepare`: the corpus read and
    split, the settings chosen, the tokenizers learnt) and writes it."""
    data = tasks.get(train_config.task).prepare(train_config, model_config, model_overrides)
    release_free_memory()
    run.prepare(data.model_config, data.train_config, data.source, data.target, data.splits,
                labels=data.labels)  # fmt: skip


def train(model_config, train_config, overwrite=False, callbacks=(), verbose="auto",
          model_overrides=None):  # fmt: skip
    """Trains a Transformer with `model.fit` and writes the run directory.

    Settings left unset (None) in `train_config`, and the model when `model_config` is None,
    are chosen for the corpus by `keras_transformer.training.defaults` (and logged). Each
    epoch a validation sample is decoded and scored (`val_bleu`, `val_chrf`); the weights
    that score best are kept, or the average of the last epochs if it scores better.

    Args:
        model_config: `TransformerConfig`, or None to choose one for the corpus. Its
            vocabulary sizes are replaced by those of the tokenizers learnt from the training
            split.
        train_config: `TrainConfig`.
        overwrite: bool. Replace the run in `train_config.out` (its own files, once the new
            corpus is read; see `Run.create`). Defaults to `False`.
        callbacks: extra Keras callbacks.
        verbose: `model.fit` verbosity. Defaults to `"auto"` (progress bars).
        model_overrides: dict of `TransformerConfig` fields that replace those of the chosen
            (or given) model.

    Returns:
        `TrainResult`.

    Raises:
        FileExistsError: `train_config.out` holds a finished run and `overwrite` is False,
            or it is a directory of other files (never written into).
        DamagedRunFileError: a file of the run in `train_config.out` cannot be read.
        ValueError: it holds an unfinished run with other settings.
    """
    clock = TrainingClock.now()
    # First: MultiWorkerMirroredStrategy must exist before any other TensorFlow op runs.
    strategy = choose_strategy(train_config.strategy)
    is_chief, worker = worker_identity(strategy)
    if not is_chief:
        worker_dir = pathlib.Path(train_config.out) / "workers" / worker
        train_config = train_config.replace(out=str(worker_dir))
    run = _prepare_run(model_config, train_config, overwrite, model_overrides)
    run_dir, model_config, train_config = run.directory, run.model_config, run.train_config
    task, splits = tasks.of(run), run.splits
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision_policy(train_config.mixed_precision))
    try:
        keras.utils.set_random_seed(train_config.seed)
        # The epoch the input pipeline reads when a pass starts (`EpochRandomness` sets it).
        epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        train_data, validation_data, fit_options = task.datasets(
            run, epoch=epoch, shard=input_shard(strategy)
        )
        with strategy.scope():
            model = task.compile(task.build(model_config), model_config, train_config)
        checkpoints = GoodCheckpoint(run.checkpoints)
        history = HistoryFile(run.history)
        sample_size = train_config.validation_sample if is_chief else 0
        selection = task.selection(run, train_config, sample_size)
        accounting = RunAccounting(run.accounting, clock)
        timer = TrainingClock(
            train_config.time_budget, train_config.budget_clock, clock, accounting.previous,
            _validation_steps(validation_data, splits.validation, train_config),
        )  # fmt: skip
        run_callbacks = [
            accounting,
            EpochRandomness(epoch),
            keras.callbacks.TerminateOnNaN(),
            selection,
            timer,
            checkpoints,
            history,
            keras.callbacks.TensorBoard(str(run.logs), profile_batch=0),
        ]
        # First: the task's logs reach the selection and the history.
        run_callbacks[:0] = task.callbacks(train_config)
        watch = None
        if splits.streamed:
            watch = InputWatch(splits.train.fingerprints)
            run_callbacks.append(watch)
            if not train_config.steps_per_epoch:
                estimate = task.estimated_batches(run, train_config)
                logger.info("An epoch is one pass over the training split: about %d batches.",
                            estimate)  # fmt: skip
                run_callbacks.append(EstimatedProgbar(estimate))
        # Last: an epoch is backed up once every other file of it is written (a crash
        # before that trains it again). Kept when fit ends: removed only once run.json marks
        # the run finished, so a crash while the model is saved resumes at the end.
        run_callbacks.append(RunBackup(run.backup, run.checkpoints))
        input_error = None
        try:
            model.fit(
                train_data,
                validation_data=validation_data,
                epochs=train_config.epochs,
                steps_per_epoch=train_config.steps_per_epoch,
                callbacks=run_callbacks + list(callbacks),
                shuffle=False,  # the dataset shuffles itself, before length bucketing
                verbose=verbose,
                **fit_options,
            )
        except tf.errors.DataLossError as error:
            if not splits.streamed:
                raise
            input_error = _describe_data_loss(splits.train, error)
            logger.error("Stopping: %s", input_error)
        if watch is not None and watch.change:
            input_error = f"the corpus changed during training: {watch.change}"
        metrics = history.epochs[-1] if history.epochs else {}
        status = "finished" if input_error is None else "input_error"
        kept = "last"
        if input_error is not None:
            if selection.best_weights is not None:
                with reading(selection.best_weights, _DAMAGED_CHECKPOINT):
                    model.load_weights(selection.best_weights)
                kept = f"best epoch {selection.best_epoch}"
        elif not math.isfinite(metrics.get("loss", math.nan)):
            status = "diverged"
            if checkpoints.last_good is not None:
                with reading(checkpoints.last_good, _DAMAGED_CHECKPOINT):
                    model.load_weights(checkpoints.last_good)
            logger.warning("Training diverged; the model keeps the last good checkpoint.")
        elif validation_data is not None:
            kept = _keep_best(model, selection, checkpoints, train_config.average_last)
        run.save_model(model)
        if history.epochs:
            plot_training_curves(history.epochs, run.curves)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    accounting.write()
    totals = accounting.totals()
    seconds = totals["seconds"]
    epochs = len(history.epochs)
    status_record = {"status": status, "epochs": epochs, "seconds": seconds, "kept": kept,
                     "metrics": metrics, "time_budget_spent": timer.stopped,
                     "cpu_seconds": totals["cpu_seconds"],
                     "epochs_trained": totals["epochs_trained"],
                     "processes": totals["processes"]}  # fmt: skip
    if input_error is not None:
        status_record["error"] = input_error
    run.finish(status_record)
    logger.info("Kept weights: %s.", kept)
    if input_error is not None:
        raise ValueError(
            f"Training stopped: {input_error}. What was trained until then is kept in "
            f"{run.model_path} ({kept}); `evaluate` refuses the run while its files "
            "differ from the fingerprints in splits/corpus.json. Restore the files, or train a "
            "new run on the new corpus."
        )
    return TrainResult(run_dir, status, epochs, seconds, metrics, kept)


def _validation_steps(validation_data, validation, train_config):
    """Batches in a validation pass: the dataset's count, else estimated from the split's
    size and the batch size; None when neither is known."""
    if validation_data is None:
        return None
    count = int(validation_data.cardinality())
    if count > 0:
        return count
    if validation and train_config.batch_size:
        return math.ceil(len(validation) / train_config.batch_size)
    return None


def _describe_data_loss(stream, error):
    """What a tf.data `DataLossError` means for a streamed corpus (a truncated gzip file)."""
    for path in stream.files:
        offset = truncation_offset(path) if is_gzip(path) else None
        if offset is not None:
            return (f"{path}: the gzip data is truncated at byte {offset} (the file changed "
                    "or was cut after training started)")  # fmt: skip
    return f"reading the corpus failed: {error.message.splitlines()[0]}"


def _keep_best(model, selection, checkpoints, average_last):
    """Loads the best epoch's weights, or the average of the last `average_last` epochs when
    it scores better on the validation sample. Returns what was kept."""
    kept = "last"
    if selection.best_weights is not None:
        with reading(selection.best_weights, _DAMAGED_CHECKPOINT):
            model.load_weights(selection.best_weights)
        score = f"val_{selection.metric} {selection.best_score:.2f}"
        kept = f"best epoch {selection.best_epoch} ({score})"
    last = checkpoints.all()[-average_last:] if average_last and average_last > 1 else []
    if len(last) > 1 and selection.metric != "loss":
        best_weights = model.get_weights()
        average_weights(model, last)
        score = selection.score(model)[f"val_{selection.metric}"]
        if selection.better(score, selection.best_score):
            logger.info(
                "The average of the last %d epochs scores val_%s %.2f (best epoch: %.2f): kept.",
                len(last), selection.metric, score, selection.best_score,
            )  # fmt: skip
            return f"average of the last {len(last)} epochs (val_{selection.metric} {score:.2f})"
        logger.info(
            "The average of the last %d epochs scores val_%s %.2f, not better than %.2f.",
            len(last), selection.metric, score, selection.best_score,
        )  # fmt: skip
        model.set_weights(best_weights)
    return kept
