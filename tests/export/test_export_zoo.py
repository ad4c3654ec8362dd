"""SavedModel exports of a language model and of classifiers (single texts and pairs),
loaded in a process that cannot import keras_transformer."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.data.labelled import encode_texts
from keras_transformer.data.text import make_block_dataset
from keras_transformer.data.tokenizers import CharacterTokenizer
from keras_transformer.decoding import DecodingOptions
from keras_transformer.decoding.generator import Generator
from keras_transformer.export import export_classifier, export_language_model
from keras_transformer.export.target import EXPORT_MARKER
from keras_transformer.models.classifier import Classifier, ClassifierConfig
from keras_transformer.models.language_model import LanguageModel, LanguageModelConfig
from keras_transformer.training import MaskedSparseCategoricalCrossentropy
from tests.export._loader import PREAMBLE

# One process runs this file: its module fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_export_zoo")

SENTENCES = ["the cat sat on the mat.", "a dog ran in the park.", "the bird sang a song."]
SEQUENCE_LENGTH = 24
MAX_NEW_TOKENS = 12
# Prompts of different lengths ("" is [START] alone); the last is as long as the model.
PROMPTS = ["the ", "a dog", "", "the bird sang", "the cat sat on the mat. t"]
FITTING = PROMPTS[:-1]
TEXTS = ["the cat", "", "a dog ran in the park. " * 3, "the bird sang"]  # 3rd: truncated
PAIRS_A = ["the cat", "a dog", "", "the bird sang a song."]
PAIRS_B = ["sat on the mat.", "", "ran", "the cat sat on the mat. " * 2]
LABELS = {"single": ["negative", "neutral", "positive"], "pairs": ["different", "same"]}

# Runs in a fresh interpreter: keras_transformer is blocked, only tensorflow and
# tensorflow_text are imported. Prints what the exports return as JSON.
LOADER = (
    PREAMBLE
    + """

def strings(tensor):
    return [t.decode("utf-8") for t in tensor.numpy()]

paths, inputs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
results = {}
for name in ("greedy", "beam"):
    model = tf.saved_model.load(paths[name])
    results[name] = strings(model.generate(tf.constant(inputs["prompts"])))
    served = model.signatures["serving_default"](prompt=tf.constant(inputs["prompts"]))
    results[name + "-serving"] = strings(served["text"])
    results[name + "-new-tokens"] = served["new_tokens"].numpy().tolist()
    results[name + "-empty"] = strings(model.generate(tf.constant([], tf.string)))
for name, arguments in (("single", [inputs["texts"]]),
                        ("pairs", [inputs["pairs_a"], inputs["pairs_b"]])):
    model = tf.saved_model.load(paths[name])
    tensors = [tf.constant(a) for a in arguments]
    out = model.classify(*tensors)
    results[name] = {"labels": strings(model.labels), "label": strings(out["label"]),
                     "probabilities": out["probabilities"].numpy().tolist()}
    keys = ("text",) if name == "single" else ("text_a", "text_b")
    served = model.signatures["serving_default"](**dict(zip(keys, tensors)))
    results[name + "-serving"] = {"label": strings(served["label"]),
                                  "probabilities": served["probabilities"].numpy().tolist()}
    empty = model.classify(*[tf.constant([], tf.string)] * len(tensors))
    results[name + "-empty"] = list(empty["probabilities"].shape)
