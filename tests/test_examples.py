"""Every example runs in smoke mode (tiny sizes, a few steps), so none can rot."""

import pathlib
import re
import runpy
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _run(script, *arguments, cwd):
    """Runs the example as a script in a fresh interpreter (for the examples that print their
    log records through `logging.basicConfig`, which pytest's own handlers would disable)."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *arguments],
        capture_output=True, text=True, timeout=600, check=False, cwd=cwd,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def run_in_process(capsys, monkeypatch):
    """Runs an example as `__main__` in this interpreter (no second TensorFlow import) and
    returns what it printed."""

    def run(script, *arguments, cwd):
        path = EXAMPLES / script
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", [str(path), *arguments])
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(str(path), run_name="__main__")
        out = capsys.readouterr().out
        assert exit_info.value.code == 0, out[-2000:]
        return out

    return run


def test_every_example_is_tested():
    tested = set(re.findall(r'"(\w+\.py)"', pathlib.Path(__file__).read_text()))
    assert {p.name for p in EXAMPLES.glob("*.py")} <= tested


def test_layers_tour_smoke(tmp_path, run_in_process):
    out = run_in_process("layers_tour.py", "--smoke", "--out", str(tmp_path), cwd=tmp_path)
    assert "reloaded model gives identical logits: True" in out
    for check in ("from appending source padding", "before a changed target token"):
        change = re.search(rf"max change {check}: (\S+)", out)
        assert change and float(change.group(1)) < 1e-5, out
    assert (tmp_path / "reverser.keras").exists()


def test_self_attention_walkthrough(tmp_path, run_in_process):
    out = run_in_process("self_attention_walkthrough.py", "--out", str(tmp_path), cwd=tmp_path)
    assert "weights = softmax(scores) (5, 5)" in out and "row sums: [1. 1. 1. 1. 1.]" in out
    assert (tmp_path / "self_attention.png").stat().st_size > 5000


def test_translate_dates_smoke(tmp_path, run_in_process):
    out = run_in_process("translate_dates.py", "--smoke", "--out", str(tmp_path), cwd=tmp_path)
    assert "test: exact match" in out and (tmp_path / "attention.png").exists()


def test_own_corpus_smoke(tmp_path, run_in_process):
    out = run_in_process("own_corpus.py", "--smoke", "--out", str(tmp_path), cwd=tmp_path)
    assert "finished: validation token accuracy" in out
    assert (tmp_path / "numbers.tsv").exists() and (tmp_path / "run" / "model.keras").exists()


@pytest.mark.parametrize("script", ["tune.py", "export_and_serve.py"])
def test_search_and_export_examples_smoke(script, tmp_path, run_in_process):
    # export_and_serve.py still serves from a fresh interpreter of its own (its client).
    out = run_in_process(script, "--smoke", "--out", str(tmp_path), cwd=tmp_path)
    if script == "tune.py":
        assert "| trial | status | score |" in out and "winner:" in out
    else:
        assert "keras_transformer imported by the client: False" in out


def test_language_model_smoke(tmp_path):
    out = _run("language_model.py", "--smoke", "--out", str(tmp_path), cwd=tmp_path)
    assert "--block-size" in out and "corpus 'python-docs'" in out  # the rule's choices
    assert re.search(r"validation: perplexity \d+\.\d+ per token, \d+\.\d+ bits per char", out)
    change = re.search(r"max logit change before it: (\S+), from it on: (\S+)", out)
    assert change and float(change.group(1)) < 1e-5 < float(change.group(2)), out
    assert "causality check passed: True" in out
    assert out.count("greedy  '") == 3 and out.count("sampled '") == 3
    assert "same greedy text as in-process: True" in out
    assert (tmp_path / "run" / "model.keras").exists()


def test_classifier_smoke(tmp_path):
    out = _run("classifier.py", "--smoke", "--out", str(tmp_path), cwd=tmp_path)
    assert "corpus 'date-validity'" in out and "labels ['impossible', 'real']" in out
    assert re.search(r"test: accuracy \d+\.\d%, macro-F1 \d\.\d{3} on 100 examples", out)
    assert re.search(r"impossible: precision \d\.\d{3}, recall \d\.\d{3}", out)
    assert "'29 février 2020' -> " in out and "padding check passed: True" in out
    assert "same labels as in-process: True" in out
    plot = tmp_path / "run" / "confusion_matrix_test.png"
    assert f"confusion matrix plot: {plot}" in out and plot.stat().st_size > 1000
