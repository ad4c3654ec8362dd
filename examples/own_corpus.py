"""Your own parallel corpus: a TSV file, WordPiece tokenizers, `train()`, translation.

The example writes a small corpus itself (English number phrases -> digits, e.g. "three
hundred and twelve" -> "312"), so it runs anywhere; point `--corpus` at
your own `source<TAB>target` file (Tatoeba/Anki files work as they are) to train on it.
Quick by default (about a minute); full size: `--epochs 30 --pairs 20000`. `--smoke`: a few
steps.

    python examples/own_corpus.py --out runs/own_corpus
    python examples/own_corpus.py --corpus fra.tsv --out runs/fra --epochs 20
"""

## Setup

import argparse
import pathlib
import random

import keras_transformer as kt
from keras_transformer.data.tsv import write_tsv
from keras_transformer.predictors import load_predictor
from keras_transformer.training import TrainConfig, train

UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def spell(number):
    """English words of 0 <= number < 1000."""
    hundreds, rest = divmod(number, 100)
    words = [UNITS[hundreds], "hundred"] if hundreds else []
    if rest or not words:
        if hundreds:
            words.append("and")
        if rest < 10:
            words.append(UNITS[rest])
        elif rest < 20:
            words.append(TEENS[rest - 10])
        else:
            tens, units = divmod(rest, 10)
            words.append(TENS[tens] + (f"-{UNITS[units]}" if units else ""))
    return " ".join(words)


def write_corpus(path, pairs_count, seed=0):
    """A TSV of `pairs_count` lines "<words>\\t<digits>" (a third column, as in Anki files)."""
    rng = random.Random(seed)
    numbers = [rng.randrange(1000) for _ in range(pairs_count)]
    write_tsv([(spell(n), str(n)) for n in numbers], path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="your TSV file; default: write a small one")
    parser.add_argument("--out", default="runs/own_corpus")
    parser.add_argument("--epochs", type=int, default=8, help="full size: 30")
    parser.add_argument("--pairs", type=int, default=6000, help="full size: 20000")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few steps")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    ## The corpus: one "source<TAB>target" pair per line, UTF-8
    corpus = args.corpus or write_corpus(out / "numbers.tsv", 200 if args.smoke else args.pairs)
    print("first lines of", corpus)
    print("".join(pathlib.Path(corpus).read_text(encoding="utf-8").splitlines(True)[:3]))

    ## Train: WordPiece tokenizers learnt from the training split, the paper's recipe
    config = kt.TransformerConfig.preset("tiny", sequence_length=32)
    training = TrainConfig(
        corpus=str(corpus),
        out=str(out / "run"),
        tokenizer="wordpiece",
        max_vocabulary_size=400,
        epochs=1 if args.smoke else args.epochs,
        steps_per_epoch=2 if args.smoke else None,
        warmup_steps=500,
        validation_sample=4 if args.smoke else 500,
        validation_fraction=0.05,
        test_fraction=0.05,
    )
    result = train(config, training, overwrite=True, verbose=2)
    print(f"{result.status}: validation token accuracy {result.metrics['val_masked_accuracy']:.3f}")

    ## Translate sentences the model never saw
    translator = load_predictor(result.run_dir)
    tests = ["seven hundred and forty-two", "nineteen", "five hundred"]
    for text, translation in zip(tests, translator.translate(tests), strict=True):
        print(f"{text:>30} -> {translation}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
