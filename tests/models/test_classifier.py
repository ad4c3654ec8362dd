"""The encoder classifier: padding never changes a prediction (through the whole stack, both
poolings, with and without segments), it survives a `.keras` round trip, and it learns."""

import keras
import numpy as np
import pytest

from keras_transformer.models.classifier import (
    Classifier,
    ClassifierConfig,
    count_classifier_parameters,
)
from tests.arrays import as_numpy

TOKENS = np.array([[2, 7, 9, 4, 3], [2, 12, 6, 3, 0]], "int32")
SEGMENTS = np.array([[0, 0, 1, 1, 1], [0, 0, 1, 1, 0]], "int32")
CONFIGS = {
    "cls": {},
    "mean, pre-norm": {"pooling": "mean", "normalize_first": True, "positions": "sinusoidal"},
    "pairs": {"segments": 2},
}


def _model(**overrides):
    values = dict(vocabulary_size=17, num_classes=3, sequence_length=12, hidden_dim=12,
                  intermediate_dim=20, num_heads=3, num_layers=2, dropout=0.0)  # fmt: skip
    return Classifier(ClassifierConfig(**{**values, **overrides}))


def _inputs(model, tokens, segments):
    if model.config.segments:
        return {"token_ids": tokens, "segment_ids": segments}
    return tokens


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_padding_never_changes_the_prediction(name):
    model = _model(**CONFIGS[name])
    probabilities = as_numpy(model(_inputs(model, TOKENS, SEGMENTS)))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-6)
    padded = np.pad(TOKENS, [(0, 0), (0, 4)])
    padded_segments = np.pad(SEGMENTS, [(0, 0), (0, 4)])
    np.testing.assert_allclose(
        as_numpy(model(_inputs(model, padded, padded_segments))), probabilities, atol=1e-5
    )
    alone = as_numpy(model(_inputs(model, TOKENS[1:, :4], SEGMENTS[1:, :4])))
    np.testing.assert_allclose(alone[0], probabilities[1], atol=1e-5)


def test_the_prediction_depends_on_the_tokens_and_the_segments():
    model = _model(**CONFIGS["pairs"])
    base = as_numpy(model(_inputs(model, TOKENS, SEGMENTS)))
    changed = TOKENS.copy()
    changed[0, 2] = 5
    assert not np.allclose(as_numpy(model(_inputs(model, changed, SEGMENTS)))[0], base[0])
    assert not np.allclose(as_numpy(model(_inputs(model, TOKENS, 1 - SEGMENTS)))[0], base[0])


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_keras_round_trip_needs_no_custom_objects(tmp_path, name):
    model = _model(**CONFIGS[name])
    model.save(tmp_path / "classifier.keras")
    loaded = keras.saving.load_model(tmp_path / "classifier.keras", compile=False)
    assert isinstance(loaded, Classifier) and loaded.config == model.config
    inputs = _inputs(model, TOKENS, SEGMENTS)
    np.testing.assert_allclose(as_numpy(loaded(inputs)), as_numpy(model(inputs)), atol=1e-6)
    assert model.count_params() == count_classifier_parameters(model.config)


def test_it_learns_a_task_that_needs_the_order_of_tokens():
    # Class 1 when token 5 comes before token 6, else 0: a bag of tokens cannot tell.
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(512):
        row = rng.integers(7, 17, size=6)
        first, second = rng.choice(6, size=2, replace=False)
        row[first], row[second] = 5, 6
        rows.append([2, *row, 3])
    tokens = np.array(rows, "int32")
    labels = (np.argmax(tokens == 5, axis=1) < np.argmax(tokens == 6, axis=1)).astype("int32")
    model = _model(num_classes=2, hidden_dim=32, intermediate_dim=64, num_heads=4)
    model.compile(
        keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(tokens, labels, batch_size=32, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="num_classes must be an int of at least 2"):
        ClassifierConfig(num_classes=1)
    with pytest.raises(ValueError, match="pooling must be one of"):
        ClassifierConfig(pooling="max")
    with pytest.raises(ValueError, match="segments must be 0 or 2"):
        ClassifierConfig(segments=3)
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        ClassifierConfig.preset("huge")
