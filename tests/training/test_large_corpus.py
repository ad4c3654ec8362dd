"""Training on a streamed corpus: the run directory keeps fingerprints instead of copies,
evaluate re-derives the splits and refuses changed files (a resume refusing them is
tests/tasks/test_streaming.py's, for every task); token batches, gradient accumulation and
the global token normalisation."""

import gzip
import json
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_transformer as kt
from keras_transformer.evaluation.evaluate import evaluate_run
from keras_transformer.predictors import load_predictor
from keras_transformer.training import TrainConfig, compile_model, train
from keras_transformer.training.schedules import TransformerSchedule
from keras_transformer.training.trainer import _describe_data_loss

MODEL = kt.TransformerConfig(
    sequence_length=32, hidden_dim=24, intermediate_dim=48, num_heads=2, num_layers=1,
    dropout=0.0,
)  # fmt: skip
FIXTURE = "tests/fixtures/eng-jpn-300.tsv"


@pytest.fixture
def corpus_files(tmp_path, monkeypatch):
    """The real-text fixture in two files (the second gzip'd), streamed (a low threshold)."""
    monkeypatch.setattr("keras_transformer.data.corpus.STREAM_ABOVE_LINES", 100)
    with open(FIXTURE, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    first, second = tmp_path / "part-1.tsv", tmp_path / "part-2.tsv.gz"
    first.write_text("".join(lines[:150]), encoding="utf-8")
    with gzip.open(second, "wt", encoding="utf-8") as f:
        f.write("".join(lines[150:]))
    return tmp_path


def _config(corpus, out, **overrides):
    # No decoded validation sample: tests/training/test_selection.py decodes one.
    values = dict(
        corpus=corpus, out=str(out), epochs=1, steps_per_epoch=4, batch_size=16,
        warmup_steps=10, max_vocabulary_size=1200, validation_fraction=0.1, test_fraction=0.1,
        validation_sample=0, average_last=0, early_stopping_patience=0,
    )  # fmt: skip
    values.update(overrides)
    return TrainConfig(**values)


def test_a_streamed_run_keeps_fingerprints_and_evaluate_re_derives_the_splits(corpus_files):
    glob = str(corpus_files / "part-*")
    result = train(MODEL, _config(glob, corpus_files / "run"), verbose=0)
    splits = result.run_dir / "splits"
    assert sorted(p.name for p in splits.iterdir()) == ["corpus.json"]
    recorded = json.loads((splits / "corpus.json").read_text())
    names = [f["path"].rsplit("/", 1)[1] for f in recorded["fingerprints"]]
    assert names == ["part-1.tsv", "part-2.tsv.gz"]
    assert recorded["rule"]["validation_fraction"] == 0.1 and recorded["pairs"] > 200
    scores = evaluate_run(result.run_dir, limit=4, progress=False)
    assert scores["sources"] == 4
    assert evaluate_run(result.run_dir, split="train", limit=3, progress=False)["sources"] == 3

    with open(corpus_files / "part-1.tsv", "a", encoding="utf-8") as f:
        f.write("A new line.\t新しい行。\n")
    with pytest.raises(ValueError, match=r"part-1.tsv changed size"):
        evaluate_run(result.run_dir, limit=4)
    # Translating needs the model and tokenizers only, not the corpus.
    translator = load_predictor(result.run_dir)
    assert len(translator.translate(["Hello."])) == 1


@pytest.mark.parametrize("change", ["append", "truncate"])
def test_a_file_changed_during_training_stops_it_and_keeps_the_model(corpus_files, change):
    plain, packed = corpus_files / "part-1.tsv", corpus_files / "part-2.tsv.gz"

    def alter(batch, logs):
        if batch != 1:
            return
        if change == "append":
            with open(plain, "a", encoding="utf-8") as f:
                f.write("Late.\t遅い。\n")
        else:  # tf.data would end the stream quietly: the watch must say so
            packed.write_bytes(packed.read_bytes()[:200])

    expected = {
        "append": r"changed during training: .*part-1.tsv changed size",
        "truncate": r"part-2.tsv.gz changed size.*gzip data is truncated at byte 200",
    }[change]
    config = _config(str(corpus_files / "part-*"), corpus_files / "run", epochs=3)
    with pytest.raises(ValueError, match=expected):
        train(MODEL, config, callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=alter)],
              verbose=0)  # fmt: skip
    run = corpus_files / "run"
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "input_error" and status["epochs"] == 1
    assert (run / "model.keras").is_file()


def test_a_gzip_cut_during_training_is_described_with_its_offset(corpus_files):
    from keras_transformer.data.corpus import load_corpus

    stream = load_corpus(str(corpus_files / "part-*")).train
    data = (corpus_files / "part-2.tsv.gz").read_bytes()
    (corpus_files / "part-2.tsv.gz").write_bytes(data[:100])

    class Error:
        message = "truncated"

    assert "part-2.tsv.gz: the gzip data is truncated at byte 100" in _describe_data_loss(
        stream, Error()
    )


def test_token_batches_and_accumulation_train_from_the_command_line(corpus_files, capsys):
    from keras_transformer import cli

    out = corpus_files / "run"
    code = cli.main([
        "train", "--corpus", str(corpus_files / "part-1.tsv"),
        str(corpus_files / "part-2.tsv.gz"), "--out", str(out), "--preset", "tiny",
        "--epochs", "1", "--steps-per-epoch", "4", "--batch-tokens", "400",
        "--accumulate-gradients", "2", "--max-vocabulary-size", "1200",
        "--validation-sample", "0", "--sequence-length", "32", "--num-layers", "1",
        "--hidden-dim", "16", "--intermediate-dim", "32", "--num-heads", "2",
    ])  # fmt: skip
    assert code == 0
    saved = TrainConfig.from_json(out / "train_config.json")
    assert saved.batch_tokens == 400 and saved.accumulate_gradients == 2
    assert saved.batch_size is None and isinstance(saved.corpus, tuple)
    model = keras.saving.load_model(out / "model.keras")
    assert int(model.optimizer.iterations) == 2  # 4 batches, 2 updates


