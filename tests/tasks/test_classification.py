"""`train --task classify` through the run directory, and the commands that use its run
(`evaluate`, `classify`, `export`), as a user runs them (`keras_transformer.cli`; the runs
are tests/tasks/conftest.py's)."""

import io
import json
import logging

import pytest

from keras_transformer import cli
from keras_transformer.data.labelled import read_labelled
from keras_transformer.data.text import read_documents
from keras_transformer.predictors import load_predictor
from keras_transformer.run import Run
from keras_transformer.training import TrainConfig, train

pytestmark = pytest.mark.xdist_group("task_runs")


def test_a_classifier_run_evaluates_with_a_confusion_matrix(classifier_run, capsys):
    run = Run.open(classifier_run)
    assert run.task == "classify" and run.labels == ["impossible", "real"]
    assert run.model_config.num_classes == 2 and run.model_config.segments == 0
    assert cli.main(["evaluate", str(classifier_run), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["count"] == 32 and 0 <= results["accuracy"] <= 1
    assert set(results["per_class"]) == {"impossible", "real"}
    assert sum(map(sum, results["confusion"])) == 32
    png = classifier_run / "confusion_matrix_test.png"
    assert results["plot"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"


def test_classify_command_prints_label_and_probability(classifier_run, capsys, monkeypatch):
    assert cli.main(["classify", str(classifier_run), "31 April 1950", "30 April 1950"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].endswith("\t31 April 1950")
    label, probability, _ = lines[0].split("\t")
    assert label in ("impossible", "real") and 0.5 <= float(probability) <= 1
    monkeypatch.setattr("sys.stdin", io.StringIO("3/4/2021\n"))
    assert cli.main(["classify", str(classifier_run), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["text"] == "3/4/2021" and sum(row["probabilities"].values()) == pytest.approx(1)


def test_sentence_pairs_imbalance_and_balanced_class_weight(tmp_path, caplog, capsys):
    corpus = tmp_path / "pairs.tsv"
    rows = [f"the {w} sat\ta {w} sat\tsame" for w in ("cat", "dog", "owl", "fox")] * 30
    rows += [f"the {w} sat\ta {w} ran\tdifferent" for w in ("cat", "dog")] * 5
    corpus.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = TrainConfig(task="classify", corpus=str(corpus), out=str(tmp_path / "run"),
                         epochs=1, class_weight="balanced", tokenizer="character",
                         validation_fraction=0.2, test_fraction=0.2)  # fmt: skip
    overrides = {"num_layers": 1, "hidden_dim": 16, "intermediate_dim": 32, "num_heads": 2}
    with caplog.at_level(logging.INFO, logger="keras_transformer"):
        result = train(None, config, verbose=0, model_overrides=overrides)
    assert "imbalanced" in caplog.text and "Class weights (balanced)" in caplog.text
    run = Run.open(result.run_dir)
    assert run.model_config.segments == 2 and run.labels == ["different", "same"]
    assert json.loads((run.directory / "labels.json").read_text())["train_counts"][0] > 0
    assert cli.main(["classify", str(run.directory), "the cat sat\ta cat ran"]) == 0
    assert capsys.readouterr().out.endswith("\tthe cat sat\ta cat ran\n")
    assert cli.main(["classify", str(run.directory), "no tab here"]) == 2
    assert "text_a<TAB>text_b" in capsys.readouterr().err


def test_bad_inputs_are_clear_errors(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no text"):
        read_documents(str(empty))
    unlabelled = tmp_path / "unlabelled.tsv"
    unlabelled.write_text("good film\tpositive\nno label here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"unlabelled.tsv:2: no label column"):
        read_labelled(str(unlabelled))
    one_label = tmp_path / "one.tsv"
    one_label.write_text("a\tx\nb\tx\n" * 20, encoding="utf-8")
    with pytest.raises(ValueError, match="at least two labels"):
        train(None, TrainConfig(task="classify", corpus=str(one_label), out=str(tmp_path / "r")))
    argv = ["train", "--task", "lm", "--out", str(tmp_path / "x"), "--share-embeddings"]
    assert cli.main(argv) == 2
    assert "--share-embeddings: not a setting of the 'lm' task's model" in capsys.readouterr().err
    with pytest.raises(ValueError, match="block_size is a setting of task 'lm'"):
        TrainConfig(block_size=64)
    # Translation-only settings are refused by the other tasks, not silently ignored.
    translation_only = {"bleu_tokenize": "char", "validation_sample": 50, "average_last": 3,
                        "batch_tokens": 512, "padding": "fixed"}  # fmt: skip
    for name, value in translation_only.items():
        with pytest.raises(ValueError, match=f"{name} is a setting of task 'translate'"):
            TrainConfig(task="lm", **{name: value})
    assert TrainConfig(task="classify", average_last=0, validation_sample=500).task == "classify"
    argv = ["train", "--task", "classify", "--out", str(tmp_path / "y"), "--bleu-tokenize", "char"]
    assert cli.main(argv) == 2
    assert "(--bleu-tokenize), or train with task='translate'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="selection_metric must be one of"):
        TrainConfig(task="lm", selection_metric="chrf")


def test_export_command_follows_the_run_task(lm_run, classifier_run, tmp_path, capsys):
    import tensorflow as tf

    argv = ["export", str(lm_run), str(tmp_path / "lm"), "--greedy", "--max-new-tokens", "6"]
    assert cli.main(argv) == 0
    language_model = tf.saved_model.load(str(tmp_path / "lm"))  # kept: it owns the variables
    served = language_model.generate(tf.constant(["The cat", "Birds sing"])).numpy()
    served = [text.decode() for text in served]
    in_process = load_predictor(lm_run).generate(
        ["The cat", "Birds sing"], max_new_tokens=6, strategy="greedy"
    )
    assert served == in_process
    assert cli.main(["export", str(classifier_run), str(tmp_path / "classifier")]) == 0
    classifier = tf.saved_model.load(str(tmp_path / "classifier"))
    result = classifier.classify(tf.constant(["31 April 1950"]))
    prediction = load_predictor(classifier_run).predict(["31 April 1950"])[0]
    assert result["label"].numpy()[0].decode() == prediction.label
    assert float(result["probabilities"].numpy()[0].max()) == pytest.approx(
        prediction.probability, abs=1e-5
    )
