import dataclasses
import datetime
import random
import re

import pytest

from keras_transformer.data import dates
from keras_transformer.data.dates import (
    FORMATS,
    LOCALES,
    DatesCorpus,
    format_date,
    generate_dates_corpus,
)

# One process runs this file: its module fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_dates")

FIRST, LAST = datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def corpus():
    return generate_dates_corpus(train_size=3000, validation_size=300, test_size=300, seed=0)


def _renderings(source, target):
    """The (locale, format) pairs that write the target date as the source."""
    date = datetime.date.fromisoformat(target)
    return {
        (locale, name)
        for locale in LOCALES
        for name in FORMATS
        if format_date(date, locale, name) == source
    }


def test_constants():
    assert set(LOCALES) == {"en_US", "fr", "de", "es", "it", "pt", "ko"}
    assert len(FORMATS) >= 8 and len(set(FORMATS)) == len(FORMATS)
    assert {"full", "long", "medium", "weekday_abbr"} <= set(FORMATS)
    assert "short" not in FORMATS  # Babel's short style has 2-digit years in several locales


def test_same_seed_same_corpus_and_other_seed_other_corpus():
    sizes = {"train_size": 200, "validation_size": 20, "test_size": 20}
    first = generate_dates_corpus(**sizes, seed=3)
    assert generate_dates_corpus(**sizes, seed=3) == first
    other = generate_dates_corpus(**sizes, seed=4)
    assert other.train != first.train and other.test != first.test


def test_test_split_depends_only_on_seed_and_test_size():
    small = generate_dates_corpus(train_size=100, validation_size=50, test_size=50, seed=1)
    big = generate_dates_corpus(train_size=300, validation_size=50, test_size=50, seed=1)
    assert big.test == small.test and big.validation == small.validation
    assert big.train[:100] == small.train  # growing train only appends
    other_validation = generate_dates_corpus(train_size=10, validation_size=7, test_size=50, seed=1)
    assert other_validation.test == small.test


def test_sizes_unique_and_disjoint_sources(corpus):
    assert isinstance(corpus, DatesCorpus)
    assert (len(corpus.train), len(corpus.validation), len(corpus.test)) == (3000, 300, 300)
    splits = [corpus.train, corpus.validation, corpus.test]
    sources = [{source for source, _ in split} for split in splits]
    assert [len(s) for s in sources] == [len(split) for split in splits]  # unique within a split
    assert not sources[0] & sources[1]
    assert not sources[0] & sources[2]
    assert not sources[1] & sources[2]


def test_default_sizes_and_empty_evaluation_splits():
    default = generate_dates_corpus()
    assert (len(default.train), len(default.validation), len(default.test)) == (20000, 1000, 1000)
    only_train = generate_dates_corpus(train_size=5, validation_size=0, test_size=0)
    assert (len(only_train.train), only_train.validation, only_train.test) == (5, [], [])


def test_targets_are_iso_dates_spanning_both_centuries(corpus):
    pairs = corpus.train + corpus.validation + corpus.test
    assert all(isinstance(s, str) and isinstance(t, str) for s, t in pairs)
    assert all(ISO_DATE.fullmatch(target) for _, target in pairs)
    days = [datetime.date.fromisoformat(target) for _, target in pairs]
    assert all(FIRST <= day <= LAST for day in days)
    years = [day.year for day in days]
    assert min(years) < 1950 and max(years) > 2050
    assert sum(year < 2000 for year in years) / len(years) == pytest.approx(0.5, abs=0.05)


def test_every_pair_is_a_rendering_and_all_locales_and_formats_appear(corpus):
    formats_seen, identified_locales = set(), set()
    for source, target in corpus.train[:1500]:
        renderings = _renderings(source, target)
        assert renderings, (source, target)
        formats_seen |= {name for _, name in renderings}
        locales = {locale for locale, _ in renderings}
        if len(locales) == 1:  # a string only this locale writes: the locale was drawn
            identified_locales |= locales
    assert formats_seen == set(FORMATS)
    assert identified_locales == set(LOCALES)


