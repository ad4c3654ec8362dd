"""Trained under TensorFlow, used under JAX: the same tiny runs (translation, language model,
classifier) translate and continue prompts (greedy, beam search, sampling) and classify
alike on both backends. The tokenizers stay tensorflow-text's, on the host; the
searches and the models run on the backend."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from keras_transformer.training import TrainConfig, train

# One process runs this file: its fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_backends_agree")

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = dict(num_layers=1, hidden_dim=16, intermediate_dim=32, num_heads=2)
DOCUMENTS = [
    "The cat sat on the mat and looked at the door.",
    "A dog ran in the park. It barked at the birds.",
    "Birds sing in the morning when the sun comes up.",
] * 8

# What each backend computes from the run directories (the same code on both sides).
OUTPUTS = """
import json
import pathlib

import keras

from keras_transformer.data.tokenizers import Tokenizer
from keras_transformer.decoding import DecodingOptions, Generator, Translator
from keras_transformer.prediction import TextClassifier

SOURCES = ["jeudi 4 mars 2021", "3/4/2021", "", "le 12 janvier 1999"]
PROMPTS = ["The cat", "A dog r", "Birds s"]  # as long: one compiled search per strategy
TEXTS = ["the cat sat", "", "a dog ran in the park", "birds sing"]


def outputs(root):
    root = pathlib.Path(root)

    def load(run):
        return keras.saving.load_model(root / run / "model.keras", compile=False)

    def tokenizer(run, name="tokenizer.json"):
        return Tokenizer.load(root / run / name)

    out = {"backend": keras.backend.backend()}
    translator = Translator(load("translate"), tokenizer("translate", "source_tokenizer.json"),
                            tokenizer("translate", "target_tokenizer.json"))
    generator = Generator(load("lm"), tokenizer("lm"))
    # jax.jit under JAX; TensorFlow's graph without XLA (XLA against no XLA:
    # tests/decoding/test_search.py), which compiles faster for a few sentences.
    jit_compile = keras.backend.backend() != "tensorflow"
    # A model trained two steps repeats one character: the n-gram ban makes it vary, and
    # sampling (at a high temperature) too; the draws are the same on every backend.
    for strategy in ("greedy", "beam", "sample"):
        options = DecodingOptions(strategy=strategy, beam_width=3, temperature=2.0, seed=1,
                                  max_length=12, no_repeat_ngram_size=2,
                                  jit_compile=jit_compile)
        out["translate_" + strategy] = translator.translate(SOURCES, options)
        options = options.replace(max_new_tokens=8, min_length=3)
        out["generate_" + strategy] = generator.generate(PROMPTS, options)
    labels = json.loads((root / "classify" / "labels.json").read_text())["labels"]
    classifier = TextClassifier(load("classify"), tokenizer("classify"), labels)
    texts = [(t, t[::-1]) for t in TEXTS] if classifier.pairs else TEXTS
    predictions = classifier.predict(texts)
    out["labels"] = [p.label for p in predictions]
    out["probabilities"] = [[p.probabilities[label] for label in labels] for p in predictions]
    return out
"""


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """A translation, a language-model and a classifier run, each trained two steps under
    TensorFlow (character tokenizers), in one directory: `translate`, `lm`, `classify`."""
    root = tmp_path_factory.mktemp("agree")
    text = root / "stories.txt"
    text.write_text("\n\n".join(f"{d} ({i})" for i, d in enumerate(DOCUMENTS)), encoding="utf-8")
    common = dict(epochs=1, steps_per_epoch=2, batch_size=8, tokenizer="character")
    sizes = dict(train_size=64, validation_size=8, test_size=8)
    configs = {
        # No decoding after the one epoch (nothing to select): the kept model is the same.
        "translate": TrainConfig(task="translate", corpus="dates", validation_sample=0,
                                 **sizes, **common),
        "lm": TrainConfig(task="lm", corpus=str(text), validation_fraction=0.2,
                          test_fraction=0.1, **common),
        "classify": TrainConfig(task="classify", **sizes, **common),
    }  # fmt: skip
    for name, config in configs.items():
        train(None, config.replace(out=str(root / name)), verbose=0,
              model_overrides=dict(TINY, sequence_length=32))  # fmt: skip
    return root


def _start(backend, root):
    """A process computing `outputs(root)` under `backend` (read with `_result`)."""
    script = OUTPUTS + "\nimport sys\nprint('RESULT ' + json.dumps(outputs(sys.argv[1])))\n"
    environment = dict(os.environ, KERAS_BACKEND=backend)
    return subprocess.Popen(
        [sys.executable, "-c", script, str(root)], cwd=ROOT, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _result(process):
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stdout[-2000:] + stderr[-4000:]
    line = next(x for x in stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_the_runs_decode_and_classify_alike_under_tensorflow_and_jax(tiny_runs):
    process = _start("jax", tiny_runs)  # meanwhile, the same code here, under TensorFlow
    try:
        namespace = {}
        exec(OUTPUTS, namespace)
        expected = namespace["outputs"](tiny_runs)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    jax = _result(process)
    assert expected["backend"] == "tensorflow"
    assert jax["backend"] == "jax"
    for task in ("translate", "generate"):
        for strategy in ("greedy", "beam", "sample"):
            name = f"{task}_{strategy}"
            assert jax[name] == expected[name], name
            assert all(isinstance(t, str) for t in expected[name])
    for prompt, text in zip(namespace["PROMPTS"], expected["generate_greedy"], strict=True):
        assert text.startswith(prompt) and len(text) > len(prompt)
    assert jax["labels"] == expected["labels"]
    np.testing.assert_allclose(jax["probabilities"], expected["probabilities"], atol=1e-5)
