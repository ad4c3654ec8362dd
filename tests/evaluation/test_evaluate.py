"""`evaluate_run` on a trained run directory (the shared `run_dir` fixture)."""

from keras_transformer.evaluation.evaluate import evaluate_run
from keras_transformer.run import Run


def test_evaluate_run_reports_all_scores(run_dir):
    results = evaluate_run(run_dir, split="test", progress=False)
    assert results["pairs"] == 16 and results["strategy"] == "beam"  # the default
    assert results["sources"] == 16 and results["bleu_tokenize"] == "13a"
    for name in ("bleu", "chrf"):
        assert 0 <= results[name] <= 100
    assert 0 <= results["exact_match"] <= 1 and 0.5 < results["masked_accuracy"] <= 1
    assert 0 <= results["loop_rate"] <= 1
    example = results["examples"][0]
    assert example["references"] == [Run.open(run_dir).splits.test[0][1]]