def test_no_source_has_two_readings_and_years_have_four_digits():
    # Independently of the generator's own check: every locale and format over whole years
    # (all day/month swaps included), then 30k random (date, locale, format) triples.
    days = [
        datetime.date(year, 1, 1) + datetime.timedelta(days=i)
        for year in (1900, 2000, 2099)
        for i in range(366 if year == 2000 else 365)
    ]
    rng = random.Random(0)
    triples = [(day, locale, name) for day in days for locale in LOCALES for name in FORMATS]
    span = (LAST - FIRST).days + 1
    triples += [
        (
            FIRST + datetime.timedelta(days=rng.randrange(span)),
            rng.choice(LOCALES),
            rng.choice(FORMATS),
        )
        for _ in range(30_000)
    ]
    readings = {}
    for day, locale, name in triples:
        source = format_date(day, locale, name)
        assert str(day.year) in source, (source, locale, name)
        assert readings.setdefault(source, day) == day, (source, readings[source], day, locale)
    assert len(readings) > 50_000


def test_known_renderings():
    day = datetime.date(2021, 3, 4)
    assert format_date(day, "fr", "long") == "4 mars 2021"
    assert format_date(day, "en_US", "full") == "Thursday, March 4, 2021"
    assert format_date(day, "de", "full") == "Donnerstag, 4. März 2021"
    assert format_date(day, "es", "long") == "4 de marzo de 2021"
    assert format_date(day, "ko", "long") == "2021년 3월 4일"
    assert format_date(day, "en_US", "weekday_abbr") == "Thu, Mar 4, 2021"
    assert format_date(day, "en_US", "mdy_slash") == "3/4/2021"  # US: month first
    assert format_date(day, "de", "medium") == "04.03.2021"  # German: day first
    assert format_date(day, "de", "dmy_dot") == "04.03.2021"
    assert format_date(day, "ko", "medium") == format_date(day, "ko", "ymd_dot_space")
    assert format_date(datetime.date(1905, 12, 25), "fr", "ymd_slash") == "1905/12/25"


@pytest.mark.parametrize("locale", LOCALES)
def test_numeric_orders_are_fixed_by_their_separator(locale):
    # 25 January: the day cannot be a month, so each numeric string shows its order.
    for name in FORMATS:
        source = format_date(datetime.date(2021, 1, 25), locale, name)
        if re.search(r"[^\d\s./-]", source):
            continue  # month or weekday names: not numeric
        if source.startswith("2021"):
            assert re.fullmatch(r"2021\D+0?1\D+25\.?", source), (locale, name, source)
        elif "/" in source:
            assert source == "1/25/2021", (locale, name)  # the only month-first form
        else:
            assert re.fullmatch(r"25[.-]01[.-]2021", source), (locale, name, source)


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"train_size": 0}, "train_size=0"),
        ({"train_size": -5}, "train_size=-5"),
        ({"train_size": 10.0}, "train_size=10.0"),
        ({"train_size": True}, "train_size=True"),
        ({"validation_size": -1}, "validation_size=-1"),
        ({"test_size": "100"}, "test_size='100'"),
        ({"seed": -1}, "seed=-1"),
        ({"seed": None}, "seed=None"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_the_value(kwargs, shown):
    with pytest.raises(ValueError, match=re.escape(f"received {shown}")):
        generate_dates_corpus(**kwargs)


def test_too_large_requests_raise_value_error():
    with pytest.raises(ValueError, match="Ask for fewer pairs"):
        generate_dates_corpus(train_size=10**7)


def test_exhausted_source_space_raises_instead_of_looping(monkeypatch):
    monkeypatch.setattr(dates, "NUM_DAYS", 1)  # one date: only a few dozen distinct sources
    with pytest.raises(ValueError, match="Could not draw 100 distinct train sources"):
        generate_dates_corpus(train_size=100, validation_size=0, test_size=0)


def test_an_ambiguous_format_table_raises_runtime_error(monkeypatch):
    monkeypatch.setitem(dates._FORMATTERS, "ymd_slash", lambda d, _: f"{d.year}/{d.month}")
    with pytest.raises(RuntimeError, match="ambiguous"):
        generate_dates_corpus(train_size=2000, validation_size=0, test_size=0)


def test_format_date_rejects_unknown_arguments():
    day = datetime.date(2021, 3, 4)
    with pytest.raises(ValueError, match="locale='xx'"):
        format_date(day, "xx", "long")
    with pytest.raises(ValueError, match="format_name='short'"):
        format_date(day, "fr", "short")
    with pytest.raises(ValueError, match="date='2021-03-04'"):
        format_date("2021-03-04", "fr", "long")


def test_corpus_is_frozen(corpus):
    with pytest.raises(dataclasses.FrozenInstanceError):
        corpus.train = []
