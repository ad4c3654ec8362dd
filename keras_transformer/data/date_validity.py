"""A built-in classification task: is this date real? ("31 avril 1950": no; "29 février
2020": yes, a leap year; "29 février 2021": no.)

Generated with the dates machinery (Babel, no download), deterministically from a seed, in the
dates corpus's 7 locales and its formats without a weekday (a weekday would give an impossible
date away, or contradict a real one). Half of the texts are real dates, half impossible ones:
day 31 of a 30-day month, 30 or 31 February, 29 February of a common year. Half of the real
ones are the last days of their month (28-31), so that a high day number alone decides
nothing: the label depends on the day, the month and, for February, the year together.
"""

import calendar
import datetime
import random
import re

from keras_transformer.data.dates import FIRST_DATE, LOCALES, NUM_DAYS, format_date
from keras_transformer.layers.validation import check_non_negative_int, check_positive_int

LABELS = ("impossible", "real")
# The dates corpus's formats that name no weekday.
FORMATS = ("long", "medium", "ymd_slash", "ymd_dot_space", "mdy_slash", "dmy_dot", "dmy_dash")
_LOCALIZED = ("long", "medium")


def _impossible_day(rng):
    """(year, month, day) of an impossible date."""
    while True:
        year = rng.randrange(1900, 2100)
        kind = rng.randrange(3)
        if kind == 0:
            return year, rng.choice((4, 6, 9, 11)), 31
        if kind == 1:
            return year, 2, rng.choice((30, 31))
        if not calendar.isleap(year):
            return year, 2, 29


def _write(year, month, day, locale, format_name):
    """The date written in `format_name`, even when it does not exist: a real date of the
    same month written, then its day replaced (None when that is ambiguous)."""
    if day <= calendar.monthrange(year, month)[1]:
        return format_date(datetime.date(year, month, day), locale, format_name)
    text = format_date(datetime.date(year, month, 28), locale, format_name)
    matches = list(re.finditer(r"(?<!\d)28(?!\d)", text))
    if len(matches) != 1:  # the year holds a "28" too: skip this draw
        return None
    start, end = matches[0].span()
    return text[:start] + str(day) + text[end:]


def _draw(rng):
    """One `(text, label)`: real or impossible with equal odds."""
    format_name = rng.choice(FORMATS)
    locale = rng.choice(LOCALES) if format_name in _LOCALIZED else LOCALES[0]
    if rng.random() < 0.5:
        year, month, day = _impossible_day(rng)
        label = "impossible"
    else:
        date = FIRST_DATE + datetime.timedelta(days=rng.randrange(NUM_DAYS))
        year, month, day = date.year, date.month, date.day
        if rng.random() < 0.5:  # the last days of the month, as the impossible ones
            last = calendar.monthrange(year, month)[1]
            day = rng.randrange(28, last + 1)
        label = "real"
    text = _write(year, month, day, locale, format_name)
    return None if text is None else (text, label)


def generate_date_validity(train_size=20000, validation_size=1000, test_size=1000, seed=0):
    """The date-validity task: `(train, validation, test)` lists of `(text, label)` pairs,
    labels in `LABELS`, each text in one split only.

    Example:

    >>> train, validation, test = generate_date_validity(6, 2, 2, seed=0)
    >>> len(train), len(validation), len(test)
    (6, 2, 2)
    >>> sorted({label for _, label in train + validation + test}) == sorted(LABELS)
    True
    """
    check_positive_int(train_size, "train_size", example=20000)
    check_non_negative_int(validation_size, "validation_size", example=1000)
    check_non_negative_int(test_size, "test_size", example=1000)
    rng = random.Random(f"keras_transformer.data.date_validity:{seed}")
    seen, splits = set(), []
    for size in (test_size, validation_size, train_size):
        split = []
        for _ in range(50 * size + 1000):
            if len(split) == size:
                break
            pair = _draw(rng)
            if pair is not None and pair[0] not in seen:
                seen.add(pair[0])
                split.append(pair)
        if len(split) < size:
            raise ValueError(f"Could not draw {size} distinct texts; ask for fewer.")
        splits.append(split)
    test, validation, train = splits
    return train, validation, test
