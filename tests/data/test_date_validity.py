"""The built-in classification task: every label is right, the classes are balanced, the
splits are disjoint and the task is seeded."""

import calendar
import re

from keras_transformer.data.date_validity import LABELS, generate_date_validity

NUMERIC = {  # format -> (pattern, order of year, month, day)
    r"(\d{4})/(\d{2})/(\d{2})": (1, 2, 3),
    r"(\d{4})\. (\d{1,2})\. (\d{1,2})\.": (1, 2, 3),
    r"(\d{1,2})/(\d{1,2})/(\d{4})": (3, 1, 2),
    r"(\d{2})\.(\d{2})\.(\d{4})": (3, 2, 1),
    r"(\d{2})-(\d{2})-(\d{4})": (3, 2, 1),
}


def _is_real(year, month, day):
    return 1 <= day <= calendar.monthrange(year, month)[1]


def test_labels_are_right_and_balanced():
    train, validation, test = generate_date_validity(3000, 200, 200, seed=4)
    pairs = train + validation + test
    assert {label for _, label in pairs} == set(LABELS)
    assert 0.45 < sum(label == "real" for _, label in pairs) / len(pairs) < 0.55
    checked, february_29 = 0, set()
    for text, label in pairs:
        for pattern, order in NUMERIC.items():
            match = re.fullmatch(pattern, text)
            if match:
                year, month, day = (int(match.group(i)) for i in order)
                assert _is_real(year, month, day) == (label == "real"), text
                checked += 1
                if (month, day) == (2, 29):
                    february_29.add(label)
    assert checked > 1000
    # Real dates near the end of their month are common: a high day alone decides nothing.
    late_real = [t for t, label in pairs if label == "real" and re.search(r"(?<!\d)3[01](?!\d)", t)]
    assert len(late_real) > 100
    assert february_29 == {"real", "impossible"}  # the year decides: leap or not


def test_splits_are_disjoint_and_seeded():
    first = generate_date_validity(500, 50, 50, seed=1)
    assert generate_date_validity(500, 50, 50, seed=1) == first
    assert generate_date_validity(500, 50, 50, seed=2) != first
    texts = [[t for t, _ in split] for split in first]
    assert sum(map(len, texts)) == len(set().union(*map(set, texts))) == 600
