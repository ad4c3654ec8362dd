"""`keras-transformer translate`: sentences translated with a translation run."""

import sys

from keras_transformer.cli import flags


def run(args):
    from keras_transformer import tasks
    from keras_transformer.plots import plot_attention
    from keras_transformer.predictors import load_predictor

    texts = flags.texts(args)
    options = flags.decoding_options(args, tasks.for_command("translate"))
    translator = load_predictor(args.run_dir, "translate")
    for translation in translator.translate(texts, options, batch_size=args.batch_size):
        print(translation)
    if args.plot_attention:
        translation, source, target, weights = translator.cross_attention(texts[0], options)
        plot_attention(weights, source, target, args.plot_attention, f"{texts[0]} -> {translation}")
        print(f"attention of the last decoder block: {args.plot_attention}", file=sys.stderr)
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "translate", help="translate sentences (arguments, or one per line on stdin)"
    )
    parser.add_argument("run_dir", help="a run directory made by `train`")
    parser.add_argument("texts", nargs="*", help="sentences; read from stdin when none")
    parser.add_argument("--batch-size", type=flags.positive_int, default=64)
    parser.add_argument(
        "--plot-attention", metavar="OUT.png", help="cross-attention heatmaps of the first text"
    )
    flags.add_decoding_flags(parser)
    parser.set_defaults(handler=run)
