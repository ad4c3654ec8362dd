"""`keras-transformer tune`: a keras-tuner search over a task's hyper-parameters."""

from keras_transformer.cli import flags
from keras_transformer.cli.train import add_task_flags, log_progress


def run(args):
    from keras_transformer import tasks
    from keras_transformer.json_config import json_text_or_path
    from keras_transformer.training import TrainConfig
    from keras_transformer.tuning import DEFAULT_SPACE, train_command, tune

    log_progress()
    task = tasks.get(args.task)
    model_values = flags.model_flags(args, task)
    train_values = flags.given(args, TrainConfig)
    base = task.config_class.preset(args.preset, **model_values)
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
        verbose=flags.training_output(),
    )
    if result is None:  # a keras-tuner worker: the chief writes the results
        print("worker finished: the chief writes the results")
        return 0
    print()
    print(result.trials_table.read_text())
    print(f"best config: {result.best_config}")
    print(f"train it:    {train_command(result, train_config.corpus, args.task)}")
    return 0


def add_parser(commands, presets, model_configs):
    from keras_transformer.training import TrainConfig
    from keras_transformer.tuning.space import OBJECTIVE_NAMES, TUNER_NAMES

    parser = commands.add_parser(
        "tune",
        help="search hyper-parameters with keras-tuner",
        description="Run a keras-tuner search; re-running the same command resumes it. For "
        "several machines set KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and "
        "KERASTUNER_ORACLE_PORT (see docs/scaling.md).",
    )
    add_task_flags(parser, "the tuning directory (resumable)")
    parser.add_argument("--tuner", choices=TUNER_NAMES, default="random")
    parser.add_argument("--max-trials", type=flags.positive_int, default=10)
    parser.add_argument(
        "--objective", choices=OBJECTIVE_NAMES,
        help="what the search optimizes (default: the task's selection score: val_chrf for "
        "translate, val_loss, the log of the validation perplexity, for lm, val_accuracy for "
        "classify)",
    )  # fmt: skip
    parser.add_argument(
        "--space", help="search space: JSON text or file, e.g. '{\"num_layers\": [1, 2]}'"
    )
    parser.add_argument("--preset", default="tiny", choices=presets,
                        help="the values of everything not searched")  # fmt: skip
    flags.add_dataclass_flags(parser, TrainConfig, "data and training")
    flags.add_dataclass_flags(parser, model_configs, "model (fixed values, not searched)")
    parser.set_defaults(handler=run)
