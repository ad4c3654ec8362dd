"""`keras-transformer train`: a run directory trained for the task's corpus."""

import logging

from keras_transformer.cli import flags


def log_progress():
    """Our progress messages at INFO; other libraries' loggers (TensorFlow's) stay at WARNING."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("keras_transformer").setLevel(logging.INFO)


def model_config(args, task):
    """The model of `--config` or `--preset`; None lets the rule choose it for the corpus."""
    if args.config:
        return task.config_class.from_json(args.config)
    if args.preset:
        return task.config_class.preset(args.preset)
    return None


def run(args):
    from keras_transformer import tasks
    from keras_transformer.training import TrainConfig, train

    log_progress()
    task = tasks.get(args.task)
    overrides = flags.model_flags(args, task)
    train_config = TrainConfig(task=args.task, corpus=args.corpus, out=args.out,
                               **flags.given(args, TrainConfig))  # fmt: skip
    result = train(
        model_config(args, task),
        train_config,
        overwrite=args.overwrite,
        verbose=flags.training_output(),
        model_overrides=overrides,
    )
    print(
        f"\nrun: {result.run_dir} ({result.status}, {result.epochs} epochs, {result.seconds:.0f} s)"
    )
    print(f"  kept: {result.kept}")
    for name in task.reported_metrics:
        if name in result.metrics:
            print(f"  {name}: {result.metrics[name]:.4f}")
    return 0 if result.status == "finished" else 1


def add_parser(commands, presets, model_configs):
    from keras_transformer import tasks
    from keras_transformer.training import TrainConfig

    parser = commands.add_parser(
        "train",
        help="train a translator, a language model or a classifier",
        description="Train with model.fit and write a run directory. Every setting left "
        "unset is chosen for the corpus (the choices are printed at the start). Re-running the "
        "same command after an interruption resumes the run.",
    )
    add_task_flags(parser, "the run directory")
    parser.add_argument(
        "--preset", choices=presets,
        help="the model's preset (default: chosen for the corpus, printed at the start); "
        + "; ".join(f"{t.name}: {', '.join(t.config_class.preset_names())}"
                    for t in tasks.all_tasks()),
    )  # fmt: skip
    parser.add_argument(
        "--config", help="the model's configuration JSON file (instead of --preset)"
    )
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace the run in --out (its own files only, once the new corpus is read); a "
        "directory that is not a run is never written into unless it is empty",
    )  # fmt: skip
    flags.add_dataclass_flags(parser, TrainConfig, "training")
    flags.add_dataclass_flags(parser, model_configs, "model (overrides the preset)")
    parser.set_defaults(handler=run)


def add_task_flags(parser, out_help):
    """--task, --corpus and --out (train and tune)."""
    from keras_transformer import tasks

    parser.add_argument(
        "--task", choices=tasks.names(), default=tasks.default().name,
        help="translate (a Transformer, the default), lm (a decoder-only language model) or "
        "classify (an encoder classifier)",
    )  # fmt: skip
    parser.add_argument(
        "--corpus", nargs="+", metavar="FILE",
        help="translate: 'dates' or TSV files of source<TAB>target (paths or quoted globs, "
        "plain or .gz; streamed above 200k lines). lm: 'python-docs' or text files (documents "
        "one per line or blank-line separated). classify: 'date-validity' or TSV files of "
        "text<TAB>label or text_a<TAB>text_b<TAB>label. Default: the task's built-in corpus",
    )  # fmt: skip
    parser.add_argument("--out", required=True, help=out_help)
