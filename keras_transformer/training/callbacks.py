"""Callbacks of a training run: checkpoints that never keep NaN weights, a backup that a
damaged file does not stop, a history file that survives resumption, and the accounting of
every process's time and epochs."""

import json
import logging
import math
import pathlib
import time

import keras
import numpy as np

from keras_transformer.atomic import atomic_path, write_json
from keras_transformer.data.files import is_gzip, truncation_offset
from keras_transformer.reading import reading

logger = logging.getLogger("keras_transformer")

# Each epoch's checkpoint in `checkpoints/`.
_CHECKPOINTS = "epoch-[0-9][0-9][0-9].weights.h5"


class GoodCheckpoint(keras.callbacks.Callback):
    """Saves the weights after every epoch whose loss is finite, atomically, as
    `checkpoints/epoch-NNN.weights.h5`; `last_good` is the newest such file.

    With `keras.callbacks.TerminateOnNaN` the epoch that diverged is not saved, so the last
    checkpoint is the last good state.
    """

    def __init__(self, directory):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.last_good = latest_checkpoint(self.directory)

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or not math.isfinite(loss):
            logger.warning("Epoch %d ended with loss %s; not saving a checkpoint.", epoch + 1, loss)
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"epoch-{epoch + 1:03d}.weights.h5"
        with atomic_path(path) as temporary:
            self.model.save_weights(temporary, overwrite=True)
        self.last_good = path

    def all(self):
        """Every epoch checkpoint, oldest first."""
        return sorted(self.directory.glob(_CHECKPOINTS))


