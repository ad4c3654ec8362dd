"""The `keras-transformer` command line: argument parsing only, the work lives in the package."""

import argparse
import sys


def _info(args):
    """Prints the versions and devices that decide how training will run."""
    import keras
    import tensorflow as tf
    import tensorflow_text

    import keras_transformer

    devices = tf.config.list_physical_devices()
    gpus = [d for d in devices if d.device_type == "GPU"]
    print(f"keras_transformer {keras_transformer.__version__}")
    print(f"keras {keras.__version__} (backend: {keras.backend.backend()})")
    print(f"tensorflow {tf.__version__}, tensorflow-text {tensorflow_text.__version__}")
    print(f"devices: {', '.join(d.name for d in devices)}")
    print(f"gpus: {len(gpus)}")
    return 0


def build_parser():
    from keras_transformer import __version__

    parser = argparse.ArgumentParser(
        prog="keras-transformer",
        description="The Transformer of 'Attention Is All You Need' for Keras 3.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = commands.add_parser("info", help="versions of the stack and the devices found")
    info.set_defaults(handler=_info)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    return args.handler(args)
