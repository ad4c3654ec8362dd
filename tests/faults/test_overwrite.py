"""`--overwrite` replaces only what the product wrote: a run (`train`), an earlier export
(`export`); anything else is refused with the path and the reason, and every file that was
there before is byte-identical afterwards."""

import json

import pytest

from keras_transformer import cli
from keras_transformer.export.target import EXPORT_MARKER
from keras_transformer.run import RUN_MARKER


def _snapshot(directory):
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _users_directory(path):
    """A directory of the user's that happens to hold files named like a run's."""
    (path / "logs").mkdir(parents=True)
    (path / "logs" / "2026.txt").write_text("my logs")
    (path / "splits").mkdir()
    (path / "splits" / "mine.tsv").write_text("a\tb\n")
    (path / "model.keras").write_bytes(b"my model")
    (path / "history.json").write_text('{"my": "history"}')
    (path / "training_curves.png").write_bytes(b"my plot")
    return path


TINY = ["--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "16", "--train-size", "64",
        "--validation-size", "16", "--test-size", "16", "--num-layers", "1", "--hidden-dim", "16",
        "--intermediate-dim", "32", "--num-heads", "2", "--validation-sample", "0"]  # fmt: skip


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("corpus", ["dates", "missing.tsv"])
def test_train_never_writes_into_a_directory_of_other_files(tmp_path, capsys, overwrite, corpus):
    mine = _users_directory(tmp_path / "mine")
    before = _snapshot(tmp_path)
    argv = ["train", "--corpus", corpus, "--out", str(mine), *TINY, *overwrite]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert f"--out {mine} is not a run directory" in error
    assert "history.json, logs, model.keras, splits, training_curves.png" in error
    assert "Traceback" not in error
    assert _snapshot(tmp_path) == before


def test_a_failed_overwrite_keeps_the_old_run_whole(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--corpus", "dates", "--out", str(out), *TINY]) == 0
    (out / "notes.txt").write_text("mine")
    before = _snapshot(tmp_path)
    capsys.readouterr()
    missing = tmp_path / "missing.tsv"
    argv = ["train", "--corpus", str(missing), "--out", str(out), *TINY, "--overwrite"]
    assert cli.main(argv) == 2
    assert "missing.tsv" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before  # the corpus is read before anything is removed
    assert cli.main(["train", "--corpus", "dates", "--out", str(out), *TINY, "--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / RUN_MARKER).is_file()
    assert json.loads((out / "run.json").read_text())["status"] == "finished"


def test_export_overwrite_replaces_only_an_earlier_export(run_dir, tmp_path, capsys):
    run_before = _snapshot(run_dir)
    mine = _users_directory(tmp_path / "mine")
    (tmp_path / "file.txt").write_text("mine")
    before = _snapshot(tmp_path)
    for target, reason in (
        (run_dir, "is a run directory"),
        (mine, "is a directory of other files (history.json, logs, model.keras"),
        (tmp_path / "file.txt", "is a file"),
        (run_dir / "model.keras", "is a file of the run"),
    ):
        kind = ["--format", "keras"] if target.suffix == ".keras" else ["--greedy"]
        assert cli.main(["export", str(run_dir), str(target), "--overwrite", *kind]) == 2
        error = capsys.readouterr().err
        assert str(target) in error and reason in error and "Nothing was removed" in error
    assert _snapshot(tmp_path) == before and _snapshot(run_dir) == run_before
    export = tmp_path / "export"
    argv = ["export", str(run_dir), str(export), "--greedy", "--no-jit-compile"]
    assert cli.main(argv) == 0
    assert json.loads((export / EXPORT_MARKER).read_text())["format"] == "saved_model"
    assert cli.main(argv) == 2 and "already exists" in capsys.readouterr().err
    (export / "variables" / "left.txt").write_text("replaced with the export")
    assert cli.main([*argv, "--overwrite"]) == 0
    assert not (export / "variables" / "left.txt").exists()
    keras_file = tmp_path / "model.keras"
    assert cli.main(["export", str(run_dir), str(keras_file), "--format", "keras"]) == 0
    argv = ["export", str(run_dir), str(keras_file), "--format", "keras", "--overwrite"]
    assert cli.main(argv) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert _snapshot(run_dir) == run_before
