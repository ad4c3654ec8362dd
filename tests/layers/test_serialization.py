"""Round trips: `.keras` save/load of a functional model built from the layers."""

import keras
import numpy as np

import keras_transformer as kt
from tests.arrays import as_numpy

VOCAB, MAX_LENGTH, HIDDEN, HEADS, FFN = 13, 10, 8, 2, 12


def _model():
    source = keras.Input(shape=(None,), dtype="int32", name="encoder_inputs")
    target = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
    x = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN, positions="learned")(source)
    for _ in range(2):
        x = kt.EncoderBlock(HEADS, FFN, normalize_first=True, activation="gelu")(x)
    encoded = keras.layers.LayerNormalization(epsilon=1e-6)(x)
    y = kt.PositionalEmbedding(VOCAB, MAX_LENGTH, HIDDEN)(target)
    for _ in range(2):
        y = kt.DecoderBlock(HEADS, FFN, normalize_first=True)(y, encoded)
    y = keras.layers.LayerNormalization(epsilon=1e-6)(y)
    logits = kt.layers.OutputProjection(VOCAB, name="logits")(y)
    return keras.Model([source, target], logits)


def test_keras_file_round_trip_gives_identical_outputs(tmp_path):
    model = _model()
    source = np.array([[5, 3, 8, 2, 0], [7, 1, 0, 0, 0]], "int32")
    target = np.array([[4, 9, 2, 6], [3, 3, 0, 0]], "int32")
    # Train a step so the weights are not the initial ones.
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(True))
    model.fit([source, target], target, epochs=1, verbose=0)
    expected = as_numpy(model([source, target]))

    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)  # no custom_objects: every layer is registered
    # The same weights and graph, but two runs of a matrix product need not agree bit for bit
    # (kernels and summation order vary with the machine, threads and memory alignment).
    tolerance = 1e-6 * np.abs(expected).max()
    np.testing.assert_allclose(
        as_numpy(restored([source, target])), expected, rtol=1e-6, atol=tolerance
    )
    assert [type(layer).__name__ for layer in restored.layers] == [
        type(layer).__name__ for layer in model.layers
    ]


def test_every_layer_is_registered():
    for cls in (
        kt.PositionalEmbedding,
        kt.MultiHeadSelfAttention,
        kt.MultiHeadCrossAttention,
        kt.FeedForward,
        kt.EncoderBlock,
        kt.DecoderBlock,
        kt.layers.OutputProjection,
        kt.layers.Dropout,
    ):
        name = keras.saving.get_registered_name(cls)
        assert name == f"keras_transformer>{cls.__name__}"
        assert keras.saving.get_registered_object(name) is cls
