"""Scores, `evaluate_run`, and the `evaluate` / `translate` commands on a trained run."""

import io
import json

import pytest

from keras_transformer import cli
from keras_transformer.evaluation import (
    corpus_scores,
    evaluate_run,
    exact_match,
    group_references,
    is_looping,
)
from keras_transformer.training import load_run


def test_scores_of_perfect_and_wrong_translations():
    perfect = corpus_scores(["2021-03-04", "1999-12-31"], ["2021-03-04", "1999-12-31"])
    assert perfect == {
        "bleu": pytest.approx(100.0),
        "chrf": pytest.approx(100.0),
        "exact_match": 1.0,
        "loop_rate": 0.0,
    }
    wrong = corpus_scores(["abc", "def"], ["2021-03-04", "1999-12-31"])
    assert wrong["exact_match"] == 0.0 and wrong["chrf"] < 10
    with pytest.raises(ValueError, match="pair up"):
        exact_match(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="bleu_tokenize must be one of"):
        corpus_scores(["a"], ["a"], bleu_tokenize="words")


def test_several_references_per_source():
    pairs = [("Hi.", "Salut !"), ("Go.", "Va !"), ("Hi.", "Bonjour !")]
    sources, references = group_references(pairs)
    assert sources == ["Hi.", "Go."] and references == [["Salut !", "Bonjour !"], ["Va !"]]
    hypotheses = ["Bonjour !", "Va !"]
    assert corpus_scores(hypotheses, references)["exact_match"] == 1.0
    one_reference = corpus_scores(hypotheses, [refs[0] for refs in references])
    assert corpus_scores(hypotheses, references)["chrf"] > one_reference["chrf"]
    # Japanese scored by characters: one wrong character of six is not a zero.
    japanese = corpus_scores(["私は学生です"], [["私は先生です"]], bleu_tokenize="char")
    assert 0 < japanese["bleu"] < 100


def test_loops_are_detected():
    looping = ["Il a fait de la compppppppu", "été été été", "Nous devons recompompompomp"]
    fine = ["Il a dit : non, non.", "Aaah !", "2021-03-04", "私は学生です。"]
    assert all(map(is_looping, looping)) and not any(map(is_looping, fine))


def test_evaluate_run_reports_all_scores(run_dir):
    results = evaluate_run(run_dir, split="test", progress=False)
    assert results["pairs"] == 16 and results["strategy"] == "beam"  # the default
    assert results["sources"] == 16 and results["bleu_tokenize"] == "13a"
    for name in ("bleu", "chrf"):
        assert 0 <= results[name] <= 100
    assert 0 <= results["exact_match"] <= 1 and 0.5 < results["masked_accuracy"] <= 1
    assert 0 <= results["loop_rate"] <= 1
    example = results["examples"][0]
    assert example["references"] == [load_run(run_dir)[4].test[0][1]]


def test_evaluate_command_json(run_dir, capsys):
    assert (
        cli.main(["evaluate", str(run_dir), "--split", "validation", "--beam", "2", "--json"]) == 0
    )
    results = json.loads(capsys.readouterr().out)
    assert results["split"] == "validation" and results["strategy"] == "beam"
    assert results["pairs"] == 32


def test_evaluate_command_table(run_dir, capsys):
    assert cli.main(["evaluate", str(run_dir), "--limit", "4"]) == 0
    out = capsys.readouterr().out
    assert "test split, 4 pairs (4 distinct sources, all their references), beam decoding" in out
    for name in ("bleu", "exact_match", "loop_rate", "masked_accuracy"):
        assert name in out


def test_translate_arguments_and_stdin(run_dir, capsys, monkeypatch):
    sources = [s for s, _ in load_run(run_dir)[4].test[:3]]
    assert cli.main(["translate", str(run_dir), *sources, "--greedy"]) == 0
    from_arguments = capsys.readouterr().out.splitlines()
    assert len(from_arguments) == 3
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(sources) + "\n"))
    assert cli.main(["translate", str(run_dir), "--top-k", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == from_arguments  # top-k 1 == greedy


def test_translate_plots_attention(run_dir, tmp_path, capsys):
    source = load_run(run_dir)[4].test[0][0]
    plot = tmp_path / "attention.png"
    assert cli.main(["translate", str(run_dir), source, "--plot-attention", str(plot)]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000


def test_cross_attention_weights_are_distributions_over_the_source(run_dir):
    from keras_transformer.decoding import Translator

    source = load_run(run_dir)[4].test[1][0]
    _, source_tokens, target_tokens, weights = Translator.from_run(run_dir).cross_attention(source)
    assert "".join(source_tokens) == source
    assert weights.shape == (4, len(target_tokens), len(source_tokens))
    assert abs(weights.sum(-1) - 1).max() < 1e-3


def test_conflicting_decoding_flags_and_missing_run(tmp_path, run_dir, capsys):
    assert cli.main(["translate", str(run_dir), "x", "--beam", "2", "--sample"]) == 2
    assert "Choose beam search" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "nothing")]) == 2
    assert "not a run directory" in capsys.readouterr().err
