"""What the three models build from one helper (`models._base`): every block gets its
configuration's arguments, and the layer names that `.keras` files store the weights under
stay the ones earlier versions saved."""

import keras
import numpy as np
import pytest

from keras_transformer.layers import DecoderBlock, EncoderBlock
from keras_transformer.models import (
    Classifier,
    ClassifierConfig,
    LanguageModel,
    LanguageModelConfig,
    Transformer,
    TransformerConfig,
)
from keras_transformer.models._base import block_arguments, final_norm
from tests.arrays import as_numpy

SMALL = dict(vocabulary_size=13, sequence_length=12, hidden_dim=8, intermediate_dim=12,
             num_heads=2, num_layers=2, dropout=0.05)  # fmt: skip
# Not the defaults, so a block that ignored its configuration would differ.
ARRANGEMENT = dict(activation="gelu", normalize_first=True, layer_norm_epsilon=1e-3,
                   attention_dropout=0.1)  # fmt: skip
BLOCK_FIELDS = ("num_heads", "intermediate_dim", "dropout", "activation", "normalize_first",
                "layer_norm_epsilon", "attention_dropout")  # fmt: skip


def _models():
    return {
        "transformer": Transformer(
            TransformerConfig(
                target_vocabulary_size=11, tie_output_projection=False, **SMALL, **ARRANGEMENT
            )
        ),
        "language_model": LanguageModel(
            LanguageModelConfig(tie_output_projection=False, **SMALL, **ARRANGEMENT)
        ),
        "classifier": Classifier(
            ClassifierConfig(num_classes=3, segments=2, **SMALL, **ARRANGEMENT)
        ),
    }


def _blocks(model):
    if isinstance(model, Transformer):
        return model.encoder_blocks + model.decoder_blocks
    return model.blocks


def test_block_arguments_are_the_configuration_fields_and_build_both_blocks():
    config = TransformerConfig(**SMALL, **ARRANGEMENT)
    arguments = block_arguments(config, "block_3", dtype="bfloat16")
    assert arguments == {
        **{field: getattr(config, field) for field in BLOCK_FIELDS},
        "dtype": "bfloat16",
        "name": "block_3",
    }
    for block_class in (EncoderBlock, DecoderBlock):
        block = block_class(**arguments)
        assert block.name == "block_3" and block.dtype_policy.name == "bfloat16"
    norm = final_norm(config, "final_norm")
    assert norm.name == "final_norm" and norm.epsilon == 1e-3


@pytest.mark.parametrize("name", ["transformer", "language_model", "classifier"])
def test_every_block_of_every_model_gets_its_configuration(name):
    model = _models()[name]
    blocks = _blocks(model)
    assert len(blocks) == model.config.num_layers * (2 if name == "transformer" else 1)
    for block in blocks:
        block_config = block.get_config()
        for field in BLOCK_FIELDS:
            assert block_config[field] == getattr(model.config, field), (block.name, field)


def test_layer_names_are_those_earlier_versions_saved():
    # `.keras` files store each weight under its layer's name: renaming a layer would stop
    # earlier files from loading.
    names = {name: [layer.name for layer in model.layers] for name, model in _models().items()}
    assert names == {
        "transformer": [
            "encoder_inputs", "source_embedding", "encoder_block_0", "decoder_inputs",
            "encoder_block_1", "target_embedding", "encoder_norm", "decoder_block_0",
            "decoder_block_1", "decoder_norm", "output_projection", "logits",
        ],
        "language_model": [
            "token_ids", "embedding", "block_0", "block_1", "final_norm", "output_projection",
            "logits",
        ],
        "classifier": [
            "token_ids", "segment_ids", "embedding", "segment_embedding", "embedding_dropout",
            "block_0", "block_1", "final_norm", "pooling", "head_dropout", "head",
        ],
    }  # fmt: skip


def test_a_saved_model_rebuilds_with_the_same_weights_in_the_same_order(tmp_path):
    tokens = np.array([[2, 7, 9, 4, 3], [2, 10, 6, 3, 0]], "int32")  # ids < 11
    inputs = {
        "transformer": {"encoder_inputs": tokens, "decoder_inputs": tokens[:, :4]},
        "language_model": tokens,
        "classifier": {"token_ids": tokens, "segment_ids": (tokens > 5).astype("int32")},
    }
    for name, model in _models().items():
        model.save(tmp_path / f"{name}.keras")
        loaded = keras.saving.load_model(tmp_path / f"{name}.keras", compile=False)
        assert [w.path for w in loaded.weights] == [w.path for w in model.weights]
        np.testing.assert_allclose(
            as_numpy(loaded(inputs[name])), as_numpy(model(inputs[name])), atol=1e-6
        )
