"""Callbacks that stand for a kill during training, and watch what a resumed run trains."""

import keras


class Interrupt(keras.callbacks.Callback):
    """Simulates a kill right after the end of epoch `after` (once its files and the backup
    are written)."""

    def __init__(self, after):
        super().__init__()
        self.after = after

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after:
            raise KeyboardInterrupt


class EpochsSeen(keras.callbacks.Callback):
    """The epochs (1-based) that `fit` began."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch + 1)
