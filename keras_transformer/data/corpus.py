"""Loading a corpus by name: the built-in `dates` corpus or a user's TSV file, split three ways."""

import dataclasses
import pathlib

from keras_transformer.data.dates import generate_dates_corpus
from keras_transformer.data.tsv import read_tsv, split_pairs, write_tsv

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class Splits:
    """Train, validation and test pairs; no source string is in two splits."""

    train: list
    validation: list
    test: list

    def save(self, directory):
        """Writes `train.tsv`, `validation.tsv`, `test.tsv` into `directory`."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in SPLITS:
            pairs = getattr(self, name)
            if pairs:
                write_tsv(pairs, directory / f"{name}.tsv")

    @classmethod
    def load(cls, directory):
        """Reads the splits written by `save` (a missing split file is an empty split)."""
        directory = pathlib.Path(directory)
        values = {}
        for name in SPLITS:
            path = directory / f"{name}.tsv"
            values[name] = read_tsv(path).pairs if path.exists() else []
        if not values["train"]:
            raise FileNotFoundError(f"No training split in {directory} (expected train.tsv).")
        return cls(**values)


def load_corpus(
    corpus,
    train_size=20000,
    validation_size=1000,
    test_size=1000,
    validation_fraction=0.05,
    test_fraction=0.05,
    skip_malformed=False,
    seed=0,
):
    """The splits of `corpus`: `"dates"` (built in, sizes as given) or the path of a TSV file
    (split by fractions, deterministically, by source string)."""
    if corpus == "dates":
        dates = generate_dates_corpus(
            train_size=train_size, validation_size=validation_size, test_size=test_size, seed=seed
        )
        return Splits(list(dates.train), list(dates.validation), list(dates.test))
    path = pathlib.Path(corpus)
    if not path.exists():
        raise FileNotFoundError(
            f"--corpus {corpus!r} is neither the built-in 'dates' corpus nor an existing TSV "
            "file (one 'source<TAB>target' pair per line)."
        )
    pairs = read_tsv(path, skip_malformed=skip_malformed).pairs
    train, validation, test = split_pairs(pairs, validation_fraction, test_fraction, seed=seed)
    return Splits(train, validation, test)
