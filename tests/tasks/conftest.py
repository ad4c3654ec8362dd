"""The language-model and classifier runs trained through the command line, shared (once per
worker: their tests are one xdist group) by test_language_model.py and test_classification.py."""

import pytest

from keras_transformer import cli

TINY = ["--num-layers", "1", "--hidden-dim", "16", "--intermediate-dim", "32", "--num-heads", "2"]
DOCUMENTS = [
    "The cat sat on the mat and looked at the door.",
    "A dog ran in the park.\nIt barked at the birds.",
    "Birds sing in the morning when the sun comes up.",
    "The sun sets in the west and the stars come out.",
] * 12


@pytest.fixture(scope="session")
def lm_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("lm")
    text = directory / "stories.txt"
    text.write_text("\n\n".join(f"{d} ({i})" for i, d in enumerate(DOCUMENTS)), encoding="utf-8")
    out = directory / "run"
    argv = ["train", "--task", "lm", "--corpus", str(text), "--out", str(out), "--epochs", "1",
            "--tokenizer", "character", "--sequence-length", "32", "--validation-fraction",
            "0.1", "--test-fraction", "0.1", *TINY]  # fmt: skip
    assert cli.main(argv) == 0
    return out


@pytest.fixture(scope="session")
def classifier_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("classifier") / "run"
    argv = ["train", "--task", "classify", "--out", str(out), "--epochs", "1", "--train-size",
            "64", "--validation-size", "16", "--test-size", "32", *TINY]  # fmt: skip
    assert cli.main(argv) == 0
    return out
