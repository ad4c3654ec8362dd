"""tf.distribute: MirroredStrategy over two logical CPU devices, and two worker processes
under MultiWorkerMirroredStrategy, train like one device."""

import json
import os
import socket
import subprocess
import sys

import pytest

from keras_transformer.training import TrainConfig
from keras_transformer.training.devices import choose_strategy

# Runs in a fresh interpreter: logical devices must be set before TensorFlow starts.
SCRIPT = """
import json, sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras_transformer as kt
from keras_transformer.data.tsv import write_tsv
from keras_transformer.training import TrainConfig, train

# Every batch is the same (one pair repeated): Keras' distributed fit draws one extra batch
# to build the model, which would shift a shuffled order, and equal lengths let the
# per-replica masked means average to the global one.
write_tsv([("3 1 4 1 5 9", "2 6 5")] * 320, sys.argv[1] + "/corpus.tsv")
model = kt.TransformerConfig(sequence_length=16, hidden_dim=16, intermediate_dim=32,
                             num_heads=2, num_layers=1, dropout=0.0)
losses = {}
for strategy in ("none", "mirrored"):
    config = TrainConfig(corpus=sys.argv[1] + "/corpus.tsv", out=f"{sys.argv[1]}/{strategy}",
                         epochs=4, steps_per_epoch=1, batch_size=32, warmup_steps=20,
                         label_smoothing=0.0, strategy=strategy, validation_fraction=0.0,
                         test_fraction=0.0)
    result = train(model, config, verbose=0)
    history = json.loads((result.run_dir / "history.json").read_text())
    losses[strategy] = [record["loss"] for record in history]
print(json.dumps({"losses": losses, "replicas": len(tf.config.list_logical_devices("CPU"))}))
"""


def test_mirrored_on_two_cpus_matches_one_device(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    single, mirrored = out["losses"]["none"], out["losses"]["mirrored"]
    assert len(single) == len(mirrored) == 4 and single[-1] < single[0]
    for one, two in zip(single, mirrored, strict=True):
        assert abs(one - two) <= 1e-4, (single, mirrored)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _train_two_workers(command, out):
    """Runs `command --out OUT --strategy multiworker` as two workers on 127.0.0.1."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = []
    for index in range(2):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        environment = dict(os.environ, TF_CONFIG=json.dumps(config))
        arguments = [*command, "--out", str(out), "--strategy", "multiworker"]
        workers.append(subprocess.Popen(arguments, env=environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True))  # fmt: skip
    try:
        outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output[-3000:]
    assert "2 replicas in sync" in outputs[0]


def _losses(run_dir):
    return [record["loss"] for record in json.loads((run_dir / "history.json").read_text())]


def test_two_workers_train_together_and_the_chief_writes_the_run(tmp_path):
    from keras_transformer.data.tsv import write_tsv

    corpus = tmp_path / "corpus.tsv"
    write_tsv([("3 1 4 1 5 9", "2 6 5")] * 256, corpus)  # equal pairs: see SCRIPT
    common = [
        sys.executable, "-m", "keras_transformer", "train", "--corpus", str(corpus),
        "--sequence-length", "16", "--hidden-dim", "16", "--intermediate-dim", "32",
        "--num-heads", "2", "--num-layers", "1", "--dropout", "0", "--label-smoothing", "0",
        "--epochs", "2", "--batch-size", "32", "--warmup-steps", "20",
        "--validation-fraction", "0.125", "--test-fraction", "0",
    ]  # fmt: skip
    _train_two_workers(common, tmp_path / "run")

    chief, other = tmp_path / "run", tmp_path / "run" / "workers" / "worker-1"
    assert (chief / "model.keras").is_file()
    assert sorted(p.name for p in (chief / "checkpoints").iterdir()) == [
        "epoch-001.weights.h5", "epoch-002.weights.h5",
    ]  # fmt: skip
    assert json.loads((chief / "run.json").read_text())["status"] == "finished"
    assert (other / "model.keras").is_file()  # the other worker's copy, out of the chief's way

    # Both workers log the same (all-reduced) losses, and they match one process with the
    # same global batch (this one: no cluster, so no fresh interpreter needed).
    from keras_transformer import cli

    single = [*common[3:], "--out", str(tmp_path / "single"), "--strategy", "none"]
    assert cli.main(single) == 0
    expected = _losses(tmp_path / "single")
    assert len(expected) == 2 and expected[1] < expected[0]
    for run_dir in (chief, other):
        for one, two in zip(expected, _losses(run_dir), strict=True):
            assert abs(one - two) <= 1e-4, (expected, _losses(run_dir))


# Every example the same (see SCRIPT): each worker's shard then batches like the whole.
_SAME_EXAMPLE = {
    "lm": ("documents.txt", "3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 3 2 3 8 4 6 2 6 4\n" * 256),
    "classify": ("labelled.tsv", "3 1 4 1 5 9\tpi\n" * 240 + "2 7 1 8 2 8\te\n" * 16),
}


@pytest.mark.parametrize("task", sorted(_SAME_EXAMPLE))
def test_two_workers_train_every_task(tmp_path, task):
    """The language model and the classifier train under --strategy multiworker as
    translation does: the workers all-reduce the same losses and the chief writes the run."""
    name, text = _SAME_EXAMPLE[task]
    corpus = tmp_path / name
    corpus.write_text(text, encoding="utf-8")
    common = [
        sys.executable, "-m", "keras_transformer", "train", "--task", task, "--corpus",
        str(corpus), "--tokenizer", "character", "--sequence-length", "16", "--hidden-dim",
        "16", "--intermediate-dim", "32", "--num-heads", "2", "--num-layers", "1", "--dropout",
        "0", "--epochs", "2", "--steps-per-epoch", "2", "--batch-size", "8",
        "--warmup-steps", "20", "--validation-fraction", "0.1", "--test-fraction", "0",
    ]  # fmt: skip
    _train_two_workers(common, tmp_path / "run")
    chief, other = tmp_path / "run", tmp_path / "run" / "workers" / "worker-1"
    assert json.loads((chief / "run.json").read_text())["status"] == "finished"
    assert (chief / "model.keras").is_file() and (other / "model.keras").is_file()
    losses = _losses(chief)
    assert len(losses) == 2 and losses == pytest.approx(_losses(other), abs=1e-4)


def test_strategy_names_are_checked():
    with pytest.raises(ValueError, match="strategy must be one of"):
        TrainConfig(strategy="tpu")
    with pytest.raises(ValueError, match="strategy must be one of"):
        choose_strategy("tpu")


def test_keras_internals_are_looked_up_only_for_multiworker(monkeypatch):
    """A Keras release that moves the private trainer parts must break only --strategy
    multiworker, with an error naming the installed Keras, not `import keras_transformer`."""
    import ast
    import inspect

    import keras
    from keras.src.backend.tensorflow import trainer as tf_trainer

    from keras_transformer.training import multiworker

    top_level = ast.parse(inspect.getsource(multiworker)).body
    imported = [n.module for n in top_level if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in top_level if isinstance(n, ast.Import) for a in n.names]
    assert not [name for name in imported if name.startswith("keras.src")], imported
    monkeypatch.delattr(tf_trainer, "_collective_all_reduce_multi_worker")
    with pytest.raises(RuntimeError, match=rf"installed Keras {keras.__version__}"):
        multiworker.enable_multiworker_fit()
