"""The presets of the three models: one API on every configuration class (`preset`,
`preset_names`, `PRESETS`, the older module-level names as aliases), and the parameter counts
the preset tables state, checked against the parameter-count formulas and the built models."""

import dataclasses
import gc
import importlib

import keras
import pytest

import keras_transformer as kt
from keras_transformer import models
from keras_transformer.models import (
    Classifier,
    ClassifierConfig,
    LanguageModel,
    LanguageModelConfig,
    Transformer,
    TransformerConfig,
    count_classifier_parameters,
    count_language_model_parameters,
    count_parameters,
)

# config class -> (model class, parameter-count formula, the older module-level presets name)
FAMILIES = {
    TransformerConfig: (Transformer, count_parameters, "PRESETS"),
    LanguageModelConfig: (LanguageModel, count_language_model_parameters, "LANGUAGE_MODEL_PRESETS"),
    ClassifierConfig: (Classifier, count_classifier_parameters, "CLASSIFIER_PRESETS"),
}

# The counts the comments above each preset table state, in millions as written there, with the
# vocabulary they are stated for (8000 tokens unless the comment names another).
STATED = [
    (TransformerConfig, "tiny", {}, "1.26"),
    (TransformerConfig, "tutorial", {}, "3.90"),
    (TransformerConfig, "small", {}, "7.58"),
    (TransformerConfig, "medium", {}, "13.11"),
    (TransformerConfig, "base", {}, "48.2"),
    (TransformerConfig, "base", {"vocabulary_size": 37000}, "63.1"),
    (TransformerConfig, "big", {}, "184.5"),
    (LanguageModelConfig, "tiny", {}, "0.62"),
    (LanguageModelConfig, "small", {}, "5.27"),
    (LanguageModelConfig, "gpt2_small", {}, "92.0"),
    (LanguageModelConfig, "gpt2_small", {"vocabulary_size": 50257}, "124.4"),
    (ClassifierConfig, "tiny", {}, "0.62"),
    (ClassifierConfig, "small", {}, "5.24"),
    (ClassifierConfig, "bert_base", {}, "91.6"),
    (ClassifierConfig, "bert_base", {"vocabulary_size": 30522}, "108.9"),
]
ALL_PRESETS = [(config_class, name) for config_class in FAMILIES for name in config_class.PRESETS]
# Presets stated above this are built with one layer per stack: the same widths, heads and
# embeddings, and the formulas are linear in num_layers (each other preset checks that term).
LARGEST_BUILT = 100_000_000


def _id(value):
    return value.__name__ if isinstance(value, type) else None


@pytest.mark.parametrize("config_class", FAMILIES, ids=_id)
def test_every_config_class_has_the_same_presets_api(config_class):
    names = config_class.preset_names()
    assert isinstance(names, tuple) and names and names[0] == "tiny"
    assert names == tuple(config_class.PRESETS)
    for name in names:
        config = config_class.preset(name)
        assert isinstance(config, config_class)
        assert config == config_class(**config_class.PRESETS[name])
    overridden = config_class.preset("tiny", vocabulary_size=11, dropout=0.0)
    assert (overridden.vocabulary_size, overridden.dropout) == (11, 0.0)
    assert overridden.num_layers == config_class.PRESETS["tiny"]["num_layers"]
    with pytest.raises(ValueError, match=r"Unknown preset 'huge'; choose one of \["):
        config_class.preset("huge")


@pytest.mark.parametrize("config_class", FAMILIES, ids=_id)
def test_the_presets_table_is_a_class_attribute_not_a_field(config_class):
    fields = {field.name for field in dataclasses.fields(config_class)}
    assert "PRESETS" not in fields
    config = config_class.preset("tiny")
    assert "PRESETS" not in config.to_dict()
    assert config_class.from_json(config.to_json()) == config


@pytest.mark.parametrize("config_class", FAMILIES, ids=_id)
def test_the_older_module_level_names_are_the_same_tables(config_class):
    model_class, _, older_name = FAMILIES[config_class]
    # Each configuration lives beside its model, in the model's module.
    assert config_class.__module__ == model_class.__module__
    module = importlib.import_module(model_class.__module__)
    assert getattr(module, older_name) is config_class.PRESETS
    assert getattr(models, older_name) is config_class.PRESETS
    assert getattr(models, config_class.__name__) is config_class
    assert kt.PRESETS is TransformerConfig.PRESETS


def test_the_earlier_config_module_still_imports():
    from keras_transformer.models import config

    assert config.TransformerConfig is TransformerConfig
    assert config.PRESETS is TransformerConfig.PRESETS


@pytest.mark.parametrize("model_class", [Transformer, LanguageModel, Classifier], ids=_id)
def test_registered_names_are_unchanged(model_class):
    # `.keras` files name the models by these; moving code must not change them.
    expected = f"keras_transformer>{model_class.__name__}"
    assert keras.saving.get_registered_name(model_class) == expected
    assert keras.saving.get_registered_object(expected) is model_class


@pytest.mark.parametrize(
    "config_class, name, overrides, millions",
    STATED,
    ids=[f"{c.__name__}-{n}-{o.get('vocabulary_size', 8000)}" for c, n, o, _ in STATED],
)
def test_the_stated_counts_match_the_formulas(config_class, name, overrides, millions):
    count = FAMILIES[config_class][1]
    config = config_class.preset(name, **{"vocabulary_size": 8000, **overrides})
    decimals = len(millions.partition(".")[2])
    assert f"{count(config) / 1e6:.{decimals}f}" == millions


def test_every_preset_has_a_stated_count():
    assert {(c, n) for c, n, _, _ in STATED} == set(ALL_PRESETS)


@pytest.mark.parametrize(
    "config_class, name", ALL_PRESETS, ids=[f"{c.__name__}-{n}" for c, n in ALL_PRESETS]
)
def test_the_formulas_count_the_built_presets(config_class, name):
    model_class, count, _ = FAMILIES[config_class]
    config = config_class.preset(name, vocabulary_size=8000)
    if count(config) > LARGEST_BUILT:
        config = config.replace(num_layers=1)
    model = model_class(config)
    try:
        assert model.count_params() == count(config)
    finally:
        del model
        gc.collect()
