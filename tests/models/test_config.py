import pytest

import keras_transformer as kt
from keras_transformer.models import PRESETS


@pytest.mark.parametrize(
    "name, sizes",
    [
        ("tutorial", (4, 128, 512, 8, 0.1)),
        ("base", (6, 512, 2048, 8, 0.1)),
        ("big", (6, 1024, 4096, 16, 0.3)),
    ],
)
def test_presets_match_the_tutorial_and_the_paper(name, sizes):
    config = kt.TransformerConfig.preset(name)
    actual = (config.num_layers, config.hidden_dim, config.intermediate_dim, config.num_heads)
    assert actual + (config.dropout,) == sizes


def test_paper_presets_share_and_tie_embeddings():
    for name in ("base", "big"):
        config = kt.TransformerConfig.preset(name)
        assert config.share_embeddings and config.tie_output_projection


def test_json_round_trip_through_text_and_file(tmp_path):
    config = kt.TransformerConfig.preset("tiny", vocabulary_size=37, target_vocabulary_size=19)
    assert kt.TransformerConfig.from_json(config.to_json()) == config
    config.to_json(tmp_path / "config.json")
    assert kt.TransformerConfig.from_json(tmp_path / "config.json") == config


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"hidden_dim": 100, "num_heads": 8}, r"num_heads=8 does not divide hidden_dim=100"),
        ({"dropout": 1.2}, "dropout"),
        ({"num_layers": 0}, "num_layers"),
        ({"positions": "rope"}, "positions"),
        ({"share_embeddings": True, "target_vocabulary_size": 5}, "share_embeddings"),
        ({"layer_norm_epsilon": 0.0}, "layer_norm_epsilon"),
    ],
)
def test_invalid_values_are_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        kt.TransformerConfig.preset("tiny", **overrides)


def test_unknown_preset_and_unknown_field():
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        kt.TransformerConfig.preset("huge")
    with pytest.raises(ValueError, match=r"Unknown TransformerConfig field\(s\) \['d_model'\]"):
        kt.TransformerConfig.from_dict({"d_model": 512})


def test_missing_json_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No TransformerConfig JSON file"):
        kt.TransformerConfig.from_json(tmp_path / "missing.json")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_valid(name):
    assert (
        kt.TransformerConfig.preset(name).hidden_dim % kt.TransformerConfig.preset(name).num_heads
        == 0
    )
