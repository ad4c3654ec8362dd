"""The `keras-transformer` parser: its commands (one module each) and `main`."""

import argparse
import logging
import sys

from keras_transformer.cli import (
    classify,
    evaluate,
    export,
    generate,
    info,
    train,
    translate,
    tune,
)

VERBOSE_HELP = "show TensorFlow's own start-up and device messages (hidden by default)"


def build_parser():
    from keras_transformer import __version__, tasks

    presets = sorted({n for t in tasks.all_tasks() for n in t.config_class.preset_names()})
    model_configs = tuple(t.config_class for t in tasks.all_tasks())
    parser = argparse.ArgumentParser(
        prog="keras-transformer",
        description="The Transformer of 'Attention Is All You Need' for Keras 3.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    info.add_parser(commands)
    train.add_parser(commands, presets, model_configs)
    evaluate.add_parser(commands)
    translate.add_parser(commands)
    tune.add_parser(commands, presets, model_configs)
    generate.add_parser(commands)
    classify.add_parser(commands)
    export.add_parser(commands)
    for command in commands.choices.values():  # `keras-transformer train --verbose` too
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=VERBOSE_HELP)  # fmt: skip
    return parser


def quiet_libraries(verbose):
    """TensorFlow's and absl's Python loggers at ERROR unless `verbose` (their C++ start-up
    logging is hidden before TensorFlow is imported: `keras_transformer.cli.startup`)."""
    if not verbose:
        for name in ("tensorflow", "absl"):
            logging.getLogger(name).setLevel(logging.ERROR)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    quiet_libraries(verbose="--verbose" in argv)
    try:
        parser = build_parser()  # the command line is the TensorFlow pipeline's
    except ImportError as error:
        print(f"keras-transformer: error: {error}", file=sys.stderr)
        return 2
    args, extra = parser.parse_known_args(argv)
    # Texts after an option (`generate RUN --greedy "text"`): argparse leaves them over.
    if extra and isinstance(getattr(args, "texts", None), list):
        args.texts += [e for e in extra if not e.startswith("-")]
        extra = [e for e in extra if e.startswith("-")]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"keras-transformer {args.command}: error: {error}", file=sys.stderr)
        return 2
