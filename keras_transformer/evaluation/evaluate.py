"""Evaluating a run directory on one of its splits: translations decoded and scored,
a language model's perplexity, a classifier's accuracy, macro-F1 and confusion matrix."""

import keras
import numpy as np

from keras_transformer.data.corpus import SPLITS
from keras_transformer.data.pipeline import make_dataset
from keras_transformer.decoding import DecodingOptions
from keras_transformer.evaluation.scores import corpus_scores, group_references
from keras_transformer.layers._validation import check_positive_int
from keras_transformer.run import Run
from keras_transformer.training.metrics import MaskedAccuracy

# Prompts of the language-model samples `evaluate` shows: the first words of held-out documents.
_SAMPLE_WORDS = 4


def evaluate_run(run_dir, split="test", options=None, batch_size=64, progress=True, limit=None,
                 bleu_tokenize=None):  # fmt: skip
    """Evaluates a run on one of its splits, as its task asks: a translation run is
    decoded and scored (below), a language model's perplexity measured
    (`evaluate_language_model`), a classifier scored (`evaluate_classifier`).

    A translation run's split is decoded and scored against the references exactly as
    written in the corpus file.

    A source with several translations in the split is decoded once and scored against all
    of them (multi-reference BLEU and chrF).

    Args:
        run_dir: a finished run directory.
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
    check_positive_int(batch_size, "batch_size")
    check_positive_int(limit, "limit", allow_none=True)
    run = Run.open(run_dir)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; received {split!r}.")
    if run.task == "lm":
        return evaluate_language_model(run, split, batch_size, limit)
    if run.task == "classify":
        return evaluate_classifier(run, split, batch_size, limit)
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
        raise ValueError(f"The {split} split of {run_dir} is empty; nothing to evaluate.")
    options = options or DecodingOptions()
    bleu_tokenize = bleu_tokenize or run.train_config.bleu_tokenize or "13a"
    translator = run.translator()
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


def _chosen(run, split, limit):
    examples = getattr(run.splits, split)[:limit]
    if not examples:
        raise ValueError(
            f"The {split} split of {run.directory} is empty; nothing to evaluate. Choose "
            "another --split."
        )
    return examples


def evaluate_language_model(run, split="test", batch_size=64, limit=None, samples=3):
    """A language-model run's perplexity per token and bits per character on a split
    (`language_model_scores` over blocks of the run's block size), and a few samples:
    the first words of the split's longest documents continued (nucleus sampling, seeded).

    Returns:
        A dict: `split`, `documents`, `perplexity`, `bits_per_character`, `tokens`,
        `characters`, `block_size`, and `examples` (`{"prompt", "continuation"}`).
    """
    from keras_transformer.data.text import make_block_dataset
    from keras_transformer.decoding.generator import GENERATION_DEFAULTS, Generator
    from keras_transformer.evaluation.perplexity import language_model_scores

    documents = _chosen(run, split, limit)
    model = run.load_model()
    block = run.train_config.block_size or run.model_config.sequence_length
    tokens = int(run.tokenizer.tokenize(documents).row_lengths().numpy().sum()) + 2 * len(documents)
    block = min(block, tokens - 1)  # a short split scores as one shorter block
    if block < 1:
        raise ValueError(f"The {split} split of {run.directory} holds no token to score.")
    dataset = make_block_dataset(documents, run.tokenizer, block, batch_size, shuffle=False)
    results = {"split": split, "documents": len(documents), "block_size": block}
    results.update(language_model_scores(model, dataset, run.tokenizer))
    generator = Generator(model, run.tokenizer)
    # The first words (at most half) of the longest distinct documents: a prompt that is a
    # whole one-line document has nothing left to continue.
    longest = sorted(dict.fromkeys(documents), key=lambda d: -len(d.split()))[:samples]
    prompts = [" ".join(d.split()[: min(_SAMPLE_WORDS, len(d.split()) // 2)]) for d in longest]
    prompts = [p for p in prompts if p]
    continued = generator.generate(prompts, 48, **GENERATION_DEFAULTS) if prompts else []
    results["examples"] = [
        {"prompt": p, "continuation": c[len(p) :]} for p, c in zip(prompts, continued, strict=True)
    ]
    return results


def evaluate_classifier(run, split="test", batch_size=64, limit=None, plot=True):
    """A classifier run's accuracy, macro-F1, per-class precision and recall and confusion
    matrix on a split (`classification_scores`), and the matrix drawn in
    `confusion_matrix_<split>.png` in the run directory when `plot`.

    Examples whose label the training split never had cannot be predicted; they are left
    out of the scores and counted in `unknown_labels`.

    Returns:
        A dict: `split`, the scores, `unknown_labels`, `plot` (the PNG's path or None), and
        a few `examples` (`{"text", "label", "predicted", "probability"}`).
    """
    from keras_transformer.evaluation.classification import classification_scores
    from keras_transformer.plots import plot_confusion_matrix

    examples = _chosen(run, split, limit)
    labels = run.labels
    known = [e for e in examples if e[-1] in labels]
    if not known:
        raise ValueError(
            f"No example of the {split} split has a label the run was trained on ({labels})."
        )
    classifier = run.text_classifier()
    texts = [e[0] if len(e) == 2 else tuple(e[:2]) for e in known]
    probabilities = classifier.probabilities(texts, batch_size)
    predicted = np.argmax(probabilities, axis=-1)
    truth = [labels.index(e[-1]) for e in known]
    results = {"split": split}
    results.update(classification_scores(truth, predicted, labels))
    results["unknown_labels"] = len(examples) - len(known)
    results["plot"] = None
    if plot:
        path = run.directory / f"confusion_matrix_{split}.png"
        title = f"{run.directory.name}: {split} split, accuracy {results['accuracy']:.1%}"
        results["plot"] = str(plot_confusion_matrix(results["confusion"], labels, path, title))
    wrong_first = sorted(range(len(known)), key=lambda i: predicted[i] == truth[i])
    results["examples"] = [
        {"text": texts[i], "label": known[i][-1], "predicted": labels[predicted[i]],
         "probability": float(probabilities[i, predicted[i]])}
        for i in wrong_first[:5]
    ]  # fmt: skip
    return results
