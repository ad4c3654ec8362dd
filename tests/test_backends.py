"""The layers, models and decoding searches on every Keras backend: without TensorFlow under
JAX and PyTorch (import, forward pass, `model.fit` on NumPy arrays, masking, causality, cache
== recompute, the fused logits' gradient, cached searches == the uncached oracle), `.keras`
files across backends (TensorFlow -> JAX -> PyTorch -> TensorFlow), the TensorFlow-only parts
failing clearly without it, benchmarks/gpu.py smoke-sized without it, and a subset of the
layer, model and decoding tests run under JAX and PyTorch."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_transformer as kt

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter (under KERAS_BACKEND=jax or torch) in which tensorflow (and
# tensorflow_text) is not installed, as far as imports can tell.
NO_TENSORFLOW = """
import sys

class Hide:
    # Wraps an import finder so that it finds nothing of TensorFlow: both an import and
    # importlib.util.find_spec (which torch's compiler calls) see it as not installed.
    def __init__(self, finder):
        self.finder = finder

    def __getattr__(self, name):
        return getattr(self.finder, name)

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tensorflow_text", "tf_keras"):
            return None
        return self.finder.find_spec(name, path, target)

sys.meta_path[:] = [Hide(finder) for finder in sys.meta_path]
"""

CHECKS = (
    NO_TENSORFLOW
    + """
import json
import os
import keras
import numpy as np
from keras import ops

import keras_transformer as kt
from keras_transformer import layers, models
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy
from keras_transformer.training.metrics import MaskedAccuracy

assert keras.backend.backend() == os.environ["KERAS_BACKEND"]
assert "tensorflow" not in sys.modules
out = {}
rng = np.random.default_rng(0)
keras.utils.set_random_seed(0)  # the same weights and dropout every run

# A Transformer: forward pass, padding invariance, model.fit on NumPy arrays.
config = kt.TransformerConfig.preset("tiny", vocabulary_size=30, sequence_length=16,
                                     num_layers=1, hidden_dim=16, intermediate_dim=32)
model = kt.Transformer(config)
source = rng.integers(3, 30, (4, 6)).astype("int32")
target = rng.integers(3, 30, (4, 5)).astype("int32")
logits = ops.convert_to_numpy(model({"encoder_inputs": source, "decoder_inputs": target}))
padded = np.pad(source, ((0, 0), (0, 3)))
logits_padded = ops.convert_to_numpy(model({"encoder_inputs": padded, "decoder_inputs": target}))
out["padding_change"] = float(np.abs(logits - logits_padded).max())
changed = target.copy(); changed[:, 3] = (changed[:, 3] + 1) % 30
later = ops.convert_to_numpy(model({"encoder_inputs": source, "decoder_inputs": changed}))
out["causal_change"] = float(np.abs(later[:, :3] - logits[:, :3]).max())

# Cache == recompute: decode_step position by position equals the full decoder.
encoder_outputs, source_mask = model.encode(source)
cache = model.initial_cache(encoder_outputs, 5)
steps = []
for index in range(5):
    step_logits, cache = model.decode_step(target[:, index:index + 1], index, cache, source_mask)
    steps.append(ops.convert_to_numpy(step_logits))
out["cache_change"] = float(np.abs(np.concatenate(steps, axis=1) - logits).max())

from keras_transformer.training.schedules import TransformerSchedule

schedule = TransformerSchedule(hidden_dim=16, warmup_steps=4, steps_per_update=2)
out["schedule"] = [float(ops.convert_to_numpy(schedule(step))) for step in (0, 1, 2, 7, 99)]
model.compile("adam", MaskedSparseCategoricalCrossentropy(0.1), metrics=[MaskedAccuracy()])
history = model.fit({"encoder_inputs": source, "decoder_inputs": target}, target, epochs=3,
                    batch_size=2, verbose=0)
out["fit_losses"] = history.history["loss"]

# A language model: causality; a classifier: padding invariance; both fit.
lm = kt.LanguageModel(kt.LanguageModelConfig.preset("tiny", vocabulary_size=30,
                                                    sequence_length=16, hidden_dim=16))
