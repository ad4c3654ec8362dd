"""keras-tuner search: space, hypermodel, CLI, resume and chief/worker distribution."""

import json
import os
import socket
import subprocess
import sys

import keras
import keras_tuner
import pytest

from keras_transformer import cli
from keras_transformer.training import TrainConfig
from keras_transformer.tuning import DEFAULT_SPACE, TransformerHyperModel, parse_space, tune

SMALL_SPACE = {
    "num_layers": [1],
    "hidden_dim": [16, 24, 32],
    "num_heads": [2, 3, 4],
    "intermediate_dim": [32],
    "batch_size": [32],
}
# Tiny trials: a few steps, and 4 validation pairs decoded for val_chrf (the objective).
DATA_FLAGS = [
    "--epochs", "1", "--steps-per-epoch", "2", "--train-size", "200", "--validation-size", "16",
    "--validation-sample", "4", "--test-size", "8", "--sequence-length", "32",
]  # fmt: skip


def _train_config(out, **overrides):
    values = dict(
        corpus="dates", out=str(out), epochs=1, steps_per_epoch=2, train_size=200,
        validation_size=16, validation_sample=4, test_size=8,
    )  # fmt: skip
    values.update(overrides)
    return TrainConfig(**values)


def test_build_with_default_hyperparameters():
    hypermodel = TransformerHyperModel()
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert isinstance(model, keras.Model) and model.optimizer is not None
    config, training = hypermodel.sample(keras_tuner.HyperParameters())
    assert config.num_layers == DEFAULT_SPACE["num_layers"][0]
    assert config.hidden_dim % config.num_heads == 0
    assert training.batch_size == DEFAULT_SPACE["batch_size"][0]


