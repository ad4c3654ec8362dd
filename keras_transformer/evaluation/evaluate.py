"""Evaluating a run directory on one of its splits, as its task asks: translations decoded
and scored, a language model's perplexity, a classifier's accuracy, macro-F1 and confusion
matrix (`keras_transformer.tasks`)."""

from keras_transformer import tasks
from keras_transformer.data.corpus import SPLITS
from keras_transformer.evaluation.classification import evaluate_classifier
from keras_transformer.evaluation.language_model import evaluate_language_model
from keras_transformer.evaluation.translation import evaluate_translation
from keras_transformer.layers.validation import check_positive_int
from keras_transformer.run import Run

__all__ = ["evaluate_classifier", "evaluate_language_model", "evaluate_run",
           "evaluate_translation"]  # fmt: skip


def evaluate_run(run_dir, split="test", options=None, batch_size=64, progress=True, limit=None,
                 bleu_tokenize=None):  # fmt: skip
    """Evaluates a run on one of its splits, as its task asks (`Task.evaluate`): a
    translation run is decoded and scored (`evaluate_translation`), a language model's
    perplexity measured (`evaluate_language_model`), a classifier scored
    (`evaluate_classifier`).

    Args:
        run_dir: a finished run directory.
        split: `"test"`, `"validation"` or `"train"`. Defaults to `"test"`.
        options: `DecodingOptions` (translation, and the language model's samples); None:
            the task's defaults.
        batch_size: examples evaluated together.
        progress: show a progress bar while decoding.
        limit: evaluate only the first `limit` sources, documents or examples (None = all).
        bleu_tokenize: translation: sacrebleu's BLEU tokenization; None = the run's.

    Returns:
        A dict of the task's scores (`Task.report` puts it in words).
    """
    check_positive_int(batch_size, "batch_size")
    check_positive_int(limit, "limit", allow_none=True)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; received {split!r}.")
    run = Run.open(run_dir)
    return tasks.of(run).evaluate(
        run, split, options=options, batch_size=batch_size, progress=progress, limit=limit,
        bleu_tokenize=bleu_tokenize,
    )  # fmt: skip
