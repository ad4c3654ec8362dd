"""The time budget, keep-best, early stopping, averaging (`keras_transformer.training.selection`;
the settings chosen for a corpus are tests/tasks/test_translation_rule.py's)."""

import json
import pathlib

import keras
import numpy as np
import pytest

import keras_transformer as kt
from keras_transformer.training import TrainConfig, train
from keras_transformer.training.selection import ValidationScores, average_weights

MODEL = kt.TransformerConfig(
    sequence_length=24, hidden_dim=16, intermediate_dim=24, num_heads=2, num_layers=1,
    dropout=0.0,
)  # fmt: skip
FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"


def _config(out, **overrides):
    values = dict(
        corpus="dates", out=str(out), epochs=3, batch_size=16, steps_per_epoch=2,
        train_size=64, validation_size=8, test_size=8, warmup_steps=10,
        validation_sample=8,
    )  # fmt: skip
    values.update(overrides)
    return TrainConfig(**values)


def test_validation_scores_are_logged_and_the_best_epoch_is_kept(tmp_path):
    result = train(MODEL, _config(tmp_path / "run", average_last=0), verbose=0)
    history = json.loads((result.run_dir / "history.json").read_text())
    for record in history:
        assert {"val_bleu", "val_chrf", "seconds", "cpu_seconds"} <= set(record)
    best = json.loads((result.run_dir / "checkpoints" / "best.json").read_text())
    scores = [record["val_chrf"] for record in history]
    assert best["metric"] == "chrf" and best["score"] == pytest.approx(max(scores))
    assert best["epoch"] == scores.index(max(scores)) + 1
    assert result.kept.startswith(f"best epoch {best['epoch']}")
    saved = keras.saving.load_model(result.run_dir / "model.keras")
    reference = keras.saving.load_model(result.run_dir / "model.keras")
    reference.load_weights(result.run_dir / "checkpoints" / "best.weights.h5")
    for kept, best_weight in zip(saved.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, best_weight)


def test_early_stopping_on_the_selection_score(tmp_path, monkeypatch):
    scores = iter([10.0, 12.0, 11.0, 11.5, 9.0, 30.0])
    monkeypatch.setattr(
        ValidationScores, "score", lambda self, model=None: {"val_chrf": next(scores)}
    )
    config = _config(tmp_path / "run", epochs=6, steps_per_epoch=1, early_stopping_patience=2,
                     average_last=0)  # fmt: skip
    result = train(MODEL, config, verbose=0)
    assert result.epochs == 4  # best at epoch 2, then two epochs without better
    assert result.kept.startswith("best epoch 2 (val_chrf 12.00)")


def test_the_time_budget_stops_training_and_keeps_the_best(tmp_path):
    # 6 s: checked after every batch, so at least the first epoch (and its validation) ends.
    config = _config(tmp_path / "run", epochs=200, steps_per_epoch=2, time_budget=0.1)
    result = train(MODEL, config, verbose=0)
    status = json.loads((result.run_dir / "run.json").read_text())
    assert status["time_budget_spent"] and status["status"] == "finished"
    assert 1 <= result.epochs < 200
    assert result.kept != "last"


def test_averaging_weights_is_the_mean_of_the_checkpoints(tmp_path):
    model = kt.build_transformer(MODEL.replace(vocabulary_size=9))
    paths, weights = [], []
    for index in range(3):
        model.set_weights([np.full_like(w, index + 1.0) for w in model.get_weights()])
        weights.append(model.get_weights())
        paths.append(tmp_path / f"{index}.weights.h5")
        model.save_weights(paths[-1])
    average_weights(model, paths)
    for averaged in model.get_weights():
        np.testing.assert_allclose(averaged, 2.0)


def test_clipnorm_is_the_global_norm(tmp_path):
    from keras_transformer.training import compile_model

    config = _config(tmp_path / "run", clipnorm=1.5)
    model = compile_model(kt.build_transformer(MODEL.replace(vocabulary_size=9)), MODEL, config)
    assert model.optimizer.global_clipnorm == 1.5 and model.optimizer.clipnorm is None


def test_time_budget_and_choices_are_checked():
    with pytest.raises(ValueError, match="time_budget is in minutes"):
        TrainConfig(time_budget=0)
    with pytest.raises(ValueError, match="budget_clock must be one of"):
        TrainConfig(budget_clock="gpu")
    with pytest.raises(ValueError, match="bleu_tokenize must be one of"):
        TrainConfig(bleu_tokenize="spaces")
