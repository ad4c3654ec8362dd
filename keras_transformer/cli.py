"""The `keras-transformer` command line: argument parsing only, the work lives in the package."""

import argparse
import dataclasses
import logging
import sys
import types
import typing

from keras_transformer import cli_types
from keras_transformer.cli_types import (
    finite_float,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    probability,
    seed,
)

VERBOSE_HELP = "show TensorFlow's own start-up and device messages (hidden by default)"
# Fields whose flags are spelled out by hand or that the data decides, not generated from
# the dataclasses.
_MANUAL = {"corpus", "out", "task", "vocabulary_size", "target_vocabulary_size", "num_classes",
           "segments"}  # fmt: skip


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


def _add_dataclass_flags(parser, classes, title):
    """One `--field-name` flag per field of the dataclasses (a name once); defaults stay
    None = "not given"."""
    group = parser.add_argument_group(title)
    seen = set()
    for cls in classes if isinstance(classes, tuple) else (classes,):
        for field in dataclasses.fields(cls):
            if field.name in _MANUAL or field.name in seen:
                continue
            seen.add(field.name)
            flag = "--" + field.name.replace("_", "-")
            kind = _field_type(field)
            if kind is bool:
                group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
            elif kind in (int, float):
                group.add_argument(flag, type=cli_types.field_type(field.name, kind),
                                   default=None, metavar=field.name.upper())  # fmt: skip
            else:
                group.add_argument(flag, type=kind, default=None, metavar=field.name.upper())


def _given(args, cls):
    return {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(cls)
        if f.name not in _MANUAL and getattr(args, f.name, None) is not None
    }


def _model_flags(args, task):
    """The model flags given, checked against the task's model configuration; and that
    configuration's class."""
    from keras_transformer.run import MODEL_CONFIGS

    config_class = MODEL_CONFIGS[task]
    names = {f.name for f in dataclasses.fields(config_class)}
    others = {f.name for c in MODEL_CONFIGS.values() for f in dataclasses.fields(c)} - names
    wrong = sorted(n for n in others - _MANUAL if getattr(args, n, None) is not None)
    if wrong:
        flags = ", ".join("--" + n.replace("_", "-") for n in wrong)
        raise ValueError(
            f"{flags}: not a setting of the {task!r} task's model ({config_class.__name__}); "
            "drop it, or choose the task it belongs to with --task."
        )
    return _given(args, config_class), config_class