tokens = rng.integers(3, 30, (2, 8)).astype("int32")
base = ops.convert_to_numpy(lm(tokens))
changed = tokens.copy(); changed[:, 5] = (changed[:, 5] + 1) % 30
later = ops.convert_to_numpy(lm(changed))
out["lm_causal_change"] = float(np.abs(later[:, :5] - base[:, :5]).max())
# The schedule drives an optimizer that accumulates 2 batches per update.
optimizer = keras.optimizers.Adam(schedule, beta_2=0.98, epsilon=1e-9,
                                  gradient_accumulation_steps=2)
lm.compile(optimizer, MaskedSparseCategoricalCrossentropy(0.0))
out["lm_fit"] = lm.fit(tokens[:, :-1], tokens[:, 1:], batch_size=1, epochs=2,
                       verbose=0).history["loss"]
out["lm_updates"] = int(ops.convert_to_numpy(optimizer.iterations))
classifier = kt.Classifier(kt.ClassifierConfig.preset("tiny", vocabulary_size=30,
                                                     num_classes=3, hidden_dim=16))
ids = np.concatenate([np.full((2, 1), 2), tokens], axis=1).astype("int32")
probabilities = ops.convert_to_numpy(classifier(ids))
probabilities_padded = ops.convert_to_numpy(classifier(np.pad(ids, ((0, 0), (0, 4)))))
out["classifier_padding_change"] = float(np.abs(probabilities - probabilities_padded).max())

def batches():
    while True:
        yield ids, np.array([0, 2], "int32")

classifier.compile("adam", "sparse_categorical_crossentropy")
out["classifier_fit"] = classifier.fit(batches(), steps_per_epoch=2, epochs=1,
                                       verbose=0).history["loss"]

# The fused logits' hand-written gradient (training=True) equals automatic differentiation
# (training=False): one SGD step from the same weights gives the same weights.
from keras_transformer.layers import OutputProjection

class Unfused(OutputProjection):
    def call(self, inputs, training=None):
        return super().call(inputs, training=False)

