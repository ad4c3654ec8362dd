"""Classification scores (`keras_transformer.evaluation.classification`): accuracy, macro-F1
with scikit-learn's `zero_division=0` semantics, per-class scores, the confusion matrix."""

import numpy as np
import pytest

from keras_transformer.evaluation import classification_scores

LABELS = ["cat", "dog", "bird"]
# "cat": 3 examples, 2 right, 1 taken for a "dog"; "dog": 3 examples, 2 right, 1 taken for
# a "bird"; "bird": no example (zero support), predicted once.
TRUE = [0, 0, 0, 1, 1, 1]
PREDICTED = [0, 0, 1, 1, 1, 2]
# true\predicted  cat dog bird
# cat               2   1    0
# dog               0   2    1
# bird              0   0    0
CONFUSION = [[2, 1, 0], [0, 2, 1], [0, 0, 0]]


def test_hand_computed_three_classes():
    scores = classification_scores(TRUE, PREDICTED, LABELS)
    assert scores["confusion"] == CONFUSION
    assert scores["count"] == 6
    assert scores["accuracy"] == pytest.approx(4 / 6)
    per_class = scores["per_class"]
    assert list(per_class) == LABELS
    # cat: tp 2, fp 0, fn 1.
    assert per_class["cat"] == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    )
    # dog: tp 2, fp 1, fn 1.
    assert per_class["dog"] == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3}
    )
    # bird: no support, predicted once (wrongly): every ratio is 0.
    assert per_class["bird"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert scores["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0.0) / 3)


def test_a_class_never_predicted_and_one_never_seen():
    # "dog" (1) is never predicted; "bird" (2) is neither seen nor predicted.
    scores = classification_scores([0, 1, 1, 0], [0, 0, 0, 0], LABELS)
    assert scores["confusion"] == [[2, 0, 0], [2, 0, 0], [0, 0, 0]]
    assert scores["accuracy"] == 0.5
    cat, dog, bird = (scores["per_class"][label] for label in LABELS)
    assert cat == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 2})
    assert dog == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert bird == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    # The absent class still counts (F1 0) in the mean over all labels.
    assert scores["macro_f1"] == pytest.approx((2 / 3) / 3)


def test_perfect_predictions():
    scores = classification_scores(np.array([2, 0, 1]), np.array([2, 0, 1]), LABELS)
    assert scores["accuracy"] == 1.0 and scores["macro_f1"] == 1.0
    assert scores["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_scores_agree_with_their_formulas():
    rng = np.random.default_rng(0)
    labels = [f"c{i}" for i in range(7)]
    true = rng.integers(0, 6, 500)  # c6 never occurs
    predicted = np.where(rng.random(500) < 0.6, true, rng.integers(0, 7, 500))
    scores = classification_scores(true, predicted, labels)
    confusion = np.array(scores["confusion"])
    assert confusion.sum() == scores["count"] == 500
    assert scores["accuracy"] == pytest.approx(np.trace(confusion) / 500)
    assert scores["accuracy"] == pytest.approx(np.mean(true == predicted))
    for i, label in enumerate(labels):
        row = scores["per_class"][label]
        assert row["support"] == confusion[i].sum() == np.sum(true == i)
        precision, recall = row["precision"], row["recall"]
        expected = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        assert row["f1"] == pytest.approx(expected)
    f1s = [scores["per_class"][label]["f1"] for label in labels]
    assert scores["macro_f1"] == pytest.approx(np.mean(f1s))
    assert isinstance(scores["accuracy"], float) and isinstance(scores["macro_f1"], float)
    assert all(type(c) is int for r in scores["confusion"] for c in r)


def test_scores_agree_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    labels = [f"c{i}" for i in range(5)]
    true = rng.integers(0, 4, 200)  # c4 never occurs
    predicted = np.where(rng.random(200) < 0.5, true, rng.integers(0, 3, 200))  # nor c3, c4
    scores = classification_scores(true, predicted, labels)
    ids = list(range(len(labels)))
    assert scores["macro_f1"] == pytest.approx(
        metrics.f1_score(true, predicted, labels=ids, average="macro", zero_division=0)
    )
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        true, predicted, labels=ids, zero_division=0
    )
    for i, label in enumerate(labels):
        assert scores["per_class"][label] == pytest.approx(
            {"precision": precision[i], "recall": recall[i], "f1": f1[i], "support": support[i]}
        )
    assert scores["confusion"] == metrics.confusion_matrix(true, predicted, labels=ids).tolist()


@pytest.mark.parametrize(
    "true, predicted, labels, message",
    [
        ([0, 1], [0], LABELS, r"2 class ids but 1 predicted ids"),
        ([], [], LABELS, r"No examples"),
        ([0, 3], [0, 1], LABELS, r"`class_ids` holds ids outside range\(3\).*\[3\]"),
        ([0, 1], [-1, 1], LABELS, r"`predicted_ids` holds ids outside range\(3\).*\[-1\]"),
        ([0.0, 1.0], [0, 1], LABELS, r"integer class ids; got dtype float64"),
        ([[0, 1]], [[0, 1]], LABELS, r"flat sequence.*\(1, 2\)"),
        ([0], [0], [], r"`labels` is empty"),
        ([0], [0], ["a", "b", "a"], r"repeats \['a'\]"),
    ],
    ids=[
        "lengths",
        "empty",
        "true-out-of-range",
        "negative",
        "floats",
        "2-d",
        "no-labels",
        "repeated-label",
    ],
)
def test_errors_name_the_values_received(true, predicted, labels, message):
    with pytest.raises(ValueError, match=message):
        classification_scores(true, predicted, labels)