def _log_progress():
    """Our progress messages at INFO; other libraries' loggers (TensorFlow's) stay at WARNING."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("keras_transformer").setLevel(logging.INFO)


def _train(args):
    from keras_transformer.training import TrainConfig, train

    _log_progress()
    model_overrides, config_class = _model_flags(args, args.task)
    if args.config:
        model_config = config_class.from_json(args.config)
    elif args.preset:
        model_config = config_class.preset(args.preset)
    else:
        model_config = None  # chosen for the corpus
    train_config = TrainConfig(task=args.task, corpus=args.corpus, out=args.out,
                               **_given(args, TrainConfig))  # fmt: skip
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
    for name in ("loss", "masked_accuracy", "accuracy", "perplexity", "val_loss",
                 "val_masked_accuracy", "val_accuracy", "val_perplexity", "val_bleu",
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
    group.add_argument("--beam-width", "--beam", type=positive_int, metavar="N",
                       dest="beam_width",
                       help="beam search with N beams (4); --beam is the older name")  # fmt: skip
    group.add_argument("--greedy", action="store_true", help="greedy decoding instead of beams")
    group.add_argument("--alpha", type=finite_float, default=0.6, help="beam length penalty (0.6)")
    group.add_argument("--sample", action="store_true", help="sample instead of the best token")
    _add_sampling_numbers(group, temperature=1.0)
    group.add_argument("--sampling-seed", "--seed", type=seed, default=0, dest="sampling_seed",
                       help="the seed of --sample (0); --seed is the older name")  # fmt: skip
    _add_output_flags(group)


def _add_output_flags(group):
    """The flags every decoding command shares: output lengths, repeats, XLA."""
    group.add_argument("--max-length", type=positive_int, help="most tokens to generate (a cap)")
    group.add_argument("--max-length-a", type=non_negative_float, default=1.5, metavar="A",
                       help="at most A * source tokens + B new tokens (default: 1.5)")  # fmt: skip
    group.add_argument("--max-length-b", type=non_negative_int, default=10, metavar="B",
                       help="see --max-length-a (default: 10)")  # fmt: skip
    group.add_argument("--no-repeat-ngram-size", type=non_negative_int, metavar="N",
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
    if "perplexity" in results:
        _print_language_model_scores(args.run_dir, results)
    elif "macro_f1" in results:
        _print_classifier_scores(args.run_dir, results)
    else:
        _print_translation_scores(args.run_dir, results)
    return 0


def _print_translation_scores(run_dir, results):
    print(
        f"\n{run_dir}: {results['split']} split, {results['pairs']} pairs "
        f"({results['sources']} distinct sources, all their references), "
        f"{results['strategy']} decoding, BLEU tokenization {results['bleu_tokenize']}"
    )
    for name in ("bleu", "chrf", "exact_match", "loop_rate", "masked_accuracy"):
        value = results[name]
        percent = name in ("exact_match", "loop_rate", "masked_accuracy")
        shown = f"{100 * value:.2f} %" if percent else f"{value:.2f}"
        print(f"  {name:<16} {shown}")


def _print_language_model_scores(run_dir, results):
    print(
        f"\n{run_dir}: {results['split']} split, {results['documents']} documents, "
        f"{results['tokens']} tokens in blocks of {results['block_size']}"
    )
    print(f"  {'perplexity':<20} {results['perplexity']:.3f} (per token)")
    print(f"  {'bits_per_character':<20} {results['bits_per_character']:.3f}")
    for example in results["examples"]:
        print(f"  sample: {example['prompt']!r} -> {example['continuation']!r}")


def _print_classifier_scores(run_dir, results):
    print(f"\n{run_dir}: {results['split']} split, {results['count']} examples")
    print(f"  {'accuracy':<10} {100 * results['accuracy']:.2f} %")
    print(f"  {'macro_f1':<10} {100 * results['macro_f1']:.2f} %")
    width = max(len(label) for label in results["per_class"])
    print(f"  {'label':<{width}}  precision  recall  f1      support")
    for label, row in results["per_class"].items():
        print(
            f"  {label:<{width}}  {100 * row['precision']:6.2f} %  {100 * row['recall']:6.2f} %"
            f"  {100 * row['f1']:6.2f} %  {row['support']}"
        )
    if results["unknown_labels"]:
        print(f"  left out: {results['unknown_labels']} examples with labels never trained on")
    if results["plot"]:
        print(f"  confusion matrix: {results['plot']}")


def _translate(args):
    from keras_transformer.plots import plot_attention
    from keras_transformer.run import Run

    texts = _texts(args)
    options = _decoding_options(args)
    translator = Run.open(args.run_dir).translator()
    for translation in translator.translate(texts, options, batch_size=args.batch_size):
        print(translation)
    if args.plot_attention:
        translation, source, target, weights = translator.cross_attention(texts[0], options)
        plot_attention(weights, source, target, args.plot_attention, f"{texts[0]} -> {translation}")
        print(f"attention of the last decoder block: {args.plot_attention}", file=sys.stderr)
    return 0


def _texts(args):
    """The texts given as arguments, or one per line on stdin."""
    return args.texts or [line.rstrip("\n") for line in sys.stdin]


def _generation_options(args):
    """`Generator.generate` keyword arguments: the flags given, else `GENERATION_DEFAULTS`
    (said on stderr)."""
    from keras_transformer.decoding.generator import GENERATION_DEFAULTS

    sampling = args.sample or args.top_k or args.top_p is not None or args.temperature
    if sum(map(bool, (args.greedy, args.beam_width, sampling))) > 1:
        raise ValueError("Choose one of --greedy, --beam-width N, or sampling (--sample, "
                         "--top-k, --top-p, --temperature).")  # fmt: skip
    options = dict(max_new_tokens=args.max_new_tokens, stop=getattr(args, "stop", None) or (),
                   jit_compile=args.jit_compile)  # fmt: skip
    if args.no_repeat_ngram_size:
        options["no_repeat_ngram_size"] = args.no_repeat_ngram_size
    if args.greedy:
        return {**options, "strategy": "greedy"}
    if args.beam_width:
        return {**options, "strategy": "beam", "beam_width": args.beam_width, "alpha": args.alpha}
    if not sampling:
        print(
            "decoding: nucleus sampling, top-p 0.9, temperature 0.8, seed 0 (the default; "
            "--greedy, --beam-width N or the sampling flags choose another)",
            file=sys.stderr,
        )
        return {**options, **GENERATION_DEFAULTS, "seed": args.sampling_seed}
    return {
        **options, "strategy": "sample", "top_k": args.top_k or 0,
        "top_p": 1.0 if args.top_p is None else args.top_p,
        "temperature": args.temperature or 1.0, "seed": args.sampling_seed,
    }  # fmt: skip


def _add_sampling_flags(group):
    group.add_argument("--sample", action="store_true", help="sample from the whole distribution")
    _add_sampling_numbers(group, temperature=None)
    group.add_argument("--sampling-seed", "--seed", type=seed, default=0, dest="sampling_seed",
                       help="the seed of sampling (0)")  # fmt: skip


def _add_sampling_numbers(group, temperature):
    group.add_argument("--top-k", type=non_negative_int,
                       help="sample from the K most likely tokens (0: all)")  # fmt: skip
    group.add_argument("--top-p", type=probability,
                       help="sample from the top-P probability mass, P in (0, 1]")  # fmt: skip
    group.add_argument("--temperature", type=positive_float, default=temperature,
                       help="sampling temperature (> 0)")  # fmt: skip


def _generate(args):
    from keras_transformer.run import Run

    options = _generation_options(args)
    generator = Run.open(args.run_dir).generator()
    for index, text in enumerate(generator.generate(_texts(args), **options)):
        print(("\n" if index else "") + text)
    return 0


def _classify(args):
    import json

    from keras_transformer.run import Run

    classifier = Run.open(args.run_dir).text_classifier()
    texts = _texts(args)
    if classifier.pairs:
        if any("\t" not in text for text in texts):
            raise ValueError(
                "This classifier reads sentence pairs: give each as 'text_a<TAB>text_b' "
                f"(e.g. $'first\\tsecond' in bash); received {texts[0]!r}."
            )
        texts = [tuple(text.split("\t", 1)) for text in texts]
    for text, prediction in zip(texts, classifier.predict(texts, args.batch_size), strict=True):
        if args.json:
            row = {"text": text, "label": prediction.label,
                   "probabilities": prediction.probabilities}  # fmt: skip
            print(json.dumps(row, ensure_ascii=False))
        else:
            shown = text if isinstance(text, str) else "\t".join(text)
            print(f"{prediction.label}\t{prediction.probability:.3f}\t{shown}")
    return 0


def _export(args):
    from keras_transformer.export import (
        export_classifier,
        export_keras,
        export_language_model,
        export_saved_model,
    )
    from keras_transformer.run import Run

    run = Run.open(args.run_dir)
    if args.format == "keras":
        path = export_keras(args.run_dir, args.export_dir, overwrite=args.overwrite)
    elif run.task == "lm":
        options = _generation_options(args)
        options.pop("stop")
        path = export_language_model(run.load_model(), run.tokenizer, args.export_dir,
                                     overwrite=args.overwrite, **options)  # fmt: skip
    elif run.task == "classify":
        path = export_classifier(run.load_model(), run.tokenizer, run.labels, args.export_dir,
                                 overwrite=args.overwrite)  # fmt: skip
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
    from keras_transformer.training import TrainConfig
    from keras_transformer.tuning import DEFAULT_SPACE, train_command, tune

    _log_progress()
    model_values, config_class = _model_flags(args, args.task)
    train_values = _given(args, TrainConfig)
    base = config_class.preset(args.preset, **model_values)
    train_config = TrainConfig(task=args.task, corpus=args.corpus, out=args.out, **train_values)
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
    print(f"train it:    {train_command(result, train_config.corpus, args.task)}")
    return 0


def build_parser():
    from keras_transformer import __version__
    from keras_transformer.data.corpus import SPLITS
    from keras_transformer.evaluation.scores import BLEU_TOKENIZATIONS
    from keras_transformer.export import EXPORT_FORMATS
    from keras_transformer.models import (
        CLASSIFIER_PRESETS,
        LANGUAGE_MODEL_PRESETS,
        PRESETS,
    )
    from keras_transformer.run import MODEL_CONFIGS
    from keras_transformer.training import TrainConfig
    from keras_transformer.training.config import TASKS
    from keras_transformer.tuning.space import OBJECTIVE_NAMES, TUNER_NAMES

    presets = sorted({*PRESETS, *LANGUAGE_MODEL_PRESETS, *CLASSIFIER_PRESETS})
    model_configs = tuple(MODEL_CONFIGS.values())
    parser = argparse.ArgumentParser(
        prog="keras-transformer",
        description="The Transformer of 'Attention Is All You Need' for Keras 3.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = commands.add_parser("info", help="versions of the stack and the devices found")
    info.set_defaults(handler=_info)

    train = commands.add_parser(
        "train",
        help="train a translator, a language model or a classifier",
        description="Train with model.fit and write a run directory. Every setting left "
        "unset is chosen for the corpus (the choices are printed at the start). Re-running the "
        "same command after an interruption resumes the run.",
    )
    train.add_argument(
        "--task", choices=TASKS, default="translate",
        help="translate (a Transformer, the default), lm (a decoder-only language model) or "
        "classify (an encoder classifier)",
    )  # fmt: skip
    train.add_argument(
        "--corpus", nargs="+", metavar="FILE",
        help="translate: 'dates' or TSV files of source<TAB>target (paths or quoted globs, "
        "plain or .gz; streamed above 200k lines). lm: 'python-docs' or text files (documents "
        "one per line or blank-line separated). classify: 'date-validity' or TSV files of "
        "text<TAB>label or text_a<TAB>text_b<TAB>label. Default: the task's built-in corpus",
    )  # fmt: skip
    train.add_argument("--out", required=True, help="the run directory")
    train.add_argument(
        "--preset", choices=presets,
        help="the model's preset (default: chosen for the corpus, printed at the start); "
        f"translate: {', '.join(PRESETS)}; lm: {', '.join(LANGUAGE_MODEL_PRESETS)}; "
        f"classify: {', '.join(CLASSIFIER_PRESETS)}",
    )  # fmt: skip
    train.add_argument("--config", help="the model's configuration JSON file (instead of --preset)")
    train.add_argument(
        "--overwrite", action="store_true",
        help="replace the run in --out (its own files only, once the new corpus is read); a "
        "directory that is not a run is never written into unless it is empty",
    )  # fmt: skip
    _add_dataclass_flags(train, TrainConfig, "training")
    _add_dataclass_flags(train, model_configs, "model (overrides the preset)")
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser(
        "evaluate", help="BLEU, chrF, exact match and token accuracy of a run on a split"
    )
    evaluate.add_argument("run_dir", help="a run directory made by `train`")
    evaluate.add_argument("--split", default="test", choices=SPLITS)
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--batch-size", type=positive_int, default=64)
    evaluate.add_argument("--limit", type=positive_int, help="evaluate only the first N sources")
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
    translate.add_argument("--batch-size", type=positive_int, default=64)
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
    tune.add_argument("--task", choices=TASKS, default="translate",
                      help="translate (the default), lm or classify, as for train")  # fmt: skip
    tune.add_argument(
        "--corpus", nargs="+", metavar="FILE",
        help="as for train; default: the task's built-in corpus",
    )  # fmt: skip
    tune.add_argument("--out", required=True, help="the tuning directory (resumable)")
    tune.add_argument("--tuner", choices=TUNER_NAMES, default="random")
    tune.add_argument("--max-trials", type=positive_int, default=10)
    tune.add_argument(
        "--objective", choices=OBJECTIVE_NAMES,
        help="what the search optimizes (default: val_masked_accuracy for translate, val_loss, "
        "the log of the validation perplexity, for lm, val_accuracy for classify)",
    )  # fmt: skip
    tune.add_argument(
        "--space", help="search space: JSON text or file, e.g. '{\"num_layers\": [1, 2]}'"
    )
    tune.add_argument("--preset", default="tiny", choices=presets,
                      help="the values of everything not searched")  # fmt: skip
    _add_dataclass_flags(tune, TrainConfig, "data and training")
    _add_dataclass_flags(tune, model_configs, "model (fixed values, not searched)")
    tune.set_defaults(handler=_tune)

    generate = commands.add_parser(
        "generate", help="continue prompts with a language-model run (arguments, or stdin)"
    )
    generate.add_argument("run_dir", help="a run directory made by `train --task lm`")
    generate.add_argument("texts", nargs="*", help="prompts; read from stdin (one per line) "
                          "when none")  # fmt: skip
    group = generate.add_argument_group(
        "generation (default: nucleus sampling, top-p 0.9, temperature 0.8, seed 0)"
    )
    group.add_argument("--max-new-tokens", type=positive_int, default=64,
                       help="tokens to add (64)")  # fmt: skip
    group.add_argument("--stop", action="append", metavar="TEXT",
                       help="end the continuation before this text (repeatable), e.g. "
                       "--stop $'\\n'")  # fmt: skip
    group.add_argument("--greedy", action="store_true", help="the most likely token each step")
    group.add_argument("--beam-width", "--beam", type=positive_int, metavar="N",
                       dest="beam_width", help="beam search with N beams")  # fmt: skip
    group.add_argument("--alpha", type=finite_float, default=0.6, help="beam length penalty (0.6)")
    _add_sampling_flags(group)
    group.add_argument("--no-repeat-ngram-size", type=non_negative_int, metavar="N",
                       help="never repeat an n-gram of N tokens")  # fmt: skip
    group.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=True,
                       help="compile the generation loop with XLA (default: on)")  # fmt: skip
    generate.set_defaults(handler=_generate)

    classify = commands.add_parser(
        "classify", help="label texts with a classifier run (arguments, or stdin)"
    )
    classify.add_argument("run_dir", help="a run directory made by `train --task classify`")
    classify.add_argument(
        "texts", nargs="*",
        help="texts (sentence pairs as 'text_a<TAB>text_b'); read from stdin (one per line) "
        "when none",
    )  # fmt: skip
    classify.add_argument("--batch-size", type=positive_int, default=64)
    classify.add_argument(
        "--json", action="store_true", help="one JSON object per text, every label's probability"
    )
    classify.set_defaults(handler=_classify)

    export = commands.add_parser(
        "export",
        help="a SavedModel that takes strings: it translates, generates or classifies, as the "
        "run's task (or the bare .keras model)",
    )
    export.add_argument("run_dir", help="a run directory made by `train`")
    export.add_argument("export_dir", help="where to write the SavedModel (or the .keras file)")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="saved_model")
    export.add_argument("--beam-width", "--beam", type=positive_int, metavar="N",
                        dest="beam_width",
                        help="beam search with N beams (4); --beam is the older name")  # fmt: skip
    export.add_argument("--greedy", action="store_true", help="greedy decoding instead of beams")
    export.add_argument("--alpha", type=finite_float, default=0.6, help="beam length penalty (0.6)")
    _add_output_flags(export)
    lm = export.add_argument_group(
        "a language-model run (default: nucleus sampling, top-p 0.9, temperature 0.8, seed 0)"
    )
    lm.add_argument("--max-new-tokens", type=positive_int, default=64,
                    help="tokens to add (64)")  # fmt: skip
    _add_sampling_flags(lm)
    export.add_argument(
        "--overwrite", action="store_true",
        help="replace an earlier export of keras-transformer (never a run or other files)",
    )  # fmt: skip
    export.set_defaults(handler=_export)
    for command in commands.choices.values():  # `keras-transformer train --verbose` too
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=VERBOSE_HELP)  # fmt: skip
    return parser


def _quiet_libraries(verbose):
    """TensorFlow's and absl's Python loggers at ERROR unless `verbose` (their C++ start-up
    logging is hidden before TensorFlow is imported: `keras_transformer.cli_startup`)."""
    if not verbose:
        for name in ("tensorflow", "absl"):
            logging.getLogger(name).setLevel(logging.ERROR)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    _quiet_libraries(verbose="--verbose" in argv)
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


if __name__ == "__main__":
    raise SystemExit(main())
