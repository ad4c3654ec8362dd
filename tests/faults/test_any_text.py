"""Every task's run is resumable and evaluable on any valid UTF-8 text: line and paragraph
separators other than a newline, NUL, a byte order mark and CRLF line ends in the corpus."""

import json

from keras_transformer import cli
from keras_transformer.run import Run

TINY = ["--num-layers", "1", "--hidden-dim", "16", "--intermediate-dim", "32", "--num-heads",
        "2", "--tokenizer", "character", "--sequence-length", "32", "--batch-size", "8",
        "--validation-fraction", "0.2", "--test-fraction", "0.2"]  # fmt: skip
# What str.splitlines() cuts at but a line of a text file does not end with.
ODD = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x00", "\ufeff"]


def _texts(count):
    return [f"text {i} says{ODD[i % len(ODD)]}more {'ab' * (i % 5)} here" for i in range(count)]


def _write(path, lines):
    # A byte order mark first and CRLF line ends, as an editor on Windows writes them.
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")


def _train_twice(argv, out):
    assert cli.main([*argv, "--epochs", "1"]) == 0
    (out / "run.json").unlink()  # as if it had been killed before the end: resumable
    assert cli.main([*argv, "--epochs", "2"]) == 0  # reads its splits back
    return Run.open(out)


def test_a_language_model_run_on_odd_text_resumes_and_evaluates(tmp_path, capsys):
    corpus = tmp_path / "odd.txt"
    _write(corpus, _texts(60))
    out = tmp_path / "lm"
    run = _train_twice(["train", "--task", "lm", "--corpus", str(corpus), "--out", str(out),
                        *TINY], out)  # fmt: skip
    documents = run.splits.train + run.splits.validation + run.splits.test
    assert sorted(documents) == sorted(_texts(60))  # no BOM, no \r, nothing cut
    assert run.status["epochs"] == 2 and run.status["processes"] == 2
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == len(run.splits.test)


def test_a_classifier_run_on_odd_text_resumes_and_evaluates(tmp_path, capsys):
    corpus = tmp_path / "odd.tsv"
    texts = _texts(80)
    _write(corpus, [f"{t}\t{'yes' if i % 2 else 'no'}" for i, t in enumerate(texts)])
    out = tmp_path / "classify"
    run = _train_twice(["train", "--task", "classify", "--corpus", str(corpus), "--out",
                        str(out), *TINY], out)  # fmt: skip
    examples = run.splits.train + run.splits.validation + run.splits.test
    assert sorted(e[0] for e in examples) == sorted(t.strip() for t in texts)
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == len(run.splits.test)
