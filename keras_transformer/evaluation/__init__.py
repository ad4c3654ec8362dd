"""Scores of translations (BLEU, chrF, exact match) and evaluation of a run directory."""

from keras_transformer.evaluation.evaluate import evaluate_run
from keras_transformer.evaluation.scores import corpus_scores, exact_match

__all__ = ["corpus_scores", "evaluate_run", "exact_match"]
