"""`keras-transformer generate`: prompts continued with a language-model run."""

from keras_transformer.cli import flags


def run(args):
    from keras_transformer import tasks
    from keras_transformer.predictors import load_predictor

    options = flags.decoding_options(args, tasks.for_command("generate"), announce=True)
    generator = load_predictor(args.run_dir, "generate")
    for index, text in enumerate(generator.generate(flags.texts(args), options)):
        print(("\n" if index else "") + text)
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "generate", help="continue prompts with a language-model run (arguments, or stdin)"
    )
    parser.add_argument("run_dir", help="a run directory made by `train --task lm`")
    parser.add_argument("texts", nargs="*", help="prompts; read from stdin (one per line) "
                        "when none")  # fmt: skip
    flags.add_decoding_flags(parser)
    parser.set_defaults(handler=run)
