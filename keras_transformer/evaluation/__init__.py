"""Scores of translations (BLEU, chrF, exact match, loops) and of classifiers (accuracy,
macro-F1, confusion matrix); `evaluation.evaluate.evaluate_run` evaluates a run directory
as its task asks."""

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
    "exact_match",
    "group_references",
    "is_looping",
    "loop_rate",
]