class RunBackup(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore` (the weights and optimizer state after every epoch, so
    re-running the command resumes), written atomically, and kept when `fit` ends (the run
    removes it once `run.json` records the end).

    A backup that cannot be read (cut short by a crash, a full disk) does not stop the run:
    training resumes from the newest epoch checkpoint that can be read
    (`checkpoints/epoch-NNN.weights.h5`, which hold the optimizer state too), or from the
    start if there is none; `restored_from` says which.
    """

    def __init__(self, directory, checkpoints):
        super().__init__(str(directory), delete_checkpoint=False)
        self.checkpoints = pathlib.Path(checkpoints)
        self.restored_from = None

    def _load_model(self):
        weights = pathlib.Path(self._weights_path)
        if not weights.exists():
            return super()._load_model()
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        start = _variable_values(self.model)
        try:
            with reading(weights, "resuming from the newest good epoch checkpoint instead"):
                super()._load_model()
            self.restored_from = "backup"
            return
        except ValueError as error:
            logger.warning("%s", error)
        _set_variable_values(self.model, start)
        self.model._initial_epoch = 0
        for path in reversed(sorted(self.checkpoints.glob(_CHECKPOINTS))):
            try:
                with reading(path, "trying an older one"):
                    self.model.load_weights(path)
            except ValueError as error:
                logger.warning("%s", error)
                _set_variable_values(self.model, start)
                continue
            epoch = int(path.name[len("epoch-") :][:3])
            self.model._initial_epoch = epoch
            self.restored_from = path.name
            logger.warning("Resuming after epoch %d, from %s.", epoch, path)
            return
        self.restored_from = "start"
        logger.warning("No epoch checkpoint can be read: training starts again from epoch 1.")

    def _save_model(self):
        directory = pathlib.Path(self.backup_dir)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(self._weights_path) as temporary:
            self.model.save_weights(temporary, overwrite=True)
        record = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        write_json(self._training_metadata_path, record)


def _variable_values(model):
    optimizer = model.optimizer
    variables = list(model.variables) + (list(optimizer.variables) if optimizer else [])
    return [(v, np.array(keras.ops.convert_to_numpy(v.value))) for v in variables]


def _set_variable_values(model, values):
    for variable, value in values:
        variable.assign(value)


class RunAccounting(keras.callbacks.Callback):
    """Keeps `accounting.json`: for every process that trained the run, its wall and CPU
    seconds (from `started`, the start of `train`) and the epochs it trained, written when an
    epoch's training ends (before its validation, so an epoch is counted even if the process
    dies while validating), at each epoch's end, and every `every` seconds. Each epoch's logs
    (and so `history.json`) get `epochs_trained`, the passes over the data so far.

    `previous` are the totals of the earlier processes, `(seconds, cpu_seconds)`.
    """

    def __init__(self, path, started, every=30.0):
        super().__init__()
        self.path = pathlib.Path(path)
        self.started = started
        self.every = every
        self.processes = read_accounting(self.path)
        self.processes.append({"seconds": 0.0, "cpu_seconds": 0.0, "epochs_trained": 0})
        self._counted = None  # the epoch whose training was last counted
        self._written = 0.0

    @property
    def previous(self):
        return tuple(sum(p[k] for p in self.processes[:-1]) for k in ("seconds", "cpu_seconds"))

    def totals(self):
        """`{"seconds", "cpu_seconds", "epochs_trained", "processes"}` over every process, as
        last written."""
        keys = ("seconds", "cpu_seconds", "epochs_trained")
        return {**{k: sum(p[k] for p in self.processes) for k in keys},
                "processes": len(self.processes)}  # fmt: skip

    def _update(self):
        wall, cpu = time.perf_counter(), time.process_time()
        self.processes[-1]["seconds"] = wall - self.started[0]
        self.processes[-1]["cpu_seconds"] = cpu - self.started[1]

    def write(self):
        self._update()
        write_json(self.path, {"processes": self.processes}, indent=1)
        self._written = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _count(self):
        if self._counted != self._epoch:
            self._counted = self._epoch
            self.processes[-1]["epochs_trained"] += 1
            self.write()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self._written >= self.every:
            self.write()

    def on_test_begin(self, logs=None):
        self._count()

    def on_epoch_end(self, epoch, logs=None):
        self._count()
        if logs is not None:  # into history.json: the passes so far, by every process
            logs["epochs_trained"] = sum(p["epochs_trained"] for p in self.processes)

    def on_train_end(self, logs=None):
        self.write()


def read_accounting(path):
    """The per-process records of `accounting.json` (a list; empty if there is none)."""
    path = pathlib.Path(path)
    if not path.is_file():
        return []
    with reading(path, "delete it to restart the run's accounting"):
        processes = json.loads(path.read_text(encoding="utf-8"))["processes"]
        return [{k: p[k] for k in ("seconds", "cpu_seconds", "epochs_trained")} for p in processes]


def latest_checkpoint(directory):
    """The newest `epoch-NNN.weights.h5` in `directory`, or None."""
    checkpoints = sorted(pathlib.Path(directory).glob(_CHECKPOINTS))
    return checkpoints[-1] if checkpoints else None


class EpochRandomness(keras.callbacks.Callback):
    """Makes each epoch's randomness a function of its number: the data order (through
    `epoch`, the variable the input pipeline reads when a pass starts, see `make_dataset`)
    and the dropout masks (every seed generator's counter starts the epoch at
    `epoch * STRIDE`). A resumed run then goes on as the uninterrupted run would have,
    instead of replaying the first epoch's order and dropout masks.

    Place it after `keras.callbacks.BackupAndRestore`, which restores the weights.
    """

    STRIDE = 2**20  # seed-generator draws per epoch before two epochs' streams overlap

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch
        self._generators = []

    def on_train_begin(self, logs=None):
        # A seed generator's state is (seed, counter); each draw adds 1 to the counter.
        self._generators = [
            (v, int(keras.ops.convert_to_numpy(v.value)[0]))
            for v in self.model.non_trainable_variables
            if v.path.endswith("seed_generator_state")
        ]

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch.assign(epoch)
        for variable, seed in self._generators:
            state = keras.ops.convert_to_tensor([seed, epoch * self.STRIDE], variable.dtype)
            variable.assign(state)


class HistoryFile(keras.callbacks.Callback):
    """Appends each epoch's logs to a JSON list, so a resumed run keeps its whole history."""

    def __init__(self, path):
        super().__init__()
        self.path = pathlib.Path(path)
        self.epochs = json.loads(self.path.read_text()) if self.path.exists() else []

    def on_epoch_end(self, epoch, logs=None):
        record = {"epoch": epoch + 1}
        record.update({k: float(v) for k, v in (logs or {}).items() if _is_number(v)})
        self.epochs = [e for e in self.epochs if e["epoch"] < epoch + 1] + [record]
        write_json(self.path, self.epochs, indent=1)


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class InputWatch(keras.callbacks.Callback):
    """Stops training when an input file of a streamed corpus changes (one `stat` per file
    every `every` batches, and a full fingerprint check at each epoch's end): the rest of the
    pass would no longer be the corpus the splits were derived from. `change` says what
    changed; the trainer keeps what was trained and reports it."""

    def __init__(self, fingerprints, every=100):
        super().__init__()
        self.fingerprints = list(fingerprints)
        self.every = every
        self.change = None

    def _check(self, full):
        for fingerprint in self.fingerprints:
            if full or fingerprint.resized():
                self.change = fingerprint.change()
                if self.change and is_gzip(fingerprint.path):
                    # tf.data ends a truncated gzip stream quietly: say where it stops.
                    offset = truncation_offset(fingerprint.path)
                    if offset is not None:
                        self.change += f"; its gzip data is truncated at byte {offset}"
                if self.change:
                    self.model.stop_training = True
                    logger.error("Stopping: the corpus changed during training: %s.", self.change)
                    return

    def on_train_batch_end(self, batch, logs=None):
        if self.change is None and batch % self.every == 0:
            self._check(full=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.change is None:
            self._check(full=True)


class EstimatedProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, with an estimated number of steps for an epoch whose length is
    unknown until it ends (a streamed corpus); from the second epoch on, Keras's count."""

    def __init__(self, estimated_steps):
        super().__init__()
        self.estimated_steps = estimated_steps
        self._estimating = False

    def set_params(self, params):
        super().set_params(params)
        if self.target is None and self.estimated_steps:
            self.target, self._estimating = self.estimated_steps, True

    def on_epoch_end(self, epoch, logs=None):
        if self._estimating:  # the real count, for the next epochs
            self.target, self._estimating = self.seen, False
            if self.progbar is not None:
                self.progbar.target = self.seen
        super().on_epoch_end(epoch, logs)
