"""The model owns its cached decoding: `encode`, `initial_cache`, `decode_step` equal the full
model, whatever the layers are named, and survive a `.keras` round trip."""

import json

import keras
import numpy as np
import pytest

import keras_transformer as kt
from keras_transformer.run import Run
from tests.arrays import as_numpy

SOURCE = np.array([[5, 3, 8, 2, 0, 0], [7, 1, 9, 0, 0, 0]], "int32")
TARGET = np.array([[2, 9, 4, 6, 10], [2, 3, 5, 8, 4]], "int32")
CONFIGS = {
    "paper": {},
    "pre-norm, untied, learned": {
        "normalize_first": True,
        "tie_output_projection": False,
        "positions": "learned",
    },
    "shared": {"share_embeddings": True, "target_vocabulary_size": None},
}


def _config(**overrides):
    values = dict(
        vocabulary_size=13, target_vocabulary_size=11, sequence_length=10, hidden_dim=12,
        intermediate_dim=20, num_heads=3, num_layers=2, dropout=0.0,
    )  # fmt: skip
    return kt.TransformerConfig(**{**values, **overrides})


def _full(model):
    return as_numpy(model({"encoder_inputs": SOURCE, "decoder_inputs": TARGET}))


def _stepwise(model, chunks):
    encoder_outputs, source_mask = model.encode(SOURCE)
    cache = model.initial_cache(encoder_outputs, max_length=TARGET.shape[1])
    logits, start = [], 0
    for size in chunks:
        step, cache = model.decode_step(TARGET[:, start : start + size], start, cache, source_mask)
        logits.append(as_numpy(step))
        start += size
    return np.concatenate(logits, axis=1)


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("chunks", [[1] * 5, [2, 3]], ids=["one by one", "chunks"])
def test_decode_step_equals_the_full_model(name, chunks):
    model = kt.Transformer(_config(**CONFIGS[name]))
    assert isinstance(model.decoder_norm, keras.layers.LayerNormalization) == ("pre-norm" in name)
    np.testing.assert_allclose(_stepwise(model, chunks), _full(model), atol=1e-4)


def test_decoding_does_not_depend_on_layer_names():
    model = kt.Transformer(_config(**CONFIGS["pre-norm, untied, learned"]))
    expected = _stepwise(model, [1] * 5)
    for layer in model.layers:  # a rename must not silently skip a layer
        layer.name = f"renamed_{layer.name}"
    np.testing.assert_allclose(_stepwise(model, [1] * 5), expected, atol=1e-6)


def test_attention_scores_are_named_results():
    model = kt.Transformer(_config())
    encoder_outputs, source_mask = model.encode(SOURCE)
    cache = model.initial_cache(encoder_outputs, max_length=5)
    result = model.decode_step(TARGET, 0, cache, source_mask, return_attention_scores=True)
    assert set(result) == {"logits", "cache", "cross_attention"}
    assert len(result["cross_attention"]) == 2
    weights = as_numpy(result["cross_attention"][-1])  # (batch, heads, target, source)
    assert weights.shape == (2, 3, 5, 6)
    assert np.all(weights[1, ..., 3:] == 0)  # the second source has three real tokens


def test_keras_round_trip_needs_no_custom_objects(tmp_path):
    model = kt.Transformer(_config(**CONFIGS["pre-norm, untied, learned"]), name="mine")
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    assert isinstance(loaded, kt.Transformer) and loaded.name == "mine"
    assert loaded.config == model.config
    np.testing.assert_allclose(_full(loaded), _full(model), atol=1e-6)
    np.testing.assert_allclose(_stepwise(loaded, [2, 3]), _full(model), atol=1e-4)


def test_a_run_saved_as_a_plain_functional_model_still_loads(tmp_path):
    # Runs trained before the model class existed hold a plain functional model.
    config = _config()
    model = kt.Transformer(config)
    plain = keras.Model(model.inputs, model.outputs, name="transformer")
    assert not isinstance(plain, kt.Transformer)
    plain.save(tmp_path / "model.keras")
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    loaded = Run.open(tmp_path).load_model()
    assert isinstance(loaded, kt.Transformer)
    np.testing.assert_allclose(_stepwise(loaded, [1] * 5), _full(model), atol=1e-4)
