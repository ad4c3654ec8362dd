"""Classification scores: accuracy, macro-F1, per-class precision/recall/F1 and the
confusion matrix, from true and predicted class ids (NumPy only); `evaluate_classifier`
scores a classifier run with them and `classifier_report` puts the result in words."""

import numpy as np


def _class_ids(values, name, classes):
    """`values` as a 1-D int64 array, after checking they are ids in `range(classes)`."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"`{name}` must be a flat sequence of class ids; got shape {array.shape}.")
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"`{name}` must hold integer class ids; got dtype {array.dtype}.")
    array = array.astype("int64")
    outside = array[(array < 0) | (array >= classes)]
    if outside.size:
        raise ValueError(
            f"`{name}` holds ids outside range({classes}) (one per label): "
            f"{sorted(set(outside.tolist()))}."
        )
    return array


def _ratio(numerator, denominator):
    """`numerator / denominator` element-wise, 0 where the denominator is 0."""
    numerator = np.asarray(numerator, "float64")
    denominator = np.asarray(denominator, "float64")
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def classification_scores(class_ids, predicted_ids, labels):
    """Accuracy, macro-F1, per-class scores and the confusion matrix of a classifier.

    Precision, recall and F1 follow scikit-learn's `zero_division=0` convention: a ratio
    whose denominator is 0 (a class never predicted, a class with no example) is 0. The
    macro-F1 is the unweighted mean of the per-class F1 over every class in `labels`,
    including classes absent from both `class_ids` and `predicted_ids` (as scikit-learn's
    `f1_score(..., labels=range(len(labels)), average="macro", zero_division=0)`).

    Args:
        class_ids: sequence or 1-D array of ints, the true class of each example.
        predicted_ids: sequence or 1-D array of ints, the predicted class of each example,
            as long as `class_ids`.
        labels: list of str, the name of each class; class id `i` is `labels[i]`.

    Returns:
        A dict with:
        - `"accuracy"`: float, the share of examples predicted right.
        - `"macro_f1"`: float, the mean of the per-class F1 over all `labels`.
        - `"per_class"`: `{label: {"precision", "recall", "f1", "support"}}`, floats and
          the int count of examples of the class.
        - `"confusion"`: list of lists of ints, `confusion[true][predicted]` examples.
        - `"count"`: int, the number of examples.

    Raises:
        ValueError: if `labels` is empty or repeats a label, if there are no examples,
            if `class_ids` and `predicted_ids` differ in length, or if an id is not an int
            in `range(len(labels))`.

    Example:

    >>> scores = classification_scores([0, 0, 1, 2], [0, 1, 1, 1], ["neg", "pos", "neu"])
    >>> scores["accuracy"], round(scores["macro_f1"], 4), scores["count"]
    (0.5, 0.3889, 4)
    >>> scores["per_class"]["pos"]
    {'precision': 0.333..., 'recall': 1.0, 'f1': 0.5, 'support': 1}
    >>> scores["confusion"]
    [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    """
    labels = list(labels)
    if not labels:
        raise ValueError("`labels` is empty; it must name every class.")
    if len(set(labels)) != len(labels):
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        raise ValueError(f"`labels` repeats {repeated}; each class needs its own name.")
    classes = len(labels)
    true = _class_ids(class_ids, "class_ids", classes)
    predicted = _class_ids(predicted_ids, "predicted_ids", classes)
    if len(true) != len(predicted):
        raise ValueError(
            f"{len(true)} class ids but {len(predicted)} predicted ids; they must pair up."
        )
    if not len(true):
        raise ValueError("No examples: `class_ids` and `predicted_ids` are empty.")

    confusion = np.zeros((classes, classes), "int64")
    np.add.at(confusion, (true, predicted), 1)
    hits = np.diag(confusion)
    support = confusion.sum(axis=1)
    predicted_counts = confusion.sum(axis=0)
    precision = _ratio(hits, predicted_counts)
    recall = _ratio(hits, support)
    # 2·tp / (2·tp + fp + fn) equals 2·P·R / (P + R) wherever that is defined.
    f1 = _ratio(2 * hits, support + predicted_counts)
    per_class = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return {
        "accuracy": float(hits.sum() / len(true)),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "count": len(true),
    }


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
    from keras_transformer.evaluation.split import chosen_examples
    from keras_transformer.plots import plot_confusion_matrix
    from keras_transformer.prediction import TextClassifier

    examples = chosen_examples(run, split, limit)
    labels = run.labels
    known = [e for e in examples if e[-1] in labels]
    if not known:
        raise ValueError(
            f"No example of the {split} split has a label the run was trained on ({labels})."
        )
    classifier = TextClassifier(run.load_model(), run.tokenizer, labels)
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


def classifier_report(run_dir, results):
    """`evaluate`'s results in words (what `keras-transformer evaluate` prints)."""
    lines = []
    lines.append(f"\n{run_dir}: {results['split']} split, {results['count']} examples")
    lines.append(f"  {'accuracy':<10} {100 * results['accuracy']:.2f} %")
    lines.append(f"  {'macro_f1':<10} {100 * results['macro_f1']:.2f} %")
    width = max(len(label) for label in results["per_class"])
    lines.append(f"  {'label':<{width}}  precision  recall  f1      support")
    for label, row in results["per_class"].items():
        lines.append(
            f"  {label:<{width}}  {100 * row['precision']:6.2f} %  {100 * row['recall']:6.2f} %"
            f"  {100 * row['f1']:6.2f} %  {row['support']}"
        )
    if results["unknown_labels"]:
        lines.append(
            f"  left out: {results['unknown_labels']} examples with labels never trained on"
        )
    if results["plot"]:
        lines.append(f"  confusion matrix: {results['plot']}")
    return "\n".join(lines)