hidden = rng.normal(size=(4, 3, 8)).astype("float32")
labels = rng.integers(0, 11, (4, 3)).astype("int32")
weights, trained = None, []
for projection in (OutputProjection(11), Unfused(11)):
    inputs = keras.Input((3, 8))
    head = keras.Model(inputs, projection(inputs))
    if weights is None:
        weights = [ops.convert_to_numpy(w) for w in head.weights]
    head.set_weights(weights)
    head.compile(keras.optimizers.SGD(0.5),
                 keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    head.fit(hidden, labels, batch_size=4, epochs=1, shuffle=False, verbose=0)
    trained.append([ops.convert_to_numpy(w) for w in head.weights])
out["fused_gradient_change"] = max(float(np.abs(a - b).max()) for a, b in zip(*trained))
out["fused_gradient_moved"] = min(float(np.abs(a - b).max()) for a, b in zip(trained[0], weights))

# The decoding searches need no TensorFlow: cached greedy, beam search and sampling equal
# the uncached oracle (which re-runs the whole model each step, not compiled), the cached
# searches compiled by the backend's compiler (jax.jit; PyTorch: eager).
from keras_transformer.decoding import cached_step, compile_search, decode, uncached_step

out["options"] = kt.DecodingOptions(strategy="sample", top_p=0.9).describe()
ids = source.copy()
ids[1, 3:] = 0
out["decoded"] = {}
for strategy, extra in (("greedy", {}), ("beam", {"beam_width": 3}),
                        ("sample", {"temperature": 2.0, "seed": 3})):
    results = []
    for step, jit in ((cached_step, True), (uncached_step, False)):
        search = compile_search(
            lambda x, step=step: decode(step, model, x, 8, strategy, max_length_a=1.0,
                                        max_length_b=2, min_length=2, **extra),
            jit, model=model)
        result = search(ids)
        results.append([ops.convert_to_numpy(result.ids).tolist(),
                        ops.convert_to_numpy(result.scores).tolist()])
    out["decoded"][strategy] = results
assert "tensorflow" not in sys.modules

# The parts built on tensorflow-text say they need TensorFlow.
try:
    kt.Translator
except ImportError as error:
    out["error_Translator"] = str(error)
try:
    from keras_transformer.decoding import Generator
except ImportError as error:
    out["error_Generator"] = str(error)
try:
    import keras_transformer.data
except ImportError as error:
    out["error_data"] = str(error)
import contextlib, io
from keras_transformer import cli
errors = io.StringIO()
with contextlib.redirect_stderr(errors):
    out["cli"] = [cli.main(["train", "--out", "x"]), errors.getvalue()]

# benchmarks/gpu.py, smoke-sized, in this process (no TensorFlow either): the arguments are
# its flags, the last one the JSON file it writes.
import runpy
sys.argv = ["gpu.py", "--smoke", *sys.argv[1:-1], "--json", sys.argv[-1]]
sys.path.insert(0, "benchmarks")
runpy.run_path("benchmarks/gpu.py", run_name="__main__")
with open(sys.argv[-1]) as file:
    out["gpu"] = json.load(file)
assert "tensorflow" not in sys.modules
print("RESULT " + json.dumps(out))
"""
)


BACKENDS = ["jax", "torch"]  # both in the test extra (torch: the 2.13 CPU build)


def _run(script, *arguments, backend):
    environment = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


# benchmarks/gpu.py's flags: what the GPU machine runs under JAX (compiled), and PyTorch's
# eager path (Keras's default there).
GPU_FLAGS = {
    "jax": ["--no-jit-off", "--cost-analysis", "--bandwidth", "4.8"],
    "torch": ["--no-jit-on"],
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_layers_and_models_run_without_tensorflow(backend, tmp_path):
    """The checks above, then benchmarks/gpu.py smoke-sized, in one process without
    TensorFlow."""
    out = _run(CHECKS, *GPU_FLAGS[backend], str(tmp_path / "gpu.json"), backend=backend)
    assert out["padding_change"] < 1e-5 and out["classifier_padding_change"] < 1e-5
    assert out["causal_change"] < 1e-5 and out["lm_causal_change"] < 1e-5
    assert out["cache_change"] < 1e-4
    assert out["fit_losses"][-1] < out["fit_losses"][0]
    assert np.isfinite(out["lm_fit"]).all() and np.isfinite(out["classifier_fit"]).all()
    assert out["lm_updates"] == 2  # 4 batches of 1, 2 updates (the schedule gets batches)
    assert out["fused_gradient_moved"] > 1e-3 and out["fused_gradient_change"] < 1e-5
    # The paper's schedule, counting updates of 2 batches: 16^-0.5 * min(n^-0.5, n * 4^-1.5).
    expected = [0.25 * min(n**-0.5, n * 4**-1.5) for n in (1, 1, 2, 4, 50)]
    np.testing.assert_allclose(out["schedule"], expected, rtol=1e-6)
    assert out["options"] == "nucleus sampling, top-p 0.9, temperature 1, seed 0"
    for strategy, results in out["decoded"].items():
        (ids, scores), *others = results
        assert len(ids) == 4 and all(2 <= sum(t != 0 for t in row) <= 8 for row in ids)
        for other_ids, other_scores in others:  # the uncached oracle
            assert other_ids == ids, strategy
            np.testing.assert_allclose(other_scores, scores, atol=1e-4, err_msg=strategy)
    for name in ("error_Translator", "error_Generator", "error_data"):
        assert "needs TensorFlow" in out[name] and "pip install" in out[name], out[name]
        assert "keras_transformer.layers" in out[name]
    code, message = out["cli"]
    assert code == 2 and "keras-transformer: error:" in message and "needs TensorFlow" in message
    results = out["gpu"]
    assert results["backend"] == backend
    (row,) = [r for r in results["training"] if r["precision"] == "float32"]
    assert row["jit"] == (backend == "jax") and row["ms_per_step"] > 0 and 0 < row["mfu"] < 1
    if backend == "jax":  # XLA's estimate of the compiled step, and the time bandwidth allows
        assert row["xla_flops"] > 0.5 * row["tflops"] * row["ms_per_step"] * 1e9
        assert row["xla_bytes"] > 0 and row["memory_bound_ms"] > 0
    generated = {
        (r["precision"], r["batch"]): r["tokens_per_second"] for r in results["generation"]
    }
    assert len(generated) == 4 and min(generated.values()) > 0


LOAD = (
    NO_TENSORFLOW
    + """
import json
import keras
import numpy as np
from keras import ops

import keras_transformer  # noqa: F401  (registers the classes)

path, inputs_path, save_path = sys.argv[1:4]
model = keras.saving.load_model(path)
inputs = dict(np.load(inputs_path))
logits = ops.convert_to_numpy(model(inputs))
model.save(save_path)
print("RESULT " + json.dumps(logits.tolist()))
"""
)


def test_keras_files_cross_backends(tmp_path):
    """Saved under TensorFlow, loaded under JAX with the same outputs; saved again there,
    loaded under PyTorch, the same outputs; saved again and loaded back under TensorFlow, the
    same outputs again."""
    config = kt.TransformerConfig.preset("tiny", vocabulary_size=40, sequence_length=16,
                                         hidden_dim=32, num_layers=1)  # fmt: skip
    model = kt.Transformer(config)
    rng = np.random.default_rng(2)
    inputs = {"encoder_inputs": rng.integers(3, 40, (2, 7)).astype("int32"),
              "decoder_inputs": rng.integers(3, 40, (2, 5)).astype("int32")}  # fmt: skip
    inputs["encoder_inputs"][0, 5:] = 0
    expected = keras.ops.convert_to_numpy(model(inputs))
    model.save(tmp_path / "tensorflow.keras")
    np.savez(tmp_path / "inputs.npz", **inputs)
    saved = "tensorflow"
    for backend in BACKENDS:
        outputs = _run(LOAD, str(tmp_path / f"{saved}.keras"), str(tmp_path / "inputs.npz"),
                       str(tmp_path / f"{backend}.keras"), backend=backend)  # fmt: skip
        np.testing.assert_allclose(np.array(outputs), expected, atol=1e-5, err_msg=backend)
        saved = backend
    back = keras.saving.load_model(tmp_path / f"{saved}.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(back(inputs)), expected, atol=1e-5)


# The layer, model and decoding tests that use no TensorFlow themselves (they use keras.ops),
# one pytest process per backend: a representative subset covering attention, the blocks,
# masks, embeddings, the Transformer and the Classifier, the exhaustive-search check of beam
# search, the n-gram ban and cache == recompute. Not run here, because the other tests of
# this file check the same thing on both backends: tests/layers/test_serialization.py and
# tests/models/test_config.py (.keras files: test_keras_files_cross_backends and the kept
# round trips; the configs touch no backend), the classifier learning a task (model.fit:
# test_layers_and_models_run_without_tensorflow), its padding check with cls pooling alone
# (the same check there; [pairs] pools the first token too) and the Transformer's cache ==
# recompute searches (test_layers_and_models_run_without_tensorflow's "decoded": the cached
# searches compiled against the uncached oracle, for all three strategies).
ANY_BACKEND = [
    "tests/layers/test_attention.py", "tests/layers/test_encoder_block.py",
    "tests/layers/test_feed_forward.py", "tests/layers/test_masks.py",
    "tests/layers/test_positional_embedding.py",
    "tests/models/test_transformer.py", "tests/models/test_classifier.py",
    "tests/decoding/test_beam_exhaustive.py", "tests/decoding/test_no_repeat.py",
    "tests/decoding/test_cache_equals_recompute.py",
]  # fmt: skip
NOT_HERE = (
    "not learns_a_task_that_needs_the_order and not a_transformer_decodes_alike and "
    "not padding_never_changes_the_prediction[cls]"
)
# Under JAX, whose every loop is compiled by XLA, a subset of the decoding tests: one case of
# each kind.
JAX_SEARCH = (
    "optimum and 0-0.6 or narrow and 3-2 or greedy and 5 or goes_on or unfinished or "
    "no_ngram and 1-greedy or no_ngram and 2-beam or no_ngram and 3-sample or loops and greedy"
)
SUBSET = {
    "torch": NOT_HERE,
    "jax": f"{NOT_HERE} and (not test_beam_exhaustive and not test_no_repeat or "
    f"({JAX_SEARCH})) and (not test_cache_equals_recompute or greedy or beam)",
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_and_model_tests_pass_under(backend):
    """The layer and model tests, and the decoding tests (the exhaustive-search check of beam
    search, the n-gram ban, cache == recompute), under `backend`."""
    environment = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         "-k", SUBSET[backend], *ANY_BACKEND],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert "skipped" not in result.stdout, result.stdout[-2000:]
