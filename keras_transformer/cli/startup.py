"""What the `keras-transformer` command does before TensorFlow is imported: it hides
TensorFlow's start-up logging (absl's "All log messages before absl::InitializeLog()" warning,
the CUDA probes of a machine without a GPU, the oneDNN and CPU-instruction notices), so that
the command shows only its own messages; `--verbose` shows them.

The package's `__init__` imports this module first, because importing Keras imports
TensorFlow, whose C++ start-up messages are written when it loads. In any process that is not
the command line (a script, a notebook, the tests) it changes nothing. Standard library only.

TensorFlow's C++ logging obeys `TF_CPP_MIN_LOG_LEVEL` (3: fatal errors only; an explicit value
in the environment wins), except for the messages written while its libraries load, before
absl's logging is initialized: file descriptor 2 points at /dev/null during `import
tensorflow` only, while Python's `sys.stderr` keeps the real stderr (Python warnings and
tracebacks still show).
"""

import contextlib
import importlib.util
import os
import pathlib
import sys

COMMAND = "keras-transformer"
# `python -m keras_transformer` and `python -m keras_transformer.cli` are the command too.
MODULES = ("keras_transformer", "keras_transformer.cli")
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3"}
# Python's options that take a value as the next word (`python -X importtime -m ...`).
_OPTIONS_WITH_VALUES = ("-X", "-W", "--check-hash-based-pycs")


def is_command_line(argv=None, orig_argv=None):
    """Whether this process is `keras-transformer` (the console script, or `python -m` of the
    package or of `keras_transformer.cli`), from `sys.argv` and `sys.orig_argv`."""
    argv = sys.argv if argv is None else argv
    orig_argv = getattr(sys, "orig_argv", []) if orig_argv is None else orig_argv
    # (PureWindowsPath: `\` and `/` both separate.)
    if argv and pathlib.PureWindowsPath(argv[0]).name.removesuffix(".exe") == COMMAND:
        return True
    words = iter(orig_argv[1:])
    for word in words:
        if word == "-m":
            return next(words, None) in MODULES
        if word.startswith("-m"):
            return word[2:] in MODULES
        if word in _OPTIONS_WITH_VALUES:
            next(words, None)
        elif word == "-c" or not word.startswith("-"):
            return False
    return False


def wants_quiet(argv=None, orig_argv=None):
    """Whether to hide TensorFlow's start-up logging: the command line without `--verbose`."""
    argv = sys.argv if argv is None else argv
    return is_command_line(argv, orig_argv) and "--verbose" not in argv[1:]


def quiet_tensorflow_start_up(environ=None):
    """In the command line without `--verbose`: `QUIET_ENVIRONMENT` as defaults of `environ`
    (`os.environ`), then TensorFlow imported with file descriptor 2 on /dev/null. Does nothing
    elsewhere, or when TensorFlow is already imported or not installed."""
    if not wants_quiet():
        return
    environ = os.environ if environ is None else environ
    for name, value in QUIET_ENVIRONMENT.items():
        environ.setdefault(name, value)
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    with _native_stderr_to_devnull():
        import tensorflow  # noqa: F401


@contextlib.contextmanager
def _native_stderr_to_devnull():
    """File descriptor 2 (what C++ writes to) on /dev/null; `sys.stderr`, when it is the
    process's stderr, writes to the real one meanwhile."""
    python_stderr = sys.stderr
    with contextlib.suppress(AttributeError, OSError, ValueError):
        python_stderr.flush()
    saved = os.dup(2)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        replacement = None
        if python_stderr is not None and python_stderr is sys.__stderr__:
            replacement = open(saved, "w", buffering=1, encoding=python_stderr.encoding,  # noqa: SIM115
                               errors="backslashreplace", closefd=False)  # fmt: skip
            sys.stderr = replacement
        try:
            yield
        finally:
            if replacement is not None:
                replacement.close()  # flushes; the descriptor stays open (closefd=False)
                if sys.stderr is replacement:
                    sys.stderr = python_stderr
    finally:
        os.dup2(saved, 2)
        os.close(saved)


quiet_tensorflow_start_up()
