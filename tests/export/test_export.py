"""SavedModel export, loaded in a process that cannot import keras_transformer."""

import json
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_transformer import cli
from keras_transformer.decoding import DecodingOptions
from keras_transformer.export import export_keras, export_saved_model, load_keras
from keras_transformer.predictors import load_predictor
from keras_transformer.run import Run
from tests.export._loader import PREAMBLE

# One process runs this file: its module fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_export")

# Runs in a fresh interpreter: keras_transformer is blocked, only tensorflow and
# tensorflow_text are imported. Prints {batch name: translations} as JSON.
LOADER = (
    PREAMBLE
    + """

batches = json.loads(sys.argv[2])
results = {}
for name, path in (("greedy", sys.argv[1]), ("beam", sys.argv[1] + "_beam")):
    model = tf.saved_model.load(path)
    for size, texts in batches.items():
        out = model.translate(tf.constant(texts)).numpy()
        results[name + size] = [t.decode("utf-8") for t in out]
    served = model.signatures["serving_default"](text=tf.constant(batches["7"]))
    results[name + "-serving"] = [t.decode("utf-8") for t in served["translation"].numpy()]
    results[name + "-tokens-shape"] = list(served["tokens"].shape)
results["keras_transformer_imported"] = "keras_transformer" in sys.modules
print(json.dumps(results))
"""
)


@pytest.fixture(scope="module")
def exports(run_dir, tmp_path_factory):
    directory = tmp_path_factory.mktemp("exports")
    greedy = export_saved_model(run_dir, directory / "model", DecodingOptions(strategy="greedy"))
    # Fields; the beam export without XLA (the greedy one, and the default export of
    # test_existing_exports_are_kept_unless_overwrite, serve the XLA-compiled search).
    beam = export_saved_model(run_dir, directory / "model_beam", beam_width=3, jit_compile=False)
    return greedy, beam


def _batches(run_dir):
    test = [s for s, _ in Run.open(run_dir).splits.test]
    seven = [test[0], "", "4 mars 2021 " * 30, *test[1:5]]  # empty and over-long inside
    return {"1": [test[5]], "7": seven}


