"""`keras-transformer evaluate`: a run's scores on one of its splits, as its task reports."""

import json

from keras_transformer.cli import flags


def run(args):
    from keras_transformer import tasks
    from keras_transformer.evaluation.evaluate import evaluate_run
    from keras_transformer.run import Run

    run_ = Run.open(args.run_dir)
    task = tasks.of(run_)
    results = evaluate_run(
        args.run_dir,
        split=args.split,
        options=flags.decoding_options(args, task) if task.decoding_defaults else None,
        batch_size=args.batch_size,
        progress=not args.json,
        limit=args.limit,
        bleu_tokenize=args.bleu_tokenize,
    )
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print(task.report(run_, results))
    return 0


def add_parser(commands):
    from keras_transformer.data.corpus import SPLITS
    from keras_transformer.evaluation.scores import BLEU_TOKENIZATIONS

    parser = commands.add_parser(
        "evaluate",
        help="a run's scores on a split: BLEU, chrF, exact match and token accuracy "
        "(translation), perplexity (lm), accuracy and macro-F1 (classify)",
    )
    parser.add_argument("run_dir", help="a run directory made by `train`")
    parser.add_argument("--split", default="test", choices=SPLITS)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--batch-size", type=flags.positive_int, default=64)
    parser.add_argument("--limit", type=flags.positive_int,
                        help="evaluate only the first N sources")  # fmt: skip
    parser.add_argument(
        "--bleu-tokenize", choices=BLEU_TOKENIZATIONS,
        help="sacrebleu's BLEU tokenization (default: the run's, chosen for its target script)",
    )  # fmt: skip
    flags.add_decoding_flags(parser)
    parser.set_defaults(handler=run)
