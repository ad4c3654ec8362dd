import keras
import numpy as np
import pytest

import keras_transformer as kt
from tests.arrays import as_numpy

SOURCE = np.array([[5, 3, 8, 2, 0], [7, 1, 0, 0, 0]], "int32")
TARGET = np.array([[2, 9, 4, 6], [2, 3, 0, 0]], "int32")


def _config(**overrides):
    values = dict(
        vocabulary_size=13, target_vocabulary_size=11, sequence_length=12, hidden_dim=8,
        intermediate_dim=12, num_heads=2, num_layers=2, dropout=0.0,
    )  # fmt: skip
    values.update(overrides)
    return kt.TransformerConfig(**values)


def _inputs(source=SOURCE, target=TARGET):
    return {"encoder_inputs": source, "decoder_inputs": target}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"tie_output_projection": False},
        {"normalize_first": True, "positions": "learned"},
        {"share_embeddings": True, "target_vocabulary_size": None},
    ],
)
def test_parameter_count_formula_matches_the_built_model(overrides):
    config = _config(**overrides)
    assert kt.build_transformer(config).count_params() == kt.count_parameters(config)


def test_named_inputs_and_logits_over_the_target_vocabulary():
    model = kt.build_transformer(_config())
    assert sorted(model.input) == ["decoder_inputs", "encoder_inputs"]
    logits = model(_inputs())
    assert logits.shape == (2, 4, 11)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"


def test_tied_output_projection_uses_the_target_embedding():
    model = kt.build_transformer(_config())
    names = [layer.name for layer in model.layers]
    assert "output_projection" not in names
    untied = kt.build_transformer(_config(tie_output_projection=False))
    assert "output_projection" in [layer.name for layer in untied.layers]
    assert untied.count_params() - model.count_params() == 8 * 11 + 11


def test_shared_embeddings_are_one_layer():
    model = kt.build_transformer(_config(share_embeddings=True, target_vocabulary_size=None))
    embeddings = [layer for layer in model.layers if isinstance(layer, kt.PositionalEmbedding)]
    assert len(embeddings) == 1


def test_padding_never_changes_the_logits_of_real_positions():
    model = kt.build_transformer(_config())
    reference = as_numpy(model(_inputs()))
    padded = as_numpy(
        model(_inputs(np.pad(SOURCE, ((0, 0), (0, 4))), np.pad(TARGET, ((0, 0), (0, 3)))))
    )
    real = TARGET != 0
    np.testing.assert_allclose(padded[:, :4][real], reference[real], atol=1e-5)


def test_a_future_target_token_never_changes_earlier_logits():
    model = kt.build_transformer(_config())
    reference = as_numpy(model(_inputs()))
    changed = TARGET.copy()
    changed[:, 2] = 10
    np.testing.assert_allclose(
        as_numpy(model(_inputs(target=changed)))[:, :2], reference[:, :2], atol=1e-6
    )


def test_keras_round_trip_gives_identical_logits(tmp_path):
    model = kt.build_transformer(_config(share_embeddings=True, target_vocabulary_size=None))
    expected = as_numpy(model(_inputs()))
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    # Float32 rounding only: two runs of a matrix product need not agree bit for bit.
    np.testing.assert_allclose(
        as_numpy(restored(_inputs())), expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max()
    )


def test_mixed_precision_keeps_float32_logits():
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = kt.build_transformer(_config())
    assert keras.backend.standardize_dtype(model(_inputs()).dtype) == "float32"
