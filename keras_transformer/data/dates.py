"""A built-in parallel corpus: dates written in many languages and formats → ISO 8601.

The pairs are generated on the fly with Babel (no download), deterministically from a seed:
a date drawn uniformly in 1900-01-01 .. 2099-12-31, a locale and a format drawn uniformly, the
date rendered in that locale and format (source) and in ISO 8601 `YYYY-MM-DD` (target).

Every source string has exactly one correct target, so a model can learn the task to 100%:

- years always have 4 digits (Babel's "short" style, with 2-digit years, is not used);
- all-numeric forms ignore the locale and keep only readings that cannot be confused: year
  first, or a separator that a single order uses (`/` only month first as in the US,
  `.` and `-` only day first as in Germany and the Netherlands);
- month and weekday names appear only in the Babel styles, whose strings never coincide across
  the locales for two different dates (checked over every date, locale and format with Babel
  2.18; should a newer CLDR break this, the generator raises RuntimeError instead of writing
  an ambiguous pair).
"""

import dataclasses
import datetime
import functools
import random

import babel
import babel.dates

from keras_transformer.layers.validation import check_non_negative_int, check_positive_int

FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2099, 12, 31)
NUM_DAYS = (LAST_DATE - FIRST_DATE).days + 1

LOCALES = ("en_US", "fr", "de", "es", "it", "pt", "ko")

# Name -> function(date, babel.Locale) -> str. The numeric forms ignore the locale.
_FORMATTERS = {
    # Babel's CLDR styles, e.g. "Thursday, March 4, 2021", "March 4, 2021", "Mar 4, 2021".
    "full": lambda d, loc: babel.dates.format_date(d, "full", locale=loc),
    "long": lambda d, loc: babel.dates.format_date(d, "long", locale=loc),
    "medium": lambda d, loc: babel.dates.format_date(d, "medium", locale=loc),
    # Abbreviated weekday and month, e.g. "Thu, Mar 4, 2021", "jeu. 4 mars 2021".
    "weekday_abbr": lambda d, loc: babel.dates.format_skeleton("yMMMEd", d, locale=loc),
    # Numeric, year first: "2021/03/04" and the Korean-style "2021. 3. 4.".
    "ymd_slash": lambda d, _: f"{d.year:04d}/{d.month:02d}/{d.day:02d}",
    "ymd_dot_space": lambda d, _: f"{d.year:04d}. {d.month}. {d.day}.",
    # Numeric, month first (US): the only form with `/` after a 1-2 digit number: "3/4/2021".
    "mdy_slash": lambda d, _: f"{d.month}/{d.day}/{d.year:04d}",
    # Numeric, day first, with separators no month-first form uses: "04.03.2021", "04-03-2021".
    "dmy_dot": lambda d, _: f"{d.day:02d}.{d.month:02d}.{d.year:04d}",
    "dmy_dash": lambda d, _: f"{d.day:02d}-{d.month:02d}-{d.year:04d}",
}

FORMATS = tuple(_FORMATTERS)

# The formats whose output depends on the locale (the others are drawn with a single locale).
_LOCALIZED_FORMATS = ("full", "long", "medium", "weekday_abbr")
# An upper bound on the number of distinct source strings (the exact count is ~2.18 million).
_MAX_SOURCES = NUM_DAYS * (len(FORMATS) + (len(LOCALES) - 1) * len(_LOCALIZED_FORMATS))


@dataclasses.dataclass(frozen=True)
class DatesCorpus:
    """The three fixed splits of the dates corpus.

    Attributes:
        train: list of `(source, target)` string pairs to train on.
        validation: list of pairs for model selection; no source also appears in `train`.
        test: list of pairs for the final evaluation; no source appears in another split.
    """

    train: list[tuple[str, str]]
    validation: list[tuple[str, str]]
    test: list[tuple[str, str]]


@functools.cache
def _babel_locale(locale):
    return babel.Locale.parse(locale)


