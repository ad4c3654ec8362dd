"""Callbacks of a training run: checkpoints that never keep NaN weights, and a history file
that survives resumption."""

import json
import logging
import math
import pathlib

import keras

from keras_transformer.atomic import atomic_path, write_json
from keras_transformer.data.files import is_gzip, truncation_offset

logger = logging.getLogger("keras_transformer")


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
        return sorted(self.directory.glob("epoch-[0-9][0-9][0-9].weights.h5"))


def latest_checkpoint(directory):
    """The newest `epoch-NNN.weights.h5` in `directory`, or None."""
    checkpoints = sorted(pathlib.Path(directory).glob("epoch-[0-9][0-9][0-9].weights.h5"))
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
