"""The task registry: every model family the pipeline knows, by its `--task` name.

A task is named here by its module and class and imported when first asked for (a plugin
registry): `Run` and `TrainConfig` read the registry without importing what the tasks
import (the exports, the evaluation), so no module imports itself in a circle.
"""

import functools
import importlib

# `--task` name -> the class that implements it; the default task first.
TASK_CLASSES = {
    "translate": "keras_transformer.tasks.translation:TranslationTask",
    "lm": "keras_transformer.tasks.language_model:LanguageModelTask",
    "classify": "keras_transformer.tasks.classification:ClassificationTask",
}


@functools.cache
def _tasks():
    tasks = {}
    for name, where in TASK_CLASSES.items():
        module, cls = where.split(":")
        task = getattr(importlib.import_module(module), cls)()
        if task.name != name:
            raise RuntimeError(f"{where} is registered as {name!r} but names itself {task.name!r}.")
        tasks[name] = task
    return tasks


def names():
    """The task names, the default (translation) first."""
    return tuple(TASK_CLASSES)


def all_tasks():
    return tuple(_tasks().values())


def get(name):
    """The `Task` called `name`. Raises ValueError naming the tasks for another name."""
    if name not in TASK_CLASSES:
        raise ValueError(f"task must be one of {tuple(TASK_CLASSES)}; received {name!r}.")
    return _tasks()[name]


def default():
    """The task of a run that names none (a model directory of a translation model)."""
    return next(iter(_tasks().values()))


def of(run):
    """The task of a `Run`."""
    return get(run.task) if run.task is not None else default()


def for_command(command):
    """The task whose trained runs `command` (translate, generate, classify) uses."""
    return next(task for task in _tasks().values() if task.command == command)
