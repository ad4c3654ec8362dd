"""The default command on real text (English -> Japanese Tatoeba lines), end to end:
train with no flag but a few steps, then translate, evaluate and export must agree."""

import io
import json
import logging
import pathlib
import subprocess
import sys
import textwrap

import pytest

from keras_transformer import cli

# One process runs this file: its module fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_real_text")

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "eng-jpn-300.tsv"
SOURCES = ["I'm hungry.", "Where is the station?", "He didn't come yesterday."]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The default command's run and what it logged (at INFO, as the command prints it)."""
    out = tmp_path_factory.mktemp("real_text") / "run"
    logger = logging.getLogger("keras_transformer")
    records = io.StringIO()
    handler = logging.StreamHandler(records)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        # The default command, shortened: one epoch of three steps, a small validation
        # sample, one layer on each side.
        code = cli.main([
            "train", "--corpus", str(FIXTURE), "--out", str(out),
            "--epochs", "1", "--steps-per-epoch", "3", "--validation-sample", "8",
            "--num-layers", "1",
        ])  # fmt: skip
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert code == 0
    return out, records.getvalue()


@pytest.fixture(scope="module")
def default_run(trained):
    return trained[0]


def test_the_default_command_chooses_subwords_and_a_shared_vocabulary(default_run, caplog):
    train_config = json.loads((default_run / "train_config.json").read_text())
    model_config = json.loads((default_run / "config.json").read_text())
    assert train_config["tokenizer"] == "sentencepiece"
    assert train_config["bleu_tokenize"] == "char"  # Japanese targets
    assert model_config["share_embeddings"] and model_config["tie_output_projection"]
    tokenizer = json.loads((default_run / "source_tokenizer.json").read_text())
    assert tokenizer["kind"] == "sentencepiece" and tokenizer["model_type"] == "unigram"
    history = json.loads((default_run / "history.json").read_text())
    assert {"val_bleu", "val_chrf", "cpu_seconds"} <= set(history[-1])
    status = json.loads((default_run / "run.json").read_text())
    assert status["status"] == "finished" and status["kept"].startswith("best epoch 1")


def test_the_choices_are_printed(trained):
    printed = trained[1]  # (the run of `default_run`: the flags given are its only choices)
    for expected in ("--tokenizer", "sentencepiece", "--warmup-steps", "--max-vocabulary-size",
                     "model: 1+1 layers, hidden 256"):  # fmt: skip
        assert expected in printed


def test_translate_evaluate_and_export_agree(default_run, tmp_path, capsys):
    assert cli.main(["translate", str(default_run), *SOURCES]) == 0
    translated = capsys.readouterr().out.splitlines()
    assert len(translated) == len(SOURCES)
    # (Without XLA: the evaluation's scores are not compared; translate and export use XLA.)
    argv = ["evaluate", str(default_run), "--json", "--limit", "5", "--no-jit-compile"]
    assert cli.main(argv) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["bleu_tokenize"] == "char" and results["sources"] == 5
    assert 0 <= results["loop_rate"] <= 1
    export_dir = tmp_path / "export"
    assert cli.main(["export", str(default_run), str(export_dir)]) == 0
    capsys.readouterr()
    # A fresh process with only TensorFlow and tensorflow-text: no keras_transformer import.
    script = textwrap.dedent(f"""
        import json, sys
        sys.modules["keras_transformer"] = None
        import tensorflow as tf, tensorflow_text  # noqa: F401
        model = tf.saved_model.load({str(export_dir)!r})
        out = model.translate(tf.constant({SOURCES!r}))
        print(json.dumps([t.decode("utf-8") for t in out.numpy()], ensure_ascii=False))
    """)  # fmt: skip
    process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert json.loads(process.stdout.strip().splitlines()[-1]) == translated
