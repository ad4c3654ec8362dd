"""A damaged backup, a budget shorter than an epoch, and a resumed run's clock."""

import json
import logging
import shutil

import keras
import pytest

import keras_transformer as kt
from keras_transformer.training import TrainConfig, train
from keras_transformer.training.selection import TrainingClock
from tests.training.interruptions import EpochsSeen, Interrupt

pytestmark = pytest.mark.xdist_group("test_damaged")

MODEL = kt.TransformerConfig(
    sequence_length=40, hidden_dim=16, intermediate_dim=32, num_heads=2, num_layers=1,
    dropout=0.0,
)  # fmt: skip


def _config(out, epochs):
    return TrainConfig(
        corpus="dates", out=str(out), epochs=epochs, batch_size=16, steps_per_epoch=3,
        train_size=200, validation_size=16, test_size=16, warmup_steps=10,
    )  # fmt: skip


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A run killed after its second epoch (of 3), trained once: each case damages a copy."""
    out = tmp_path_factory.mktemp("damaged") / "run"
    with pytest.raises(KeyboardInterrupt):
        train(MODEL, _config(out, 3), callbacks=[Interrupt(after=2)], verbose=0)
    return out


@pytest.mark.parametrize("also_damaged, retrained", [((), [3]), (("epoch-002",), [2, 3])])
def test_a_damaged_backup_resumes_from_the_newest_good_checkpoint(
    tmp_path, caplog, interrupted, also_damaged, retrained
):
    out = tmp_path / "run"
    shutil.copytree(interrupted, out)  # a run directory moves ("out" is resumable)
    backup = out / "backup" / "latest.weights.h5"
    _truncate(backup)
    for name in also_damaged:
        _truncate(out / "checkpoints" / f"{name}.weights.h5")
    seen = EpochsSeen()
    with caplog.at_level(logging.WARNING, logger="keras_transformer"):
        result = train(MODEL, _config(out, 3), callbacks=[seen], verbose=0)
    assert seen.epochs == retrained
    assert f"{backup} is damaged" in caplog.text
    for name in also_damaged:
        assert f"{name}.weights.h5 is damaged" in caplog.text
    resumed_from = 3 - len(retrained)
    assert f"Resuming after epoch {resumed_from}" in caplog.text
    assert result.status == "finished" and result.epochs == 3
    model = keras.saving.load_model(out / "model.keras")
    kept = json.loads((out / "checkpoints" / "best.json").read_text())["epoch"]
    assert int(model.optimizer.iterations) == 3 * kept  # the optimizer state came back too
    record = json.loads((out / "run.json").read_text())
    assert record["epochs_trained"] == 2 + len(retrained) and record["processes"] == 2


class _FakeClock:
    def __init__(self):
        self.seconds = 0.0

    def __call__(self):
        return self.seconds, self.seconds


class _Model:
    stop_training = False


def _batches_until_stop(clock, fake, batch_seconds, limit=1000):
    clock.set_model(_Model())
    clock.on_epoch_begin(0)
    for batch in range(limit):
        fake.seconds += batch_seconds
        clock.on_train_batch_end(batch)
        if clock.model.stop_training:
            return batch + 1
    return None


def test_a_budget_shorter_than_an_epoch_keeps_room_for_the_first_validation(monkeypatch):
    fake = _FakeClock()
    monkeypatch.setattr(TrainingClock, "now", staticmethod(fake))
    # 1 minute; a batch takes 1 s; validation: 30 batches at a third of that, about 10 s.
    clock = TrainingClock(1.0, "wall", started=(0.0, 0.0), validation_steps=30)
    assert _batches_until_stop(clock, fake, 1.0) == 50  # 50 s + 10 s of validation = 60 s
    blind = TrainingClock(1.0, "wall", started=(0.0, 0.0))  # the validation's size unknown
    fake.seconds = 0.0
    assert _batches_until_stop(blind, fake, 1.0) == 60


def test_a_resumed_run_counts_the_time_of_its_earlier_processes(monkeypatch):
    fake = _FakeClock()
    monkeypatch.setattr(TrainingClock, "now", staticmethod(fake))
    clock = TrainingClock(1.0, "cpu", started=(0.0, 0.0), previous=(40.0, 45.0))
    assert _batches_until_stop(clock, fake, 1.0) == 15  # 45 CPU-s before, 15 now
    logs = {}
    clock.on_epoch_end(0, logs)
    assert logs == {"seconds": 55.0, "cpu_seconds": 60.0}
