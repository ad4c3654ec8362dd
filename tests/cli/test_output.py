"""The command line shows only its own messages: TensorFlow's start-up logging (absl's
pre-init warning, CUDA probes, oneDNN notices) is hidden unless `--verbose` is given."""

import logging
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from keras_transformer import cli
from keras_transformer.cli import parser as cli_parser
from keras_transformer.cli import startup as cli_startup

# What TensorFlow writes at start-up on a machine without a GPU (none of it is ours).
NOISE = ("cuinit", "absl::initializelog", "cuda", "onednn", "cpu_feature_guard", "I0000", "E0000")


def _script():
    script = pathlib.Path(sys.executable).with_name("keras-transformer")
    return str(script) if script.exists() else shutil.which("keras-transformer")


def _environment():
    """This environment without the variables the quiet start-up sets."""
    environment = dict(os.environ)
    for name in cli_startup.QUIET_ENVIRONMENT:
        environment.pop(name, None)
    return environment


def _run(*command):
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False,
                          env=_environment())  # fmt: skip


def _noise_in(text):
    return [word for word in NOISE if word.lower() in text.lower()]


def test_the_console_script_prints_only_its_own_messages(tmp_path):
    script = _script()
    assert script, "the keras-transformer console script is not installed"
    result = _run(script, "info")
    assert result.returncode == 0, result.stderr
    assert "gpus: " in result.stdout
    assert not _noise_in(result.stderr), result.stderr
    assert not _noise_in(result.stdout), result.stdout
    # An error path: only our message.
    result = _run(script, "evaluate", str(tmp_path / "no-run"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"keras-transformer evaluate: error: {tmp_path / 'no-run'} is not a run directory (no "
        f"config.json); train one with `keras-transformer train --out {tmp_path / 'no-run'}`."
    ]


# Run as the console script (argv[0]), with a finder that prints the TensorFlow log level in
# effect when TensorFlow starts to import (TensorFlow itself sets it to 1 when unset).
SPY = """
import os, sys
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow":
            print("LEVEL", os.environ.get("TF_CPP_MIN_LOG_LEVEL"), flush=True)
            sys.meta_path.remove(self)
sys.meta_path.insert(0, Spy())
sys.argv[0] = "keras-transformer"
from keras_transformer.cli import main
raise SystemExit(main())
"""


def test_python_dash_m_is_quiet_and_verbose_forces_nothing():
    result = _run(sys.executable, "-m", "keras_transformer", "info")
    assert result.returncode == 0, result.stderr
    assert "gpus: " in result.stdout
    assert not _noise_in(result.stderr), result.stderr
    verbose = _run(sys.executable, "-c", SPY, "--verbose", "info")
    assert verbose.returncode == 0, verbose.stderr
    assert verbose.stdout.startswith("LEVEL None\n") and "gpus: " in verbose.stdout


@pytest.mark.parametrize(
    "argv, orig_argv, expected",
    [
        (["/venv/bin/keras-transformer", "info"], ["/venv/bin/python", "keras-transformer"], True),
        (["C:\\venv\\Scripts\\keras-transformer.exe", "info"], [], True),
        (["-m", "info"], ["python", "-m", "keras_transformer", "info"], True),
        (["-m"], ["python", "-X", "importtime", "-m", "keras_transformer.cli", "info"], True),
        (["-m"], ["python", "-mkeras_transformer"], True),
        (["-m"], ["python", "-m", "pytest", "tests"], False),
        (["-c"], ["python", "-c", "import keras_transformer", "-m", "keras_transformer"], False),
        (["script.py"], ["python", "script.py"], False),
        (["/venv/bin/pytest"], ["/venv/bin/python", "/venv/bin/pytest"], False),
    ],
)  # fmt: skip
def test_the_command_line_is_recognized(argv, orig_argv, expected):
    assert cli_startup.is_command_line(argv, orig_argv) is expected
    assert cli_startup.wants_quiet([*argv, "--verbose"], orig_argv) is False
    assert cli_startup.wants_quiet(argv, orig_argv) is expected


def test_nothing_changes_outside_the_command_line(monkeypatch):
    environment = {}
    monkeypatch.setattr(sys, "argv", ["pytest"])
    cli_startup.quiet_tensorflow_start_up(environment)
    assert environment == {}
    monkeypatch.setattr(sys, "argv", ["keras-transformer", "info"])
    cli_startup.quiet_tensorflow_start_up(environment)  # TensorFlow is imported already
    assert environment == cli_startup.QUIET_ENVIRONMENT
    environment = {"TF_CPP_MIN_LOG_LEVEL": "0"}  # the user's own value wins
    cli_startup.quiet_tensorflow_start_up(environment)
    assert environment == {"TF_CPP_MIN_LOG_LEVEL": "0"}
    monkeypatch.setattr(sys, "argv", ["keras-transformer", "--verbose", "info"])
    environment = {}
    cli_startup.quiet_tensorflow_start_up(environment)
    assert environment == {}


def test_native_stderr_is_hidden_while_python_stderr_still_shows(capfd):
    with cli_startup._native_stderr_to_devnull():
        os.write(2, b"native noise\n")
        print("a python warning", file=sys.stderr)
    os.write(2, b"after\n")
    err = capfd.readouterr().err
    assert "native noise" not in err
    assert "a python warning" in err and "after" in err


def test_main_quiets_the_python_loggers_unless_verbose(monkeypatch):
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl")]
    for logger in loggers:
        monkeypatch.setattr(logger, "level", logging.NOTSET)
    cli_parser.quiet_libraries(verbose=True)
    assert all(logger.level == logging.NOTSET for logger in loggers)
    cli_parser.quiet_libraries(verbose=False)
    assert all(logger.level == logging.ERROR for logger in loggers)


def test_verbose_is_accepted_before_and_after_the_command(tmp_path):
    parser = cli.build_parser()
    assert parser.parse_args(["--verbose", "info"]).verbose is True
    assert parser.parse_args(["info", "--verbose"]).verbose is True
    assert parser.parse_args(["info"]).verbose is False
    args = parser.parse_args(["--verbose", "evaluate", str(tmp_path)])
    assert args.verbose is True
