"""tf.distribute: MirroredStrategy over two logical CPU devices trains like one device."""

import json
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


def test_strategy_names_are_checked():
    with pytest.raises(ValueError, match="strategy must be one of"):
        TrainConfig(strategy="tpu")
    with pytest.raises(ValueError, match="strategy must be one of"):
        choose_strategy("tpu")
