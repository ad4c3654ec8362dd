"""`kill -9` at each phase of a run and of an export, then the same command again: the run
resumes and finishes, its accounting counts every epoch and second, nothing of the user's
changes, and nothing is left behind (no copy of the user's text in the temporary directory,
no hidden staging file). Each killed process runs with a temporary directory of its own."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import pytest

from keras_transformer.data.tsv import write_tsv
from keras_transformer.run import Run

# The model and run of every case: a few seconds of training on 2 cores.
MODEL = dict(sequence_length=40, hidden_dim=16, intermediate_dim=32, num_heads=2, num_layers=1,
             dropout=0.0)  # fmt: skip
TRAIN = dict(epochs=3, batch_size=16, steps_per_epoch=3, warmup_steps=10,
             tokenizer="sentencepiece", max_vocabulary_size=300)  # fmt: skip


def _settings(task, phase=None):
    """Translation decodes a validation sample each epoch in the run killed while decoding
    it; in the others the decoding is off (its tracing is a third of such a run's time; they
    select by val_loss, as lm and classify do)."""
    train = {"task": task, **TRAIN}
    if task == "translate":
        train["validation_sample"] = 16 if phase == "decoding" else 0
    return {"model": MODEL, "train": train}


# Run in a child process: trains (or exports) and kills itself with SIGKILL at `phase`.
_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys, threading, time
    import keras
    from keras_transformer.run import Run
    from keras_transformer.training import TrainConfig, train

    phase, settings, corpus, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if phase == "tokenizer":  # once the SentencePiece learner runs
        def watch():
            while True:
                for task in os.listdir(f"/proc/{os.getpid()}/task"):
                    path = f"/proc/{os.getpid()}/task/{task}/children"
                    for child in open(path).read().split():
                        try:
                            command = open(f"/proc/{child}/cmdline", "rb").read()
                        except OSError:
                            continue
                        if b"_sentencepiece_learner" in command:
                            die()
                time.sleep(0.01)
        threading.Thread(target=watch, daemon=True).start()

    class Kill(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if phase == "epoch" and self.epoch == 1 and batch == 1:
                die()
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_test_begin(self, logs=None):
            if phase == "validation" and self.epoch == 1:
                die()

    if phase == "decoding":  # the validation sample's decoding, in epoch 2
        from keras_transformer.training.selection import ValidationScores
        score, calls = ValidationScores.score, []
        def dying_score(self, model=None):
            calls.append(1)
            if len(calls) == 2:
                die()
            return score(self, model)
        ValidationScores.score = dying_score

    if phase == "saving":  # half of model.keras written
        from keras_transformer.atomic import atomic_path
        def dying_save(run, model):
            with atomic_path(run.model_path) as temporary:
                temporary.write_bytes(b"PK half a model")
                die()
        Run.save_model = dying_save

    if phase == "export":
        import tensorflow as tf
        from keras_transformer.export import export_saved_model
        save = tf.saved_model.save
        def dying_save(module, directory, signatures=None):
            save(module, directory, signatures=signatures)
            die()
        tf.saved_model.save = dying_save
        export_saved_model(out, sys.argv[5], strategy="greedy", jit_compile=False)
    else:
        config = TrainConfig(corpus=corpus, out=out, **settings["train"])
        train(None, config, callbacks=[Kill()], verbose=0, model_overrides=settings["model"])
    print("not killed")
    """
)


def _kill_at(phase, tmp_path, corpus, out, *extra, task="translate"):
    temporary = tmp_path / "tmp"
    temporary.mkdir(exist_ok=True)
    environment = {**os.environ, "TMPDIR": str(temporary), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, phase, json.dumps(_settings(task, phase)), str(corpus),
         str(out), *map(str, extra)],
        env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr[-3000:]
    return temporary


