"""The installed package: public API, console script, `python -m keras_transformer`."""

import pathlib
import shutil
import subprocess
import sys

import pytest

import keras_transformer as kt

PUBLIC = {
    "PositionalEmbedding",
    "MultiHeadSelfAttention",
    "MultiHeadCrossAttention",
    "FeedForward",
    "EncoderBlock",
    "DecoderBlock",
    "positional_encoding",
    "create_padding_mask",
    "create_look_ahead_mask",
    "scaled_dot_product_attention",
}


def test_public_api_is_exported_at_the_top_level():
    assert set(kt.__all__) >= PUBLIC
    for name in PUBLIC:
        assert getattr(kt, name).__doc__, f"{name} has no docstring"


def _run(*command):
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_python_dash_m_prints_version():
    result = _run(sys.executable, "-m", "keras_transformer", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"keras-transformer {kt.__version__}"


def test_console_script_info_reports_the_stack():
    script = pathlib.Path(sys.executable).with_name("keras-transformer")
    if not script.exists():
        script = shutil.which("keras-transformer")
    assert script, "the keras-transformer console script is not installed"
    result = _run(str(script), "info")
    assert result.returncode == 0, result.stderr
    assert f"keras_transformer {kt.__version__}" in result.stdout
    assert "tensorflow 2.21" in result.stdout and "gpus: " in result.stdout


def test_no_command_prints_help_and_fails():
    result = _run(sys.executable, "-m", "keras_transformer")
    assert result.returncode == 2
    assert "usage: keras-transformer" in result.stdout


@pytest.mark.parametrize("module", ["keras_transformer.layers"])
def test_layers_do_not_use_tensorflow_directly(module):
    # Layers are written with keras.ops only, so they stay backend-agnostic.
    package = pathlib.Path(kt.__file__).parent / module.split(".")[-1]
    for path in package.glob("*.py"):
        text = path.read_text()
        assert "import tensorflow" not in text and "tf." not in text, path