def test_export_translates_like_in_process_decoding_without_the_package(run_dir, exports):
    batches = _batches(run_dir)
    result = subprocess.run(
        [sys.executable, "-c", LOADER, str(exports[0]), json.dumps(batches)],
        capture_output=True, text=True, timeout=300, check=False,
        cwd=pathlib.Path(exports[0]).parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["keras_transformer_imported"] is False
    translator = load_predictor(run_dir)
    for size, texts in batches.items():
        assert loaded["greedy" + size] == translator.translate(texts, strategy="greedy")
        beam = translator.translate(texts, strategy="beam", beam_width=3, jit_compile=False)
        assert loaded["beam" + size] == beam
    assert loaded["greedy-serving"] == loaded["greedy7"]
    assert loaded["beam-tokens-shape"] == [7, translator.sequence_length]


def test_saved_model_cli_lists_the_serving_signature(exports):
    cli_path = shutil.which("saved_model_cli") or str(
        pathlib.Path(sys.executable).with_name("saved_model_cli")
    )
    result = subprocess.run(
        [cli_path, "show", "--all", "--dir", str(exports[0])],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "signature_def['serving_default']" in out
    for name in ("inputs['text']", "outputs['translation']", "outputs['tokens']"):
        assert name in out
    assert "DT_STRING" in out and "DT_INT32" in out
    # TF1-style loaders (saved_model_cli run, TF Serving) find every variable and run it.
    # They need tensorflow-text's ops registered (text normalisation is one), as TF Serving
    # builds with them: saved_model_cli's own main, in a process that imported them.
    with_text_ops = (
        "import sys, tensorflow_text; from tensorflow.python.tools import saved_model_cli; "
        "sys.argv[0] = 'saved_model_cli'; sys.exit(saved_model_cli.main())"
    )
    result = subprocess.run(
        [sys.executable, "-c", with_text_ops, "run", "--dir", str(exports[0]), "--tag_set",
         "serve", "--signature_def", "serving_default", "--input_exprs",
         'text=["4 mars 2021", ""]'],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Result for output key translation" in result.stdout


def test_logits_function_scores_teacher_forced(run_dir, exports):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(exports[0]))
    model = load_predictor(run_dir).model
    source = np.array([[5, 6, 7, 0], [8, 9, 0, 0]], "int32")
    target = np.array([[2, 5, 6], [2, 4, 0]], "int32")
    expected = model({"encoder_inputs": source, "decoder_inputs": target})
    np.testing.assert_allclose(loaded.logits(source, target).numpy(), expected, atol=1e-5)
    assert sorted(p.name for p in (exports[0] / "assets").iterdir()) == [
        "source_vocabulary.txt",
        "target_vocabulary.txt",
    ]


def test_keras_file_round_trip_gives_identical_logits(run_dir, tmp_path):
    path = export_keras(run_dir, tmp_path / "bare.keras")
    restored = keras.saving.load_model(path)  # no custom objects
    original = load_predictor(run_dir).model
    inputs = {"encoder_inputs": np.array([[5, 6, 7]]), "decoder_inputs": np.array([[2, 5]])}
    np.testing.assert_array_equal(np.asarray(restored(inputs)), np.asarray(original(inputs)))
    np.testing.assert_array_equal(
        np.asarray(load_keras(path)(inputs)), np.asarray(original(inputs))
    )
    with pytest.raises(FileExistsError, match="overwrite"):
        export_keras(run_dir, path)
    with pytest.raises(ValueError, match=r"\.keras"):
        export_keras(run_dir, tmp_path / "bare.h5")


def test_existing_exports_are_kept_unless_overwrite(run_dir, exports, tmp_path, capsys):
    target = tmp_path / "export"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_saved_model(run_dir, target)
    # The spelling before DecodingOptions, kept for one release.
    with pytest.warns(DeprecationWarning, match="greedy"), pytest.raises(FileExistsError):
        export_saved_model(run_dir, target, greedy=True)
    with pytest.raises(ValueError, match="strategy='sample'"):
        export_saved_model(run_dir, tmp_path / "sampled", strategy="sample")
    # --overwrite replaces an earlier export only: never a directory of other files.
    assert cli.main(["export", str(run_dir), str(target), "--overwrite"]) == 2
    assert "directory of other files (mine.txt)" in capsys.readouterr().err
    assert (target / "mine.txt").read_text() == "keep me"
    (target / "mine.txt").unlink()
    assert cli.main(["export", str(run_dir), str(target), "--greedy"]) == 2  # exists
    argv = ["export", str(run_dir), str(target), "--greedy", "--no-jit-compile", "--overwrite"]
    assert cli.main(argv) == 0
    assert cli.main(["export", str(run_dir), str(target), "--overwrite"]) == 0  # replaced
    assert (target / "saved_model.pb").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # no staging directory left
    # The default export decodes as `DecodingOptions()`: beam search, 4 beams, alpha 0.6.
    import tensorflow as tf

    texts = [s for s, _ in Run.open(run_dir).splits.test[:4]]
    loaded = tf.saved_model.load(str(target))  # (kept: its variables live as long as it)
    exported = loaded.translate(tf.constant(texts)).numpy()
    assert [t.decode("utf-8") for t in exported] == load_predictor(run_dir).translate(texts)


def test_conflicting_export_flags_are_a_clear_error(run_dir, tmp_path, capsys):
    assert cli.main(["export", str(run_dir), str(tmp_path / "out"), "--greedy", "--beam", "2"]) == 2
    assert "Choose one of --greedy, --beam-width N, or sampling" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_run_without_a_model_cannot_be_exported(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path), str(tmp_path / "out")]) == 2
    assert "not a run directory (no config.json)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == []
