"""One `Task` per model family (translation, language model, classifier): the pipeline asks
the run's task and never names one.

- `tasks.get(name)`, `tasks.of(run)`, `tasks.for_command(command)`, `tasks.names()`;
- `tasks.base.Task`: reading and splitting its corpus, the settings its rule chooses, tokenizers,
  model, loss and metrics, datasets, callbacks, evaluation and report, predictor, exports.
"""

from keras_transformer.tasks.registry import (
    all_tasks,
    default,
    for_command,
    get,
    names,
    of,
)

__all__ = [
    "all_tasks",
    "default",
    "for_command",
    "get",
    "names",
    "of",
]
