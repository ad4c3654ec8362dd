"""`StepTimer`: each training step's time, the step synchronised by reading its loss (on
JAX and PyTorch the step otherwise returns before the device has finished it)."""

import time

import keras
from keras import ops


class StepTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_begin(self, batch, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        float(ops.convert_to_numpy(logs["loss"]))
        self.times.append(time.perf_counter() - self.started)
