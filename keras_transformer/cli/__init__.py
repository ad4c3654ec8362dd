"""The `keras-transformer` command line: `parser` (the shared flag groups in `flags`) and one
module per command, each short: get the run and its task, call it, print its report."""

from keras_transformer.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
