"""The real trainer on shrunk configurations: a few steps each, on 2 CPU cores."""

import json

import keras
import numpy as np
import pytest

import keras_transformer as kt
from keras_transformer import cli
from keras_transformer.data.tsv import write_tsv
from keras_transformer.run import Run
from keras_transformer.training import TrainConfig, train
from keras_transformer.training.callbacks import GoodCheckpoint
from tests.training.interruptions import EpochsSeen, Interrupt

MODEL = kt.TransformerConfig(
    sequence_length=40, hidden_dim=32, intermediate_dim=64, num_heads=4, num_layers=1,
    dropout=0.0,
)  # fmt: skip


def _train_config(out, **overrides):
    # No decoded validation sample: tests/training/test_selection.py decodes one.
    values = dict(
        corpus="dates", out=str(out), epochs=2, batch_size=32, steps_per_epoch=15,
        train_size=400, validation_size=64, test_size=32, warmup_steps=30, validation_sample=0,
    )  # fmt: skip
    values.update(overrides)
    return TrainConfig(**values)


def test_training_lowers_the_loss_and_fills_the_run_directory(tmp_path):
    result = train(MODEL, _train_config(tmp_path / "run", epochs=3), verbose=0)
    history = json.loads((result.run_dir / "history.json").read_text())
    assert [record["epoch"] for record in history] == [1, 2, 3]
    assert history[-1]["loss"] < history[0]["loss"] - 0.3
    assert history[-1]["val_masked_accuracy"] > history[0]["val_masked_accuracy"]
    expected_files = (
        "config.json", "train_config.json", "source_tokenizer.json", "target_tokenizer.json",
        "splits/test.tsv", "model.keras", "training_curves.png", "run.json",
        "checkpoints/epoch-003.weights.h5",
    )  # fmt: skip
    for name in expected_files:
        assert (result.run_dir / name).exists(), name
    assert list((result.run_dir / "logs").rglob("events.out.tfevents*"))
    assert json.loads((result.run_dir / "run.json").read_text())["status"] == "finished"
    run = Run.open(result.run_dir)
    model_config, source, splits = run.model_config, run.source_tokenizer, run.splits
    assert model_config.vocabulary_size == source.vocabulary_size  # sized by the tokenizer
    assert len(splits.train) == 400 and len(splits.test) == 32
    model = keras.saving.load_model(result.run_dir / "model.keras")
    kept = json.loads((result.run_dir / "checkpoints" / "best.json").read_text())["epoch"]
    assert int(model.optimizer.iterations) == 15 * kept  # the kept epoch's optimizer state


def test_a_finished_run_is_not_overwritten_unless_asked(tmp_path):
    config = _train_config(tmp_path / "run", epochs=1, steps_per_epoch=2)
    train(MODEL, config, verbose=0)
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="--overwrite"):
        train(MODEL, config, verbose=0)
    train(MODEL, config, overwrite=True, verbose=0)
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"  # only run files replaced


def test_a_crash_while_saving_the_model_resumes_at_the_end(tmp_path, monkeypatch):
    """The backup outlives `fit` until run.json marks the run finished: a crash in between
    resumes at the last epoch instead of training again from scratch."""
    config = _train_config(tmp_path / "run", epochs=2, steps_per_epoch=2)

    def crash(run, model):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Run, "save_model", crash)
        with pytest.raises(KeyboardInterrupt):
            train(MODEL, config, verbose=0)
    assert (tmp_path / "run" / "backup").is_dir()
    assert not (tmp_path / "run" / "run.json").exists()
    seen = EpochsSeen()
    result = train(MODEL, config, callbacks=[seen], verbose=0)
    assert seen.epochs == []  # nothing trained again
    assert result.status == "finished" and result.epochs == 2
    model = keras.saving.load_model(result.run_dir / "model.keras")
    assert int(model.optimizer.iterations) == 4
    assert not (tmp_path / "run" / "backup").exists()  # removed once finished


def test_resuming_with_other_settings_is_refused(tmp_path):
    config = _train_config(tmp_path / "run", epochs=2, steps_per_epoch=2)
    with pytest.raises(KeyboardInterrupt):
        train(MODEL, config, callbacks=[Interrupt(after=1)], verbose=0)
    with pytest.raises(ValueError, match="other settings"):
        train(MODEL.replace(hidden_dim=16), config, verbose=0)


def test_mixed_precision_training_runs_end_to_end(tmp_path):
    config = _train_config(tmp_path / "run", epochs=1, steps_per_epoch=2, mixed_precision=True)
    result = train(MODEL, config, verbose=0)
    assert np.isfinite(result.metrics["loss"])
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    model = keras.saving.load_model(result.run_dir / "model.keras")
    assert model.get_layer("encoder_block_0").dtype_policy.name == "mixed_bfloat16"


def test_checkpoints_skip_a_diverged_epoch(tmp_path):
    checkpoint = GoodCheckpoint(tmp_path / "checkpoints")
    checkpoint.set_model(kt.build_transformer(MODEL.replace(vocabulary_size=7)))
    checkpoint.on_epoch_end(0, {"loss": 1.5})
    checkpoint.on_epoch_end(1, {"loss": float("nan")})
    assert checkpoint.last_good.name == "epoch-001.weights.h5"
    assert not (tmp_path / "checkpoints" / "epoch-002.weights.h5").exists()


def test_cli_trains_on_a_tsv_corpus_with_wordpiece(tmp_path, capsys):
    rng = np.random.default_rng(0)
    words = ["red", "green", "blue", "cat", "dog", "big", "small", "runs", "sleeps"]
    pairs = []
    for _ in range(300):
        sentence = " ".join(rng.choice(words, size=rng.integers(2, 6)))
        pairs.append((sentence, sentence.upper() + "!"))
    write_tsv(pairs, tmp_path / "corpus.tsv")
    code = cli.main([
        "train", "--corpus", str(tmp_path / "corpus.tsv"), "--out", str(tmp_path / "run"),
        "--tokenizer", "wordpiece", "--max-vocabulary-size", "60", "--epochs", "1",
        "--steps-per-epoch", "5", "--batch-size", "16", "--num-layers", "1", "--hidden-dim", "16",
        "--intermediate-dim", "32", "--num-heads", "2", "--sequence-length", "16",
        "--validation-sample", "0",
    ])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "finished, 1 epochs" in out and "val_masked_accuracy" in out
    assert (
        json.loads((tmp_path / "run" / "source_tokenizer.json").read_text())["kind"] == "wordpiece"
    )


def test_cli_reports_malformed_tsv_lines(tmp_path, capsys):
    (tmp_path / "bad.tsv").write_text("one\tun\ntwo without tab\nthree\t\n", encoding="utf-8")
    code = cli.main(["train", "--corpus", str(tmp_path / "bad.tsv"), "--out", str(tmp_path / "r")])
    assert code == 2
    error = capsys.readouterr().err
    assert "bad.tsv:2" in error and "bad.tsv:3" in error and "--skip-malformed" in error


def test_cli_rejects_an_unknown_corpus(tmp_path, capsys):
    code = cli.main(["train", "--corpus", str(tmp_path / "nope.tsv"), "--out", str(tmp_path / "r")])
    assert code == 2 and "neither the built-in 'dates' corpus" in capsys.readouterr().err
