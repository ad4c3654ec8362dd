"""The `evaluate` and `translate` commands on a trained run (`keras_transformer.cli`); the
`train`, `tune` and `export` commands are tested with their modules."""

import io
import json

import pytest

from keras_transformer import cli
from keras_transformer.run import Run

# One process runs this file: the session's `run_dir` is trained once for it (make test:
# --dist loadgroup). The commands decode without XLA (--no-jit-compile): each command loads
# a new translator, and XLA would compile its search again (tests/test_real_text.py runs
# the commands with XLA).
pytestmark = pytest.mark.xdist_group("test_commands")


def test_evaluate_command_json(run_dir, capsys):
    argv = ["evaluate", str(run_dir), "--split", "validation", "--beam-width", "2", "--json"]
    assert cli.main([*argv, "--no-jit-compile"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["split"] == "validation" and results["strategy"] == "beam"
    assert results["pairs"] == 32


def test_evaluate_command_table(run_dir, capsys):
    assert cli.main(["evaluate", str(run_dir), "--limit", "4", "--no-jit-compile"]) == 0
    out = capsys.readouterr().out
    assert "test split, 4 pairs (4 distinct sources, all their references), beam decoding" in out
    for name in ("bleu", "exact_match", "loop_rate", "masked_accuracy"):
        assert name in out


def test_translate_arguments_and_stdin(run_dir, capsys, monkeypatch):
    sources = [s for s, _ in Run.open(run_dir).splits.test[:3]]
    assert cli.main(["translate", str(run_dir), *sources, "--greedy", "--no-jit-compile"]) == 0
    from_arguments = capsys.readouterr().out.splitlines()
    assert len(from_arguments) == 3
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(sources) + "\n"))
    assert cli.main(["translate", str(run_dir), "--top-k", "1", "--no-jit-compile"]) == 0
    assert capsys.readouterr().out.splitlines() == from_arguments  # top-k 1 == greedy


def test_translate_plots_attention(run_dir, tmp_path, capsys):
    source = Run.open(run_dir).splits.test[0][0]
    plot = tmp_path / "attention.png"
    argv = ["translate", str(run_dir), source, "--plot-attention", str(plot), "--no-jit-compile"]
    assert cli.main(argv) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000


def test_conflicting_decoding_flags_and_missing_run(tmp_path, run_dir, capsys):
    assert cli.main(["translate", str(run_dir), "x", "--beam", "2", "--sample"]) == 2
    assert "Choose one of --greedy, --beam-width N, or sampling" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "nothing")]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_texts_may_follow_options(run_dir, capsys):
    sources = [s for s, _ in Run.open(run_dir).splits.test[:2]]
    assert cli.main(["translate", str(run_dir), *sources, "--greedy", "--no-jit-compile"]) == 0
    before_options = capsys.readouterr().out
    assert cli.main(["translate", str(run_dir), "--no-jit-compile", "--greedy", *sources]) == 0
    assert capsys.readouterr().out == before_options
    with pytest.raises(SystemExit):
        cli.main(["translate", str(run_dir), "--greedy", "x", "--no-such-flag"])
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err
