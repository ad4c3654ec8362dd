"""`tune()`: a keras-tuner search over the Transformer, resumable, with its results written out.

The tuner's project directory lives in the output directory, so running the same command
again resumes the search. keras-tuner's own distributed mode works unchanged: start the same
command on each machine with `KERASTUNER_TUNER_ID` (`chief` on one, `tuner0`, `tuner1`, ...
on the others), `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT` set; the chief runs the
oracle and writes the results.
"""

import dataclasses
import json
import logging
import os
import pathlib
import shlex

import keras
import keras_tuner
import tensorflow as tf

from keras_transformer import tasks
from keras_transformer.atomic import write_json, write_text
from keras_transformer.layers.validation import check_positive_int
from keras_transformer.run import Run
from keras_transformer.training.devices import choose_strategy
from keras_transformer.training.trainer import prepare_run
from keras_transformer.tuning.hypermodel import TransformerHyperModel
from keras_transformer.tuning.space import (
    MAXIMIZED,
    MODEL_NAMES,
    OBJECTIVE_NAMES,
    TRAINING_NAMES,
    TUNER_NAMES,
    parse_space,
)

logger = logging.getLogger("keras_transformer")

TUNERS = dict(
    zip(TUNER_NAMES, (keras_tuner.RandomSearch, keras_tuner.BayesianOptimization,
                      keras_tuner.Hyperband), strict=True)
)  # fmt: skip
OBJECTIVES = {
    name: keras_tuner.Objective(name, direction="max" if name in MAXIMIZED else "min")
    for name in OBJECTIVE_NAMES
}


@dataclasses.dataclass
class TuneResult:
    """Where the results are: `best_config` (a TransformerConfig JSON usable as
    `train --config`), `best_training` (the training hyper-parameters), the trial table."""

    out: pathlib.Path
    best_config: pathlib.Path
    best_training: pathlib.Path
    trials_table: pathlib.Path
    trials: list


def tune(
    train_config,
    tuner="random",
    max_trials=10,
    space=None,
    base_config=None,
    objective=None,
    hyperband_max_epochs=None,
    callbacks=(),
    verbose=1,
):
    """Searches hyper-parameters and writes the results into `train_config.out`.

    Args:
        train_config: `TrainConfig`: the task, the corpus, epochs per trial, steps per epoch,
            seed and the output directory (`out`), which holds the tuner's project and the
            results.
        tuner: `"random"`, `"bayesian"` or `"hyperband"`.
        max_trials: int. Trials to run (Hyperband: bounded by its own schedule instead).
        space: search-space spec (see `parse_space`).
        base_config: the task's model configuration of everything not searched. Defaults to
            its `tiny` preset.
        objective: one of the task's `Task.objectives` (`"val_loss"` is minimized, the
            others maximized). None: the task's own selection score, the default first:
            val_chrf (translate: the chrF of the decoded validation sample, as `train`
            keeps), val_loss (lm: the log of the validation perplexity), val_accuracy
            (classify).
        hyperband_max_epochs: Hyperband's `max_epochs`. Defaults to `train_config.epochs`.
        callbacks: extra Keras callbacks for every trial.
        verbose: keras-tuner verbosity.

    Returns:
        `TuneResult`. On a keras-tuner worker (not the chief) the search runs trials and
        returns None.
    """
    if tuner not in TUNERS:
        raise ValueError(f"tuner must be one of {sorted(TUNERS)}; received {tuner!r}.")
    task = tasks.get(train_config.task)
    objective = objective or task.objectives[0]
    if objective not in task.objectives:
        raise ValueError(
            f"objective must be one of {task.objectives} for task {task.name!r}; received "
            f"{objective!r}."
        )
    check_positive_int(max_trials, "max_trials")
    space = parse_space(space)  # fails before any data is loaded or model trained
    base_config = base_config or task.config_class.preset("tiny")
    out = pathlib.Path(train_config.out)
    # The search's data (splits, tokenizers, settings) is a prepared run in `out`: a resumed
    # search trains on the same data without learning the tokenizers again. A directory of
    # other files, or a finished training run, is refused.
    run = Run.create(out)
    if run.prepared:
        run.check_resumable(base_config, train_config)
    else:
        prepare_run(run, train_config, base_config)
    splits = run.splits
    if not splits.validation:
        raise ValueError("Tuning needs a validation split; raise --validation-size/fraction.")
    base_config = run.model_config
    train_config = run.train_config.replace(epochs=train_config.epochs or run.train_config.epochs)
    keras.utils.set_random_seed(train_config.seed)
    hypermodel = TransformerHyperModel(space, base_config, train_config, run=run)
    arguments = dict(
        hypermodel=hypermodel,
        objective=OBJECTIVES[objective],
        seed=train_config.seed,
        directory=str(out),
        project_name="search",
        overwrite=False,  # re-running the command resumes the search
    )
    if tuner == "hyperband":
        arguments["max_epochs"] = hyperband_max_epochs or train_config.epochs
    else:
        arguments["max_trials"] = max_trials
    strategy = choose_strategy(train_config.strategy)
    if strategy is not tf.distribute.get_strategy():  # keras-tuner builds each trial in it
        arguments["distribution_strategy"] = strategy
    search = TUNERS[tuner](**arguments)
    search.search(
        epochs=train_config.epochs,
        callbacks=[keras.callbacks.TerminateOnNaN(), *callbacks],
        verbose=verbose,
    )
    if os.environ.get("KERASTUNER_TUNER_ID", "chief") != "chief":
        return None
    return _write_results(search, hypermodel, out, objective)


def _write_results(search, hypermodel, out, objective):
    trials = []
    for trial in search.oracle.trials.values():
        model_config, train_config = hypermodel.configs(trial.hyperparameters.values)
        values = {name: getattr(model_config, name) for name in MODEL_NAMES}
        values.update({name: getattr(train_config, name) for name in TRAINING_NAMES})
        trials.append(
            {"trial": trial.trial_id, "status": trial.status, "score": trial.score, **values}
        )
    scored = [t for t in trials if t["score"] is not None]
    scored.sort(key=lambda t: t["score"], reverse=objective in MAXIMIZED)
    trials = scored + [t for t in trials if t["score"] is None]
    best_hp = search.get_best_hyperparameters(1)[0]
    model_config, train_config = hypermodel.configs(best_hp.values)
    best_config = out / "best.json"
    model_config.to_json(best_config)
    best_training = out / "best_training.json"
    write_json(best_training, {name: getattr(train_config, name) for name in TRAINING_NAMES})
    table = out / "trials.md"
    write_text(table, format_trials(trials, objective))
    write_json(out / "trials.json", trials)
    return TuneResult(out, best_config, best_training, table, trials)


def format_trials(trials, objective):
    """A Markdown table of the trials, best first."""
    columns = ["trial", "status", "score", *MODEL_NAMES, *TRAINING_NAMES]
    lines = [
        f"objective: {objective}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for trial in trials:
        cells = [
            f"{trial[c]:.4f}" if c == "score" and trial[c] is not None else str(trial[c])
            for c in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def train_command(result, corpus, task=None):
    """The `keras-transformer train` command that trains the winner (`task`: its name; None:
    the default task)."""
    training = json.loads(result.best_training.read_text())
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in training.items())
    if not isinstance(corpus, str):
        corpus = " ".join(shlex.quote(c) for c in corpus)
    task_flag = "" if task in (None, tasks.default().name) else f"--task {task} "
    return (
        f"keras-transformer train {task_flag}--corpus {corpus} --config {result.best_config} "
        f"{flags}"
    )
