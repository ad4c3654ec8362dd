"""The `keras-transformer` command line: argument parsing only, the work lives in the package."""

import argparse
import dataclasses
import logging
import sys
import types
import typing

# Fields whose flags are spelled out by hand, not generated from the dataclasses.
_MANUAL = {"corpus", "out", "vocabulary_size", "target_vocabulary_size"}


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


def _field_type(field):
    """The Python type behind a dataclass field annotation (`int | None` -> int)."""
    annotation = field.type
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _add_dataclass_flags(parser, cls, title):
    """One `--field-name` flag per dataclass field; defaults stay None = "not given"."""
    group = parser.add_argument_group(title)
    for field in dataclasses.fields(cls):
        if field.name in _MANUAL:
            continue
        flag = "--" + field.name.replace("_", "-")
        kind = _field_type(field)
        if kind is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        else:
            group.add_argument(flag, type=kind, default=None, metavar=field.name.upper())


def _given(args, cls):
    return {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(cls)
        if f.name not in _MANUAL and getattr(args, f.name, None) is not None
    }


def _log_progress():
    """Our progress messages at INFO; other libraries' loggers (TensorFlow's) stay at WARNING."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("keras_transformer").setLevel(logging.INFO)


def _train(args):
    from keras_transformer.models import TransformerConfig
    from keras_transformer.training import TrainConfig, train

    _log_progress()
    model_overrides = _given(args, TransformerConfig)
    if args.config:
        model_config = TransformerConfig.from_json(args.config)
    elif args.preset:
        model_config = TransformerConfig.preset(args.preset)
    else:
        model_config = None  # chosen for the corpus
    train_config = TrainConfig(corpus=args.corpus, out=args.out, **_given(args, TrainConfig))
    result = train(
        model_config,
        train_config,
        overwrite=args.overwrite,
        verbose=1 if sys.stdout.isatty() else 2,
        model_overrides=model_overrides,
    )
    metrics = result.metrics
    print(
        f"\nrun: {result.run_dir} ({result.status}, {result.epochs} epochs, {result.seconds:.0f} s)"
    )
    print(f"  kept: {result.kept}")
    for name in ("loss", "masked_accuracy", "val_loss", "val_masked_accuracy", "val_bleu",
                 "val_chrf"):  # fmt: skip
        if name in metrics:
            print(f"  {name}: {metrics[name]:.4f}")
    return 0 if result.status == "finished" else 1


def _decoding_options(args):
    from keras_transformer.decoding import DecodingOptions

    sampling = args.sample or args.top_k or args.top_p is not None
    if args.beam_width and sampling:
        raise ValueError(
            "Choose beam search (--beam-width) or sampling (--sample/--top-k/--top-p)."
        )
    if args.greedy and (args.beam_width or sampling):
        raise ValueError(
            "Choose greedy decoding (--greedy), beam search (--beam-width) or sampling."
        )
    strategy = "sample" if sampling else "greedy" if args.greedy else "beam"
    return DecodingOptions(
        strategy=strategy,
        beam_width=args.beam_width or 4,
        alpha=args.alpha,
        temperature=args.temperature,
        top_k=args.top_k or 0,
        top_p=1.0 if args.top_p is None else args.top_p,
        seed=args.sampling_seed,
        max_length=args.max_length,
        max_length_a=args.max_length_a,
        max_length_b=args.max_length_b,
        no_repeat_ngram_size=args.no_repeat_ngram_size,
        jit_compile=args.jit_compile,
    )


def _add_decoding_flags(parser):
    group = parser.add_argument_group("decoding (default: beam search, 4 beams, alpha 0.6)")
    group.add_argument("--beam-width", "--beam", type=int, metavar="N", dest="beam_width",
                       help="beam search with N beams (4); --beam is the older name")  # fmt: skip
    group.add_argument("--greedy", action="store_true", help="greedy decoding instead of beams")
    group.add_argument("--alpha", type=float, default=0.6, help="beam length penalty (0.6)")
    group.add_argument("--sample", action="store_true", help="sample instead of the best token")
    group.add_argument("--top-k", type=int, help="sample from the K most likely tokens")
    group.add_argument("--top-p", type=float, help="sample from the top-P probability mass")
    group.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    group.add_argument("--sampling-seed", "--seed", type=int, default=0, dest="sampling_seed",
                       help="the seed of --sample (0); --seed is the older name")  # fmt: skip
    _add_output_flags(group)


def _add_output_flags(group):
    """The flags every decoding command shares: output lengths, repeats, XLA."""
    group.add_argument("--max-length", type=int, help="most tokens to generate (a cap)")
    group.add_argument("--max-length-a", type=float, default=1.5, metavar="A",
                       help="at most A * source tokens + B new tokens (default: 1.5)")  # fmt: skip
    group.add_argument("--max-length-b", type=int, default=10, metavar="B",
                       help="see --max-length-a (default: 10)")  # fmt: skip
    group.add_argument("--no-repeat-ngram-size", type=int, metavar="N",
                       help="never repeat an n-gram of N tokens (0: off; default: 3, but off "
                       "for a character tokenizer)")  # fmt: skip
    group.add_argument(
        "--jit-compile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compile the decoding loop with XLA (default: on)",
    )


def _evaluate(args):
    import json

    from keras_transformer.evaluation import evaluate_run

    results = evaluate_run(
        args.run_dir,
        split=args.split,
        options=_decoding_options(args),
        batch_size=args.batch_size,
        progress=not args.json,
        limit=args.limit,
        bleu_tokenize=args.bleu_tokenize,
    )
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    print(
        f"\n{args.run_dir}: {results['split']} split, {results['pairs']} pairs "
        f"({results['sources']} distinct sources, all their references), "
        f"{results['strategy']} decoding, BLEU tokenization {results['bleu_tokenize']}"
    )
    for name in ("bleu", "chrf", "exact_match", "loop_rate", "masked_accuracy"):
        value = results[name]
        percent = name in ("exact_match", "loop_rate", "masked_accuracy")
        shown = f"{100 * value:.2f} %" if percent else f"{value:.2f}"
        print(f"  {name:<16} {shown}")
    return 0


def _translate(args):
    from keras_transformer.plots import plot_attention
    from keras_transformer.run import Run

    texts = args.texts or [line.rstrip("\n") for line in sys.stdin]
    options = _decoding_options(args)
    translator = Run(args.run_dir).translator()  # only the model and the tokenizers
    for translation in translator.translate(texts, options, batch_size=args.batch_size):
        print(translation)
    if args.plot_attention:
        translation, source, target, weights = translator.cross_attention(texts[0], options)
        plot_attention(weights, source, target, args.plot_attention, f"{texts[0]} -> {translation}")
        print(f"attention of the last decoder block: {args.plot_attention}", file=sys.stderr)
    return 0


def _export(args):
    from keras_transformer.export import export_keras, export_saved_model

    if args.format == "keras":
        path = export_keras(args.run_dir, args.export_dir, overwrite=args.overwrite)
    else:
        if args.greedy and args.beam_width:
            raise ValueError("Choose greedy decoding (--greedy) or beam search (--beam-width).")
        path = export_saved_model(
            args.run_dir,
            args.export_dir,
            beam_width=args.beam_width or 4,
            alpha=args.alpha,
            greedy=args.greedy,
            max_length=args.max_length,
            max_length_a=args.max_length_a,
            max_length_b=args.max_length_b,
            no_repeat_ngram_size=args.no_repeat_ngram_size,
            jit_compile=args.jit_compile,
            overwrite=args.overwrite,
        )
    print(f"exported {args.run_dir} to {path} ({args.format})")
    return 0


def _tune(args):
    from keras_transformer.json_config import json_text_or_path
    from keras_transformer.models import TransformerConfig
    from keras_transformer.training import TrainConfig
    from keras_transformer.tuning import DEFAULT_SPACE, train_command, tune

    _log_progress()
    model_values, train_values = _given(args, TransformerConfig), _given(args, TrainConfig)
    base = TransformerConfig.preset(args.preset, **model_values)
    train_config = TrainConfig(corpus=args.corpus, out=args.out, **train_values)
    # A flag naming a searched hyper-parameter fixes it (unless --space also sets it).
    space = {k: v for k, v in {**model_values, **train_values}.items() if k in DEFAULT_SPACE}
    if args.space:
        space.update(json_text_or_path(args.space, "search space"))
    result = tune(
        train_config,
        tuner=args.tuner,
        max_trials=args.max_trials,
        space=space,
        base_config=base,
        objective=args.objective,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    if result is None:  # a keras-tuner worker: the chief writes the results
        print("worker finished: the chief writes the results")
        return 0
    print()
    print(result.trials_table.read_text())
    print(f"best config: {result.best_config}")
    print(f"train it:    {train_command(result, args.corpus)}")
    return 0


def build_parser():
    from keras_transformer import __version__
    from keras_transformer.data.corpus import SPLITS
    from keras_transformer.evaluation.scores import BLEU_TOKENIZATIONS
    from keras_transformer.export import EXPORT_FORMATS
    from keras_transformer.models import PRESETS, TransformerConfig
    from keras_transformer.training import TrainConfig
    from keras_transformer.tuning.space import OBJECTIVE_NAMES, TUNER_NAMES

    parser = argparse.ArgumentParser(
        prog="keras-transformer",
        description="The Transformer of 'Attention Is All You Need' for Keras 3.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = commands.add_parser("info", help="versions of the stack and the devices found")
    info.set_defaults(handler=_info)

    train = commands.add_parser(
        "train",
        help="train a Transformer on the dates corpus or a TSV file",
        description="Train with model.fit and write a run directory. Every setting left "
        "unset is chosen for the corpus (the choices are printed at the start). Re-running the "
        "same command after an interruption resumes the run.",
    )
    train.add_argument(
        "--corpus", required=True, nargs="+", metavar="FILE",
        help="'dates', or TSV files: paths or quoted globs, plain or .gz (streamed above "
        "200k lines)",
    )  # fmt: skip
    train.add_argument("--out", required=True, help="the run directory")
    train.add_argument(
        "--preset", choices=sorted(PRESETS),
        help="the model's preset (default: chosen for the corpus size, printed at the start)",
    )  # fmt: skip
    train.add_argument("--config", help="a TransformerConfig JSON file (instead of --preset)")
    train.add_argument("--overwrite", action="store_true", help="replace a finished run")
    _add_dataclass_flags(train, TrainConfig, "training")
    _add_dataclass_flags(train, TransformerConfig, "model (overrides the preset)")
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser(
        "evaluate", help="BLEU, chrF, exact match and token accuracy of a run on a split"
    )
    evaluate.add_argument("run_dir", help="a run directory made by `train`")
    evaluate.add_argument("--split", default="test", choices=SPLITS)
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--batch-size", type=int, default=64)
    evaluate.add_argument("--limit", type=int, help="evaluate only the first N sources")
    evaluate.add_argument(
        "--bleu-tokenize", choices=BLEU_TOKENIZATIONS,
        help="sacrebleu's BLEU tokenization (default: the run's, chosen for its target script)",
    )  # fmt: skip
    _add_decoding_flags(evaluate)
    evaluate.set_defaults(handler=_evaluate)

    translate = commands.add_parser(
        "translate", help="translate sentences (arguments, or one per line on stdin)"
    )
    translate.add_argument("run_dir", help="a run directory made by `train`")
    translate.add_argument("texts", nargs="*", help="sentences; read from stdin when none")
    translate.add_argument("--batch-size", type=int, default=64)
    translate.add_argument(
        "--plot-attention", metavar="OUT.png", help="cross-attention heatmaps of the first text"
    )
    _add_decoding_flags(translate)
    translate.set_defaults(handler=_translate)

    tune = commands.add_parser(
        "tune",
        help="search hyper-parameters with keras-tuner",
        description="Run a keras-tuner search; re-running the same command resumes it. For "
        "several machines set KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and "
        "KERASTUNER_ORACLE_PORT (see the README).",
    )
    tune.add_argument(
        "--corpus", required=True, nargs="+", metavar="FILE",
        help="'dates', or TSV files: paths or quoted globs, plain or .gz",
    )  # fmt: skip
    tune.add_argument("--out", required=True, help="the tuning directory (resumable)")
    tune.add_argument("--tuner", choices=TUNER_NAMES, default="random")
    tune.add_argument("--max-trials", type=int, default=10)
    tune.add_argument("--objective", choices=OBJECTIVE_NAMES, default="val_masked_accuracy")
    tune.add_argument(
        "--space", help="search space: JSON text or file, e.g. '{\"num_layers\": [1, 2]}'"
    )
    tune.add_argument("--preset", default="tiny", choices=sorted(PRESETS),
                      help="the values of everything not searched")  # fmt: skip
    _add_dataclass_flags(tune, TrainConfig, "data and training")
    _add_dataclass_flags(tune, TransformerConfig, "model (fixed values, not searched)")
    tune.set_defaults(handler=_tune)

    export = commands.add_parser(
        "export", help="a SavedModel that translates strings (or the bare .keras model)"
    )
    export.add_argument("run_dir", help="a run directory made by `train`")
    export.add_argument("export_dir", help="where to write the SavedModel (or the .keras file)")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="saved_model")
    export.add_argument("--beam-width", "--beam", type=int, metavar="N", dest="beam_width",
                        help="beam search with N beams (4); --beam is the older name")  # fmt: skip
    export.add_argument("--greedy", action="store_true", help="greedy decoding instead of beams")
    export.add_argument("--alpha", type=float, default=0.6, help="beam length penalty (0.6)")
    _add_output_flags(export)
    export.add_argument("--overwrite", action="store_true", help="replace an existing export")
    export.set_defaults(handler=_export)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"keras-transformer {args.command}: error: {error}", file=sys.stderr)
        return 2
