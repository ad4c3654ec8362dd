"""`keras-transformer export`: a SavedModel that serves the run's task (or the bare model)."""

from keras_transformer.cli import flags


def run(args):
    from keras_transformer import tasks
    from keras_transformer.export import export
    from keras_transformer.run import Run

    run_ = Run.open(args.run_dir)
    task = tasks.of(run_)
    options = flags.decoding_options(args, task) if task.decoding_defaults else None
    path = export(run_, args.export_dir, format=args.format, options=options,
                  overwrite=args.overwrite)  # fmt: skip
    print(f"exported {args.run_dir} to {path} ({args.format})")
    return 0


def add_parser(commands):
    from keras_transformer.export.run_export import EXPORT_FORMATS

    parser = commands.add_parser(
        "export",
        help="a SavedModel that takes strings: it translates, generates or classifies, as the "
        "run's task (or the bare .keras model)",
    )
    parser.add_argument("run_dir", help="a run directory made by `train`")
    parser.add_argument("export_dir", help="where to write the SavedModel (or the .keras file)")
    parser.add_argument("--format", choices=EXPORT_FORMATS, default="saved_model")
    flags.add_decoding_flags(parser)
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace an earlier export of keras-transformer (never a run or other files)",
    )  # fmt: skip
    parser.set_defaults(handler=run)