def test_every_sampled_configuration_is_valid():
    hypermodel = TransformerHyperModel(SMALL_SPACE)
    hp = keras_tuner.HyperParameters()
    hypermodel.sample(hp)  # registers the space
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective="val_loss", max_trials=60, hyperparameters=hp, seed=3
    )
    seen = set()
    for index in range(60):
        values = oracle.populate_space(str(index))["values"]
        if values is None:
            break
        config, _ = hypermodel.configs(values)
        assert config.hidden_dim % config.num_heads == 0, values
        seen.add((config.hidden_dim, config.num_heads))
    # 16 and 32 take 2 or 4 heads (not 3), 24 takes 2, 3 or 4: all seven pairs, no others.
    assert seen == {(16, 2), (16, 4), (24, 2), (24, 3), (24, 4), (32, 2), (32, 4)}


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"num_layerz": [1]}, "Unknown hyper-parameter 'num_layerz'"),
        ({"dropout": []}, "empty list"),
        ({"dropout": {"min": 0.3, "max": 0.1, "step": 0.1}}, "empty range"),
        ({"hidden_dim": [30], "num_heads": [4]}, r"num_heads \[4\] divide none"),
    ],
)
def test_bad_specs_fail_before_any_training(spec, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        tune(_train_config(tmp_path / "tune"), space=spec)
    assert not (tmp_path / "tune").exists()


def test_ranges_and_fixed_values():
    space = parse_space('{"dropout": {"min": 0, "max": 0.2, "step": 0.1}, "num_layers": 3}')
    assert space["dropout"] == [0.0, 0.1, 0.2] and space["num_layers"] == [3]


def test_cli_search_then_train_the_winner(tmp_path, capsys):
    out = tmp_path / "tune"
    code = cli.main([
        "tune", "--corpus", "dates", "--tuner", "random", "--max-trials", "2", "--out", str(out),
        "--space", json.dumps(SMALL_SPACE), *DATA_FLAGS,
    ])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "| trial | status | score |" in printed and "train it:" in printed
    trials = json.loads((out / "trials.json").read_text())
    assert len(trials) == 2 and all(t["status"] == "COMPLETED" for t in trials)
    best = json.loads((out / "best.json").read_text())
    assert best["hidden_dim"] % best["num_heads"] == 0
    training = json.loads((out / "best_training.json").read_text())
    code = cli.main([
        "train", "--corpus", "dates", "--config", str(out / "best.json"), "--out",
        str(tmp_path / "run"), "--batch-size", str(training["batch_size"]), *DATA_FLAGS,
    ])  # fmt: skip
    assert code == 0
    trained = json.loads((tmp_path / "run" / "config.json").read_text())
    for name in ("num_layers", "hidden_dim", "num_heads", "intermediate_dim", "dropout"):
        assert trained[name] == best[name]


@pytest.mark.parametrize("tuner", ["bayesian", "hyperband"])
def test_other_tuners_run(tuner, tmp_path):
    # One trial each: Bayesian optimization draws its first trials at random anyway, and
    # Hyperband with max_epochs 1 (epochs=1) runs a single bracket of one 1-epoch trial.
    result = tune(
        _train_config(tmp_path / "tune"),
        tuner=tuner,
        max_trials=1,
        space=SMALL_SPACE,
        verbose=0,
    )
    assert result.trials and result.best_config.exists()


class _CountingInterrupt(keras.callbacks.Callback):
    """Counts trials; raises KeyboardInterrupt (a kill) in trial `interrupt_at`. keras-tuner
    deep-copies callbacks for each trial, so the count lives in a shared list."""

    def __init__(self, interrupt_at=None, counts=None):
        super().__init__()
        self.interrupt_at = interrupt_at
        self.counts = counts if counts is not None else []

    def __deepcopy__(self, memo):
        return _CountingInterrupt(self.interrupt_at, self.counts)

    @property
    def trials(self):
        return len(self.counts)

    def on_train_begin(self, logs=None):
        self.counts.append(1)
        if self.trials == self.interrupt_at:
            raise KeyboardInterrupt


def test_rerunning_an_interrupted_search_continues_it(tmp_path):
    config = _train_config(tmp_path / "tune")
    first = _CountingInterrupt(interrupt_at=2)  # trial 1 finishes, trial 2 is killed
    with pytest.raises(KeyboardInterrupt):
        tune(config, max_trials=3, space=SMALL_SPACE, callbacks=[first], verbose=0)
    second = _CountingInterrupt()
    result = tune(config, max_trials=3, space=SMALL_SPACE, callbacks=[second], verbose=0)
    assert second.trials == 2  # the killed trial and trial 3; the finished one is not rerun
    assert sorted(t["status"] for t in result.trials) == ["COMPLETED"] * 3


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_chief_and_two_workers_search_together(tmp_path):
    port = str(_free_port())
    command = [
        sys.executable, "-m", "keras_transformer", "tune", "--corpus", "dates",
        "--max-trials", "3", "--out", str(tmp_path / "tune"), "--space",
        json.dumps(SMALL_SPACE), *DATA_FLAGS,
    ]  # fmt: skip

    def start(tuner_id):
        environment = dict(
            os.environ,
            KERASTUNER_TUNER_ID=tuner_id,
            KERASTUNER_ORACLE_IP="127.0.0.1",
            KERASTUNER_ORACLE_PORT=port,
        )
        return subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, cwd=tmp_path,
        )  # fmt: skip

    chief = start("chief")
    workers = [start(f"tuner{i}") for i in range(2)]
    try:
        outputs = [process.communicate(timeout=400)[0] for process in [*workers, chief]]
    finally:
        for process in [chief, *workers]:
            process.kill()
    assert [p.returncode for p in [*workers, chief]] == [0, 0, 0], outputs[-1][-3000:]
    trials = json.loads((tmp_path / "tune" / "trials.json").read_text())
    assert len(trials) == 3 and all(t["status"] == "COMPLETED" for t in trials)
    assert all("worker finished" in output for output in outputs[:2])


@pytest.mark.parametrize(
    "task, objective, corpus_flags",
    [
        ("lm", "val_loss", []),
        ("classify", "val_accuracy", ["--train-size", "200", "--validation-size", "32"]),
    ],
)
def test_each_task_searches_with_its_own_objective(task, objective, corpus_flags, tmp_path,
                                                   capsys):  # fmt: skip
    out = tmp_path / task
    space = json.dumps({**SMALL_SPACE, "hidden_dim": [16], "num_heads": [2]})
    argv = ["tune", "--task", task, "--out", str(out), "--max-trials", "1", "--epochs", "1",
            "--steps-per-epoch", "2", "--sequence-length", "32", "--space", space,
            *corpus_flags]  # fmt: skip
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert f"objective: {objective}" in printed
    assert f"keras-transformer train --task {task} --corpus" in printed
    trials = json.loads((out / "trials.json").read_text())
    assert trials[0]["status"] == "COMPLETED" and trials[0]["score"] is not None
    with pytest.raises(ValueError, match=f"objective must be one of .* for task '{task}'"):
        tune(TrainConfig(task=task, out=str(out)), objective="val_masked_accuracy"
             if task == "classify" else "val_accuracy")  # fmt: skip
