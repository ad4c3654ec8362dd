"""The settings and the model `keras_transformer.tasks.translation_rule` chooses for a
translation corpus: scaled with its size, shallower under a short time budget, the flags given
kept, the built-in dates corpus with its own settings."""

import pytest

import keras_transformer as kt
from keras_transformer.tasks import translation_rule as rule
from keras_transformer.training import TrainConfig


def _resolve(train_config, pairs):
    chosen = rule.resolve(train_config, pairs)
    return chosen.config, chosen.notes


@pytest.mark.parametrize(
    "pairs, expected",
    [
        (5_000, dict(tokenizer="sentencepiece", max_vocabulary_size=4000, batch_size=64)),
        (40_000, dict(max_vocabulary_size=8000, batch_size=64, warmup_steps=312, epochs=48)),
        (500_000, dict(max_vocabulary_size=16000, batch_size=128, warmup_steps=1953, epochs=8)),
        (5_000_000, dict(max_vocabulary_size=32000, batch_size=256, warmup_steps=4000, epochs=5)),
    ],
)
def test_the_rule_scales_with_the_corpus(pairs, expected):
    resolved, notes = _resolve(TrainConfig(corpus="pairs.tsv"), pairs)
    for name, value in expected.items():
        assert getattr(resolved, name) == value, name
    assert resolved.early_stopping_patience == 5 and resolved.average_last == 5
    assert {name for name, _, _ in notes} >= set(expected)
    preset = "small" if pairs < 100_000 else "medium" if pairs < 1_000_000 else "base"
    model = rule.choose_model(resolved, pairs)
    assert model == kt.TransformerConfig.preset(preset, share_embeddings=True)
    peak = (
        rule.learning_rate_scale(resolved, model)
        * (model.hidden_dim * resolved.warmup_steps) ** -0.5
    )
    assert peak <= rule.PEAK_LEARNING_RATE * 1.001


def test_a_short_time_budget_chooses_a_shallower_model():
    budgeted, _ = _resolve(TrainConfig(corpus="pairs.tsv", time_budget=20.0), 40_000)
    assert rule.choose_model(budgeted, 40_000).num_layers == 2
    long, _ = _resolve(TrainConfig(corpus="pairs.tsv", time_budget=120.0), 40_000)
    assert rule.choose_model(long, 40_000).num_layers == 3


def test_flags_given_win_over_the_rule_and_dates_keep_their_settings():
    given = TrainConfig(corpus="pairs.tsv", batch_size=32, tokenizer="wordpiece", epochs=2,
                        time_budget=5.0)  # fmt: skip
    resolved, notes = _resolve(given, 40_000)
    assert (resolved.batch_size, resolved.tokenizer, resolved.epochs) == (32, "wordpiece", 2)
    assert resolved.early_stopping_patience == 0  # the time budget bounds the run instead
    assert "batch_size" not in {name for name, _, _ in notes}
    dates, _ = _resolve(TrainConfig(corpus="dates"), 20_000)
    assert (dates.tokenizer, dates.epochs, dates.warmup_steps, dates.average_last) == (
        "character", 10, 4000, 0,
    )  # fmt: skip
    tiny = rule.choose_model(dates, 20_000)
    assert tiny == kt.TransformerConfig.preset("tiny")
    assert rule.learning_rate_scale(dates, tiny) == 1.0