def test_accumulating_two_batches_is_one_update_on_both():
    """Same-length pairs (equal token counts): two accumulated batches of 4 = one of 8. (SGD:
    Adam's first step is about lr * sign(gradient), which float noise flips where a gradient
    is near 0.)"""
    rng = np.random.default_rng(0)
    inputs = {"encoder_inputs": rng.integers(4, 40, (8, 6)).astype("int32"),
              "decoder_inputs": rng.integers(4, 40, (8, 5)).astype("int32")}  # fmt: skip
    labels = rng.integers(4, 40, (8, 5)).astype("int32")
    config = MODEL.replace(vocabulary_size=40)
    keras.utils.set_random_seed(7)
    initial = kt.build_transformer(config).get_weights()
    weights = {}
    for accumulate, batch in ((1, 8), (2, 4)):
        keras.utils.set_random_seed(7)
        model = kt.build_transformer(config)
        train_config = TrainConfig(warmup_steps=5, accumulate_gradients=accumulate,
                                   learning_rate_scale=1.0)  # fmt: skip
        compile_model(model, config, train_config)
        assert model.optimizer.gradient_accumulation_steps == (None if accumulate == 1 else 2)
        model.compile(
            optimizer=keras.optimizers.SGD(
                0.5, gradient_accumulation_steps=accumulate if accumulate > 1 else None
            ),
            loss=model.loss,
        )
        model.fit(inputs, labels, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        weights[accumulate] = model.get_weights()
    changed = 0
    for one, two, first in zip(weights[1], weights[2], initial, strict=True):
        np.testing.assert_allclose(one, two, rtol=1e-4, atol=1e-6)
        changed += not np.allclose(one, first)
    assert changed > 10


def test_the_schedule_counts_updates_under_accumulation():
    plain, accumulated = TransformerSchedule(64, 10), TransformerSchedule(64, 10, 1.0, 4)
    assert float(accumulated(39)) == pytest.approx(float(plain(9)))
    assert TransformerSchedule.from_config(accumulated.get_config()).steps_per_update == 4


def test_config_checks_the_new_settings():
    with pytest.raises(ValueError, match="needs padding='bucketed'"):
        TrainConfig(batch_tokens=1000, padding="fixed")
    with pytest.raises(ValueError, match="accumulate_gradients"):
        TrainConfig(accumulate_gradients=0)
    with pytest.raises(ValueError, match="validation_fraction"):
        TrainConfig(validation_fraction=1.5)
    assert TrainConfig(corpus=["a.tsv", "b.tsv"]).corpus == ("a.tsv", "b.tsv")
    assert TrainConfig.from_json(TrainConfig(corpus=("a", "b")).to_json()).corpus == ("a", "b")


# Two logical CPU devices must exist before TensorFlow starts: a fresh interpreter.
GLOBAL_TOKENS = """
import json
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy

loss = MaskedSparseCategoricalCrossentropy(label_smoothing=0.1)
rng = np.random.default_rng(0)
logits = rng.normal(size=(4, 6, 9)).astype("float32")
labels = rng.integers(1, 9, (4, 6)).astype("int32")
labels[0, 1:] = 0  # replica 0 gets 1 + 6 real tokens, replica 1 gets 12
single = float(loss(labels, logits))
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
def shard(context, value):
    return value[2 * context.replica_id_in_sync_group : 2 * context.replica_id_in_sync_group + 2]
per_replica_labels = strategy.experimental_distribute_values_from_function(
    lambda c: shard(c, labels))
per_replica_logits = strategy.experimental_distribute_values_from_function(
    lambda c: shard(c, logits))
# Keras sums the replicas' losses (their gradients); its own mean-of-means would be:
naive = (float(loss(labels[:2], logits[:2])) + float(loss(labels[2:], logits[2:]))) / 2
values = strategy.run(loss, args=(per_replica_labels, per_replica_logits))
mirrored = float(strategy.reduce("SUM", values, axis=None))
print(json.dumps({"single": single, "mirrored": mirrored, "naive": naive}))
"""


def test_the_loss_is_normalised_by_the_global_token_count_across_replicas():
    done = subprocess.run([sys.executable, "-c", GLOBAL_TOKENS], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["mirrored"] == pytest.approx(out["single"], rel=1e-5)
    assert abs(out["naive"] - out["single"]) > 0.01  # the uneven replicas matter


def test_train_refuses_a_glob_that_matches_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="matches no file"):
        train(MODEL, _config(str(tmp_path / "nothing-*.tsv"), tmp_path / "run"), verbose=0)
    assert not (tmp_path / "run").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


class _Resolver:
    def __init__(self, task_type, task_id, cluster):
        self.task_type, self.task_id, self._cluster = task_type, task_id, cluster

    def cluster_spec(self):
        cluster = self._cluster

        class Spec:
            def as_dict(self):
                return cluster

        return Spec()


class _Strategy:
    def __init__(self, resolver):
        self.cluster_resolver = resolver


def test_each_worker_reads_its_own_shard():
    from keras_transformer.training.multiworker import input_shard

    cluster = {"chief": ["a:1"], "worker": ["b:1", "c:1"]}
    shards = [input_shard(_Strategy(_Resolver(t, i, cluster)))
              for t, i in (("chief", 0), ("worker", 0), ("worker", 1))]  # fmt: skip
    assert shards == [(3, 0), (3, 1), (3, 2)]
    workers = {"worker": ["b:1", "c:1"]}
    assert input_shard(_Strategy(_Resolver("worker", 1, workers))) == (2, 1)
    assert input_shard(object()) == (1, 0)
