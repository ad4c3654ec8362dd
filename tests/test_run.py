"""`Run`: creating, preparing, opening, resuming and finishing a run directory (no training:
a trained run is exercised by tests/training and the decoding tests)."""

import json
import os

import pytest

import keras_transformer as kt
from keras_transformer.data.corpus import ExampleSplits, load_corpus
from keras_transformer.data.tokenizers import CharacterTokenizer
from keras_transformer.run import RUN_FILES, RUN_MARKER, DamagedRunFileError, Run
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
    # Nothing is removed until the new run's data is ready (`prepare`).
    assert fresh.replacing and fresh.prepared and (tmp_path / "run" / "run.json").exists()
    new = _prepared_in(fresh)
    assert new.status is None and new.prepared and not new.replacing
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "run" / "run.json").exists()
    assert "notes.txt" not in RUN_FILES


def _prepared_in(run):
    splits = load_corpus("dates", train_size=40, validation_size=8, test_size=8, seed=0)
    source = CharacterTokenizer.learn([s for s, _ in splits.train])
    target = CharacterTokenizer.learn([t for _, t in splits.train])
    run.prepare(MODEL, TrainConfig(corpus="dates", out=str(run.directory)), source, target, splits)
    return run


def _snapshot(directory):
    return {
        str(p.relative_to(directory)): p.read_bytes() if p.is_file() else None
        for p in sorted(directory.rglob("*"))
    }


def test_a_directory_of_other_files_is_never_a_run_nor_written_into(tmp_path):
    mine = tmp_path / "mine"
    (mine / "logs").mkdir(parents=True)
    (mine / "logs" / "diary.txt").write_text("dear diary")
    (mine / "model.keras").write_bytes(b"my own model")
    (mine / "history.json").write_text('{"mine": true}')
    before = _snapshot(mine)
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match=r"not a run directory.*history\.json, logs, "
                           r"model\.keras.*Nothing was written"):  # fmt: skip
            Run.create(mine, overwrite=overwrite)
    assert _snapshot(mine) == before
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        Run.create(tmp_path / "file", overwrite=True)
    (tmp_path / "empty").mkdir()
    assert _prepared_in(Run.create(tmp_path / "empty")).prepared


def test_a_run_written_before_the_marker_is_still_a_run(tmp_path):
    run = _prepared(tmp_path / "run")
    run.finish({"status": "finished"})
    (tmp_path / "run" / RUN_MARKER).unlink()
    assert Run(tmp_path / "run").is_run
    assert Run.create(tmp_path / "run", overwrite=True).replacing
    (tmp_path / "run" / "train_config.json").write_text('{"num_layers": 2}')  # not ours
    assert not Run(tmp_path / "run").is_run


@pytest.mark.parametrize(
    "name, read",
    [
        ("config.json", lambda run: run.model_config),
        ("train_config.json", lambda run: run.train_config),
        ("source_tokenizer.json", lambda run: run.source_tokenizer),
        ("target_tokenizer.json", lambda run: run.target_tokenizer),
        ("splits/train.tsv", lambda run: run.splits),
        ("run.json", lambda run: run.status),
        ("model.keras", lambda run: run.load_model()),
    ],
)
def test_a_damaged_run_file_is_named_with_what_to_do(tmp_path, name, read):
    run = _prepared(tmp_path / "run")
    run.finish({"status": "finished"})
    path = tmp_path / "run" / name
    if name == "model.keras":
        path.write_bytes(b"PK\x03\x04 cut short")
    else:
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2] + b"\xff")
    with pytest.raises(DamagedRunFileError) as raised:
        read(Run.open(tmp_path / "run"))
    message = str(raised.value)
    assert "is damaged" in message and name in message and "--overwrite" in message


def test_a_damaged_record_blocks_only_until_overwrite(tmp_path):
    run = _prepared(tmp_path / "run")
    run.finish({"status": "finished"})
    (tmp_path / "run" / "run.json").write_text('{"status": "fini')
    with pytest.raises(DamagedRunFileError, match=r"run\.json is damaged.*--overwrite"):
        Run.create(tmp_path / "run")
    assert _prepared_in(Run.create(tmp_path / "run", overwrite=True)).status is None


def test_what_a_killed_writer_left_is_removed_when_the_run_resumes(tmp_path):
    _prepared(tmp_path / "run")
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    left = tmp_path / "run" / f".model.{dead}-0123456789ab.tmp.keras"
    left.write_bytes(b"half")
    alive = tmp_path / "run" / "checkpoints"
    alive.mkdir()
    mine = alive / f".epoch-001.{os.getpid()}-0123456789ab.tmp.weights.h5"
    mine.write_bytes(b"being written")
    Run.create(tmp_path / "run")
    assert not left.exists() and mine.exists()


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


@pytest.mark.parametrize("name", ["labels.json", "tokenizer.json", "splits/test.jsonl"])
def test_a_damaged_classifier_file_is_named_with_what_to_do(tmp_path, name):
    examples = [(f"text {i}", "yes" if i % 2 else "no") for i in range(40)]
    splits = ExampleSplits(examples[:30], examples[30:35], examples[35:])
    tokenizer = CharacterTokenizer.learn([text for text, _ in examples])
    model = kt.ClassifierConfig.preset("tiny", vocabulary_size=tokenizer.vocabulary_size,
                                       num_classes=2)  # fmt: skip
    config = TrainConfig(task="classify", corpus="x.tsv", out=str(tmp_path / "run"))
    run = Run.create(tmp_path / "run")
    run.prepare(model, config, tokenizer, None, splits, labels=["no", "yes"])
    assert Run.open(tmp_path / "run").labels == ["no", "yes"]
    path = tmp_path / "run" / name
    path.write_bytes(path.read_bytes()[:-9])
    opened = Run.open(tmp_path / "run")
    with pytest.raises(DamagedRunFileError) as raised:
        opened.labels, opened.tokenizer, opened.splits  # noqa: B018
    message = str(raised.value)
    assert "is damaged" in message and name.split("/")[0] in message
    assert "--overwrite" in message