def _corpus(tmp_path, task="translate"):
    numbers = [(f"the number {i} in words, {i % 7} times", f"le nombre {i}, {i % 7} fois")
               for i in range(300)]  # fmt: skip
    if task == "translate":
        path = tmp_path / "pairs.tsv"
        write_tsv(numbers, path)
    elif task == "lm":
        path = tmp_path / "documents.txt"
        path.write_text("".join(f"{a} {b}\n" for a, b in numbers), encoding="utf-8")
    else:
        path = tmp_path / "labelled.tsv"
        write_tsv([(a, "odd" if i % 2 else "even") for i, (a, _) in enumerate(numbers)], path)
    (tmp_path / "notes.txt").write_text("the user's own notes")
    return path


def _snapshot(directory, skip=("run", "tmp", "export")):
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.relative_to(directory).parts[0] not in skip
    }


def _hidden_leftovers(directory):
    return [str(p) for p in pathlib.Path(directory).rglob(".*") if ".tmp" in p.name]


def _resume(corpus, out, task="translate", phase=None):
    from keras_transformer.training import TrainConfig, train

    settings = _settings(task, phase)
    config = TrainConfig(corpus=str(corpus), out=str(out), **settings["train"])
    return train(None, config, verbose=0, model_overrides=settings["model"])


@pytest.mark.parametrize(
    "task, phase, trained",
    # epochs_trained: the passes over the data, a killed epoch's included
    [
        ("translate", "tokenizer", 3), ("translate", "epoch", 3),
        ("translate", "validation", 4), ("translate", "decoding", 4),
        ("translate", "saving", 3), ("lm", "tokenizer", 3), ("lm", "validation", 4),
        ("classify", "epoch", 3), ("classify", "validation", 4),
    ],
)  # fmt: skip
def test_a_run_killed_at_any_phase_resumes_and_leaves_nothing(tmp_path, task, phase, trained):
    corpus = _corpus(tmp_path, task)
    before = _snapshot(tmp_path)
    out = tmp_path / "run"
    temporary = _kill_at(phase, tmp_path, corpus, out, task=task)
    # No copy of the user's text (SentencePiece's input); TensorFlow's autograph leaves code.
    left = [p.name for p in temporary.iterdir() if not p.name.startswith("__autograph")]
    assert not left
    result = _resume(corpus, out, task, phase)
    assert result.status == "finished" and result.epochs == 3
    record = Run.open(out).status
    assert record["epochs"] == 3 and record["epochs_trained"] == trained
    processes = 1 if phase == "tokenizer" else 2  # killed before its first epoch began
    assert record["processes"] == processes
    accounting = json.loads((out / "accounting.json").read_text())["processes"]
    assert record["seconds"] == pytest.approx(sum(p["seconds"] for p in accounting))
    assert all(p["seconds"] > 0 for p in accounting)
    history = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert history[-1]["epochs_trained"] == trained
    assert history[-1]["seconds"] <= record["seconds"] + 1e-6
    if phase in ("epoch", "validation", "decoding"):  # the second process trained epoch 3
        assert history[-1]["seconds"] > accounting[0]["seconds"]  # the first process counted
    assert not _hidden_leftovers(out)
    assert _snapshot(tmp_path) == before


def test_an_export_killed_while_writing_leaves_nothing_the_next_one_keeps(tmp_path):
    corpus = _corpus(tmp_path)
    out = tmp_path / "run"
    _resume(corpus, out)
    before = _snapshot(tmp_path, skip=("tmp", "export"))
    _kill_at("export", tmp_path, corpus, out, tmp_path / "export")
    assert not (tmp_path / "export").exists()
    assert _hidden_leftovers(tmp_path)  # the killed export's staging ...
    from keras_transformer.export import export_saved_model

    export_saved_model(out, tmp_path / "export", strategy="greedy", jit_compile=False)
    assert not _hidden_leftovers(tmp_path)  # ... removed by the next export
    assert (tmp_path / "export" / "saved_model.pb").is_file()
    assert _snapshot(tmp_path, skip=("tmp", "export")) == before
