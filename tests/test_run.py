"""`Run`: creating, preparing, opening, resuming and finishing a run directory (no training:
a trained run is exercised by tests/training and the decoding tests)."""

import json

import pytest

import keras_transformer as kt
from keras_transformer.data.corpus import load_corpus
from keras_transformer.data.tokenizers import CharacterTokenizer
from keras_transformer.run import RUN_FILES, Run
from keras_transformer.training import TrainConfig

MODEL = kt.TransformerConfig.preset("tiny", vocabulary_size=20, target_vocabulary_size=21)


def _prepared(directory, **train):
    run = Run.create(directory)
    splits = load_corpus("dates", train_size=40, validation_size=8, test_size=8, seed=0)
    source = CharacterTokenizer.learn([s for s, _ in splits.train])
    target = CharacterTokenizer.learn([t for _, t in splits.train])
    config = TrainConfig(corpus="dates", out=str(directory), **train)
    run.prepare(MODEL, config, source, target, splits)
    return run


def test_a_prepared_run_opens_with_what_was_written(tmp_path):
    written = _prepared(tmp_path / "run", epochs=3)
    run = Run.open(tmp_path / "run")
    assert run.model_config == MODEL and run.train_config.epochs == 3
    assert run.source_tokenizer.vocabulary == written.source_tokenizer.vocabulary
    assert run.target_tokenizer.vocabulary == written.target_tokenizer.vocabulary
    assert run.splits.test == written.splits.test and len(run.splits.train) == 40
    assert run.status is None and run.prepared
    assert not list((tmp_path / "run").rglob("*.tmp*"))  # every write was atomic


def test_opening_a_directory_that_is_not_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"not a run directory .*keras-transformer train"):
        Run.open(tmp_path)
    _prepared(tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="no trained model"):
        Run.open(tmp_path / "run").load_model()


def test_finishing_writes_the_record_then_removes_the_backup(tmp_path):
    run = _prepared(tmp_path / "run")
    run.backup.mkdir()
    run.finish({"status": "finished", "epochs": 2})
    assert not run.backup.exists()
    assert Run.open(tmp_path / "run").status == {"status": "finished", "epochs": 2}


def test_a_finished_run_is_replaced_only_when_asked_and_only_its_files(tmp_path):
    run = _prepared(tmp_path / "run")
    run.finish({"status": "finished"})
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"finished run.*--overwrite"):
        Run.create(tmp_path / "run")
    fresh = Run.create(tmp_path / "run", overwrite=True)
    assert not fresh.prepared and fresh.status is None
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["notes.txt"]
    assert "notes.txt" not in RUN_FILES


def test_resuming_checks_only_the_settings_given(tmp_path):
    run = _prepared(tmp_path / "run", epochs=3, batch_size=16)
    given = TrainConfig(corpus="dates", out=str(tmp_path / "run"), epochs=5)  # rest unset
    run.check_resumable(None, given)  # longer is fine; unset settings are the saved ones
    with pytest.raises(ValueError, match=r"--batch-size 32 \(the run has 16\)"):
        run.check_resumable(None, given.replace(batch_size=32))
    with pytest.raises(ValueError, match="the model's settings"):
        run.check_resumable(MODEL.replace(num_layers=3), given)
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert saved["epochs"] == 3  # checking writes nothing
