import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # The test workers (make test: one per core) already fill the cores: each worker's
    # TensorFlow, and the processes its tests start, runs an op on one thread rather than a
    # pool per worker that competes for the same cores.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import keras
import numpy as np
import pytest

import keras_transformer as kt
from keras_transformer.training import TrainConfig, train


@pytest.fixture(autouse=True)
def _seeded_float32():
    """Every test starts from float32 and a fixed seed, whatever the test before it set."""
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(1234)
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# A run directory trained for a few seconds, shared by the decoding, evaluation and export tests.
@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("decoding") / "run"
    model = kt.TransformerConfig(
        sequence_length=40, hidden_dim=32, intermediate_dim=64, num_heads=4, num_layers=2,
        dropout=0.0,
    )  # fmt: skip
    config = TrainConfig(
        corpus="dates", out=str(out), epochs=4, batch_size=32, steps_per_epoch=40,
        train_size=2000, validation_size=32, test_size=16, warmup_steps=60,
        validation_sample=0,  # no decoding each epoch: the kept model is the best val_loss
    )  # fmt: skip
    train(model, config, verbose=0)
    return out
