"""Scores of translations (BLEU, chrF, exact match, loops) and of classifiers (accuracy,
macro-F1, confusion matrix), and evaluation of a run directory."""

from keras_transformer.evaluation.classification import classification_scores
from keras_transformer.evaluation.scores import (
    corpus_scores,
    exact_match,
    group_references,
    is_looping,
    loop_rate,
)

__all__ = [
    "classification_scores",
    "corpus_scores",
    "evaluate_run",
    "exact_match",
    "group_references",
    "is_looping",
    "loop_rate",
]


def __getattr__(name):
    # Imported on first use: evaluate_run needs the trainer, whose config needs the scores.
    if name == "evaluate_run":
        from keras_transformer.evaluation.evaluate import evaluate_run

        return evaluate_run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
