"""Evaluating a translation run: its split decoded and scored against the references as
written in the corpus (BLEU, chrF, exact match, loops, teacher-forced token accuracy)."""

import keras

from keras_transformer.data.pipeline import make_dataset
from keras_transformer.decoding.options import TRANSLATION_DEFAULTS
from keras_transformer.evaluation.scores import corpus_scores, group_references
from keras_transformer.training.metrics import MaskedAccuracy


def evaluate_translation(run, split="test", options=None, batch_size=64, progress=True, limit=None,
                 bleu_tokenize=None):  # fmt: skip
    """A run's split is decoded and scored against the references exactly as
    written in the corpus file.

    A source with several translations in the split is decoded once and scored against all
    of them (multi-reference BLEU and chrF).

    Args:
        run: a finished translation `Run`.
        split: `"test"`, `"validation"` or `"train"` (for a streamed corpus, its first
            `limit` pairs, or 5000). Defaults to `"test"`.
        options: `DecodingOptions`. Defaults to `DecodingOptions()` (beam search, 4 beams).
        batch_size: sentences decoded together.
        progress: show a progress bar while decoding.
        limit: evaluate only the pairs of the first `limit` distinct sources (None = all).
        bleu_tokenize: sacrebleu's BLEU tokenization; None = the run's (chosen for the script
            of its targets when it was trained).

    Returns:
        A dict: `split`, `pairs`, `sources`, `bleu`, `chrf`, `exact_match`, `loop_rate`,
        `masked_accuracy` (teacher-forced token accuracy), `strategy`, `bleu_tokenize`, and a
        few `examples`.
    """
    splits = run.splits
    chosen = getattr(splits, split)
    if split == "train" and splits.streamed:  # too big to hold: its first pairs
        from keras_transformer.data.streaming import stream_pairs

        chosen = [
            (s.decode("utf-8"), t.decode("utf-8"))
            for s, t in stream_pairs(chosen).take(limit or 5000).as_numpy_iterator()
        ]
    sources, references = group_references(chosen)
    sources, references = sources[:limit], references[:limit]
    pairs = [(s, r) for s, refs in zip(sources, references, strict=True) for r in refs]
    if not pairs:
        raise ValueError(f"The {split} split of {run.directory} is empty; nothing to evaluate.")
    options = options or TRANSLATION_DEFAULTS
    bleu_tokenize = bleu_tokenize or run.train_config.bleu_tokenize or "13a"
    from keras_transformer.decoding import Translator

    translator = Translator(run.load_model(), run.source_tokenizer, run.target_tokenizer)
    bar = keras.utils.Progbar(len(sources), unit_name="sentence") if progress else None
    hypotheses = translator.translate(sources, options, batch_size=batch_size, progress=bar)
    results = {
        "split": split,
        "pairs": len(pairs),
        "sources": len(sources),
        "strategy": options.strategy,
        "bleu_tokenize": bleu_tokenize,
    }
    results.update(corpus_scores(hypotheses, references, bleu_tokenize))
    metric = MaskedAccuracy()
    dataset = make_dataset(
        pairs,
        run.source_tokenizer,
        run.target_tokenizer,
        run.model_config.sequence_length,
        batch_size,
        shuffle=False,
    )
    for inputs, labels in dataset:
        metric.update_state(labels, translator.model(inputs, training=False))
    results["masked_accuracy"] = float(metric.result())
    results["examples"] = [
        {"source": s, "references": r, "hypothesis": h}
        for s, r, h in list(zip(sources, references, hypotheses, strict=True))[:5]
    ]
    return results


def translation_report(run_dir, results):
    """`evaluate`'s results in words (what `keras-transformer evaluate` prints)."""
    lines = []
    lines.append(
        f"\n{run_dir}: {results['split']} split, {results['pairs']} pairs "
        f"({results['sources']} distinct sources, all their references), "
        f"{results['strategy']} decoding, BLEU tokenization {results['bleu_tokenize']}"
    )
    for name in ("bleu", "chrf", "exact_match", "loop_rate", "masked_accuracy"):
        value = results[name]
        percent = name in ("exact_match", "loop_rate", "masked_accuracy")
        shown = f"{100 * value:.2f} %" if percent else f"{value:.2f}"
        lines.append(f"  {name:<16} {shown}")
    return "\n".join(lines)
