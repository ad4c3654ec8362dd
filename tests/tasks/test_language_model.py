"""`train --task lm` through the run directory, and the commands that use its run (`evaluate`,
`generate`), as a user runs them (`keras_transformer.cli`; the run is tests/tasks/conftest.py's)."""

import io
import json

import pytest

from keras_transformer import cli
from keras_transformer.data.text import read_documents
from keras_transformer.predictors import load_predictor
from keras_transformer.run import Run

pytestmark = pytest.mark.xdist_group("task_runs")


def test_a_language_model_run_holds_its_task_documents_and_tokenizer(lm_run):
    run = Run.open(lm_run)
    assert run.task == "lm" and run.train_config.block_size == 32
    assert (lm_run / "tokenizer.json").is_file() and not (lm_run / "target_tokenizer.json").exists()
    documents = run.splits.train + run.splits.validation + run.splits.test
    assert sorted(documents) == sorted(read_documents(str(lm_run.parent / "stories.txt")))
    assert any("\n" in d for d in documents)  # the JSON-lines splits keep line breaks
    assert run.status["status"] == "finished"
    history = json.loads(run.history.read_text())
    assert "val_perplexity" in history[-1] and run.train_config.label_smoothing == 0.0


def test_evaluate_reports_perplexity_and_samples(lm_run, capsys):
    assert cli.main(["evaluate", str(lm_run), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["split"] == "test" and results["perplexity"] > 1
    assert results["bits_per_character"] > 0 and results["examples"]
    assert cli.main(["evaluate", str(lm_run), "--split", "validation"]) == 0
    out = capsys.readouterr().out
    assert "perplexity" in out and "bits_per_character" in out and "sample:" in out


def test_generate_command_arguments_stdin_and_defaults(lm_run, capsys, monkeypatch):
    generator = load_predictor(lm_run)
    expected = generator.generate(["The cat", "Birds"], max_new_tokens=8, strategy="greedy")
    assert cli.main(["generate", str(lm_run), "The cat", "Birds", "--greedy",
                     "--max-new-tokens", "8"]) == 0  # fmt: skip
    assert capsys.readouterr().out == f"{expected[0]}\n\n{expected[1]}\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("The cat\n"))
    assert cli.main(["generate", str(lm_run), "--max-new-tokens", "6"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("The cat") and "nucleus sampling" in captured.err
    assert cli.main(["generate", str(lm_run), "The", "--greedy", "--top-k", "3"]) == 2
    assert "Choose one of" in capsys.readouterr().err


def test_commands_refuse_a_run_of_another_task(lm_run, classifier_run, capsys):
    assert cli.main(["translate", str(lm_run), "x"]) == 2
    error = capsys.readouterr().err
    assert "language-model run (task 'lm')" in error and "keras-transformer generate" in error
    assert cli.main(["classify", str(lm_run), "x"]) == 2
    assert "needs a classifier run" in capsys.readouterr().err
    assert cli.main(["generate", str(classifier_run), "x"]) == 2
    assert "keras-transformer classify" in capsys.readouterr().err