results["keras_transformer_imported"] = "keras_transformer" in sys.modules
print(json.dumps(results))
"""
)


@pytest.fixture(scope="module")
def tokenizer():
    return CharacterTokenizer.learn(SENTENCES)


@pytest.fixture(scope="module")
def language_model(tokenizer):
    """A one-layer model fit on three sentences, enough for greedy text that is not all
    [END] (1 layer of 16, 2 heads: sizes no other dimension shares)."""
    keras.utils.set_random_seed(0)
    config = LanguageModelConfig(
        vocabulary_size=tokenizer.vocabulary_size, sequence_length=SEQUENCE_LENGTH,
        hidden_dim=16, intermediate_dim=40, num_heads=2, num_layers=1, dropout=0.0,
    )  # fmt: skip
    model = LanguageModel(config)
    model.compile(keras.optimizers.Adam(1e-2), MaskedSparseCategoricalCrossentropy())
    data = make_block_dataset(SENTENCES * 20, tokenizer, SEQUENCE_LENGTH, 8).repeat()
    history = model.fit(data, epochs=1, steps_per_epoch=150, verbose=0)
    assert history.history["loss"][-1] < 2.0  # it learnt something of the sentences
    return model


def _classifier(tokenizer, **overrides):
    keras.utils.set_random_seed(1)
    values = dict(vocabulary_size=tokenizer.vocabulary_size, num_heads=2, num_layers=1,
                  dropout=0.0)  # fmt: skip
    return Classifier(ClassifierConfig(**{**values, **overrides}))


# Sizes no other dimension shares: 3 classes of width 12, and pairs: 2 classes of width 10.
SINGLE = dict(num_classes=3, sequence_length=20, hidden_dim=12, intermediate_dim=28)
PAIRS = dict(num_classes=2, sequence_length=28, hidden_dim=10, intermediate_dim=18,
             segments=2, pooling="mean")  # fmt: skip


@pytest.fixture(scope="module")
def classifiers(tokenizer):
    return {"single": _classifier(tokenizer, **SINGLE), "pairs": _classifier(tokenizer, **PAIRS)}


@pytest.fixture(scope="module")
def exports(language_model, tokenizer, classifiers, tmp_path_factory):
    directory = tmp_path_factory.mktemp("zoo")
    # Keyword fields, and DecodingOptions: beam search with its options, without XLA.
    greedy = dict(strategy="greedy", max_new_tokens=MAX_NEW_TOKENS)
    beam = DecodingOptions(strategy="beam", beam_width=2, alpha=0.3, max_new_tokens=MAX_NEW_TOKENS,
                           jit_compile=False)  # fmt: skip
    paths = {
        "greedy": export_language_model(language_model, tokenizer, directory / "greedy", **greedy),
        "beam": export_language_model(language_model, tokenizer, directory / "beam", beam),
    }
    for name, model in classifiers.items():
        paths[name] = export_classifier(model, tokenizer, LABELS[name], directory / name)
    return paths


@pytest.fixture(scope="module")
def loaded(exports):
    inputs = {"prompts": PROMPTS, "texts": TEXTS, "pairs_a": PAIRS_A, "pairs_b": PAIRS_B}
    result = subprocess.run(
        [sys.executable, "-c", LOADER, json.dumps({k: str(p) for k, p in exports.items()}),
         json.dumps(inputs)],
        capture_output=True, text=True, timeout=300, check=False,
        cwd=exports["greedy"].parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])
    assert results["keras_transformer_imported"] is False
    return results


def test_language_model_export_generates_like_the_generator(language_model, tokenizer, loaded):
    generator = Generator(language_model, tokenizer)
    expected = generator.generate(FITTING, max_new_tokens=MAX_NEW_TOKENS, strategy="greedy")
    assert loaded["greedy"][:-1] == expected
    assert any(len(text) > len(prompt) for text, prompt in zip(expected, FITTING, strict=True))
    assert loaded["greedy-serving"] == loaded["greedy"]
    assert loaded["greedy-empty"] == loaded["beam-empty"] == []
    beam = generator.generate(FITTING, DecodingOptions(strategy="beam", beam_width=2, alpha=0.3,
                                                       max_new_tokens=MAX_NEW_TOKENS,
                                                       jit_compile=False))  # fmt: skip
    assert loaded["beam"][:-1] == beam
    assert loaded["beam-serving"] == loaded["beam"]


def test_a_prompt_as_long_as_the_model_comes_back_unchanged(loaded):
    for name in ("greedy", "beam"):
        assert loaded[name][-1] == PROMPTS[-1]
        assert loaded[name + "-new-tokens"][-1] == 0
        # "the bird sang": 14 tokens with [START], room for 24 - 14 + 1 = 11 < 12 new ones.
        assert 0 < loaded[name + "-new-tokens"][3] <= SEQUENCE_LENGTH - 14 + 1
        assert all(0 < n <= MAX_NEW_TOKENS for n in loaded[name + "-new-tokens"][:-1])


@pytest.mark.parametrize("name", ["single", "pairs"])
def test_classifier_export_labels_like_the_model(name, classifiers, tokenizer, loaded):
    model = classifiers[name]
    if name == "single":
        inputs = encode_texts(tokenizer, tf.constant(TEXTS), model.sequence_length)
    else:
        inputs = encode_texts(tokenizer, tf.constant(PAIRS_A), model.sequence_length,
                              second=tf.constant(PAIRS_B))  # fmt: skip
    expected = np.asarray(model(inputs, training=False))
    exported = loaded[name]
    assert exported["labels"] == LABELS[name]
    probabilities = np.array(exported["probabilities"])
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)
    assert exported["label"] == [LABELS[name][i] for i in probabilities.argmax(axis=-1)]
    assert loaded[name + "-serving"]["label"] == exported["label"]
    np.testing.assert_allclose(loaded[name + "-serving"]["probabilities"], probabilities)
    assert loaded[name + "-empty"] == [0, len(LABELS[name])]


def test_existing_exports_are_kept_unless_overwrite(language_model, tokenizer, classifiers,
                                                    tmp_path):  # fmt: skip
    target = tmp_path / "export"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_language_model(language_model, tokenizer, target)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_classifier(classifiers["single"], tokenizer, LABELS["single"], target)
    with pytest.raises(FileExistsError, match=r"other files \(mine\.txt\).*Nothing was removed"):
        export_language_model(language_model, tokenizer, target, overwrite=True)
    assert (target / "mine.txt").read_text() == "keep me"
    (target / "mine.txt").unlink()
    export_classifier(classifiers["single"], tokenizer, LABELS["single"], target, overwrite=True)
    # An earlier export is replaced.
    export_language_model(language_model, tokenizer, target, max_new_tokens=4, overwrite=True)
    assert (target / "saved_model.pb").exists() and (target / EXPORT_MARKER).is_file()
    assert sorted(p.name for p in (target / "assets").iterdir()) == ["vocabulary.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # no staging directory left


def test_bad_arguments_are_clear_errors(language_model, tokenizer, classifiers, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"strategy='greedy' takes .*\['beam_width'\]"):
        export_language_model(language_model, tokenizer, out, strategy="greedy", beam_width=2)
    with pytest.raises(ValueError, match=r"strategy='sample' takes .*\['alpha'\]"):
        export_language_model(language_model, tokenizer, out, alpha=0.5)  # the default samples
    with pytest.raises(TypeError, match=r"\['beams'\] are not DecodingOptions fields"):
        export_language_model(language_model, tokenizer, out, beams=2)
    with pytest.raises(ValueError, match="strategy must be one of"):
        export_language_model(language_model, tokenizer, out, strategy="nucleus")
    with pytest.raises(ValueError, match="top_k=500"):
        export_language_model(language_model, tokenizer, out, strategy="sample", top_k=500)
    with pytest.raises(TypeError, match="received Classifier"):
        export_language_model(classifiers["single"], tokenizer, out)
    with pytest.raises(ValueError, match="3 distinct class names"):
        export_classifier(classifiers["single"], tokenizer, ["a", "b"], out)
    with pytest.raises(TypeError, match="received LanguageModel"):
        export_classifier(language_model, tokenizer, ["a", "b"], out)
    assert list(tmp_path.iterdir()) == []