def format_date(date, locale, format_name):
    """Writes a date in one locale and format of the corpus.

    Args:
        date: a `datetime.date`.
        locale: one of `LOCALES`, e.g. `"fr"`.
        format_name: one of `FORMATS`, e.g. `"long"`.

    Returns:
        The date as a string, e.g. `"4 mars 2021"` for 2021-03-04 in `"fr"` and `"long"`.

    Example:

    >>> import datetime
    >>> format_date(datetime.date(2021, 3, 4), "en_US", "full")
    'Thursday, March 4, 2021'
    >>> format_date(datetime.date(2021, 3, 4), "fr", "long")
    '4 mars 2021'
    >>> format_date(datetime.date(2021, 3, 4), "de", "dmy_dot")
    '04.03.2021'
    """
    if not isinstance(date, datetime.date):
        raise ValueError(f"`date` must be a datetime.date; received date={date!r}.")
    if locale not in LOCALES:
        raise ValueError(f"`locale` must be one of {LOCALES}; received locale={locale!r}.")
    if format_name not in _FORMATTERS:
        raise ValueError(
            f"`format_name` must be one of {FORMATS}; received format_name={format_name!r}."
        )
    return _FORMATTERS[format_name](date, _babel_locale(locale))


def _draw_pair(rng):
    """One random (source, target): uniform date, then a uniform format and locale."""
    date = FIRST_DATE + datetime.timedelta(days=rng.randrange(NUM_DAYS))
    format_name = rng.choice(FORMATS)
    locale = rng.choice(LOCALES) if format_name in _LOCALIZED_FORMATS else LOCALES[0]
    return format_date(date, locale, format_name), date.isoformat()


def _generate_split(size, seed, split, excluded, seen):
    """`size` pairs with unique sources, none of them in `excluded`.

    `seen` maps every source drawn so far (in any split) to its target: a source drawn twice
    with two different targets means the format table is ambiguous, a bug.
    """
    rng = random.Random(f"keras_transformer.data.dates:{seed}:{split}")
    pairs, sources = [], set()
    max_draws = 20 * size + 10_000  # sampling at a few % of the space: ~1 draw per pair
    for _ in range(max_draws):
        if len(pairs) == size:
            return pairs
        source, target = _draw_pair(rng)
        if seen.setdefault(source, target) != target:
            raise RuntimeError(
                f"The dates format table is ambiguous: {source!r} reads as both "
                f"{seen[source]} and {target}. Fix the formats in keras_transformer/data/dates.py."
            )
        if source not in sources and source not in excluded:
            sources.add(source)
            pairs.append((source, target))
    if len(pairs) == size:
        return pairs
    raise ValueError(
        f"Could not draw {size} distinct {split} sources in {max_draws} tries (got "
        f"{len(pairs)}): the request is too large for the dates corpus. Ask for fewer pairs."
    )


def generate_dates_corpus(train_size=20000, validation_size=1000, test_size=1000, seed=0):
    """Generates the dates corpus: dates in 7 languages and 9 formats → ISO 8601.

    The splits share no source string, and each split has unique sources. The test split is
    drawn first and depends only on `seed` and `test_size`; validation is then drawn without
    the test sources, and train without both, so growing `train_size` keeps the other two.

    Args:
        train_size: number of training pairs, a positive integer.
        validation_size: number of validation pairs, a non-negative integer.
        test_size: number of test pairs, a non-negative integer.
        seed: integer; the same seed gives the same corpus.

    Returns:
        A `DatesCorpus` whose `train`, `validation` and `test` are lists of
        `(source, target)` pairs, e.g. `("jeudi 4 mars 2021", "2021-03-04")`.

    Example:

    >>> corpus = generate_dates_corpus(train_size=8, validation_size=2, test_size=2, seed=0)
    >>> len(corpus.train), len(corpus.validation), len(corpus.test)
    (8, 2, 2)
    >>> corpus.test[0]
    ('1989. 6. 4.', '1989-06-04')
    """
    check_positive_int(train_size, "train_size", example=20000)
    check_non_negative_int(validation_size, "validation_size", example=1000)
    check_non_negative_int(test_size, "test_size", example=1000)
    check_non_negative_int(seed, "seed", example=0)
    total = train_size + validation_size + test_size
    if total > _MAX_SOURCES // 4:
        raise ValueError(
            f"The dates corpus has at most {_MAX_SOURCES} distinct sources and drawing more than "
            f"a quarter of them is too slow; received {total} pairs in all (train_size="
            f"{train_size}, validation_size={validation_size}, test_size={test_size}). "
            "Ask for fewer pairs."
        )
    seen = {}
    test = _generate_split(test_size, seed, "test", set(), seen)
    excluded = {source for source, _ in test}
    validation = _generate_split(validation_size, seed, "validation", excluded, seen)
    excluded.update(source for source, _ in validation)
    train = _generate_split(train_size, seed, "train", excluded, seen)
    return DatesCorpus(train=train, validation=validation, test=test)
