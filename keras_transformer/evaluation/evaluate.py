"""Evaluating a run directory on one of its splits."""

import keras

from keras_transformer.data.pipeline import make_dataset
from keras_transformer.decoding import DecodingOptions, Translator
from keras_transformer.evaluation.scores import corpus_scores
from keras_transformer.training import load_run
from keras_transformer.training.metrics import MaskedAccuracy


def evaluate_run(run_dir, split="test", options=None, batch_size=64, progress=True, limit=None):
    """Decodes a split of the run's corpus and scores it.

    Args:
        run_dir: a finished run directory.
        split: `"test"`, `"validation"` or `"train"`. Defaults to `"test"`.
        options: `DecodingOptions`. Defaults to greedy decoding.
        batch_size: sentences decoded together.
        progress: show a progress bar while decoding.
        limit: evaluate only the first `limit` pairs (None = all).

    Returns:
        A dict: `split`, `pairs`, `bleu`, `chrf`, `exact_match`, `masked_accuracy`
        (teacher-forced token accuracy), `strategy`, and a few `examples`.
    """
    model_config, _, source, target, splits = load_run(run_dir)
    if split not in ("train", "validation", "test"):
        raise ValueError(f"split must be train, validation or test; received {split!r}.")
    pairs = getattr(splits, split)[:limit]
    if not pairs:
        raise ValueError(f"The {split} split of {run_dir} is empty; nothing to evaluate.")
    options = options or DecodingOptions()
    translator = Translator.from_run(run_dir)
    bar = keras.utils.Progbar(len(pairs), unit_name="sentence") if progress else None
    hypotheses = translator.translate(
        [s for s, _ in pairs], options, batch_size=batch_size, progress=bar
    )
    references = [t for _, t in pairs]
    results = {"split": split, "pairs": len(pairs), "strategy": options.strategy}
    results.update(corpus_scores(hypotheses, references))
    metric = MaskedAccuracy()
    dataset = make_dataset(
        pairs, source, target, model_config.sequence_length, batch_size, shuffle=False
    )
    for inputs, labels in dataset:
        metric.update_state(labels, translator.model(inputs, training=False))
    results["masked_accuracy"] = float(metric.result())
    results["examples"] = [
        {"source": s, "reference": r, "hypothesis": h}
        for (s, r), h in list(zip(pairs, hypotheses, strict=True))[:5]
    ]
    return results
