"""`keras-transformer classify`: texts labelled with a classifier run."""

import json

from keras_transformer.cli import flags


def run(args):
    from keras_transformer.predictors import load_predictor

    classifier = load_predictor(args.run_dir, "classify")
    texts = flags.texts(args)
    if classifier.pairs:
        if any("\t" not in text for text in texts):
            raise ValueError(
                "This classifier reads sentence pairs: give each as 'text_a<TAB>text_b' "
                f"(e.g. $'first\\tsecond' in bash); received {texts[0]!r}."
            )
        texts = [tuple(text.split("\t", 1)) for text in texts]
    for text, prediction in zip(texts, classifier.predict(texts, args.batch_size), strict=True):
        if args.json:
            row = {"text": text, "label": prediction.label,
                   "probabilities": prediction.probabilities}  # fmt: skip
            print(json.dumps(row, ensure_ascii=False))
        else:
            shown = text if isinstance(text, str) else "\t".join(text)
            print(f"{prediction.label}\t{prediction.probability:.3f}\t{shown}")
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "classify", help="label texts with a classifier run (arguments, or stdin)"
    )
    parser.add_argument("run_dir", help="a run directory made by `train --task classify`")
    parser.add_argument(
        "texts", nargs="*",
        help="texts (sentence pairs as 'text_a<TAB>text_b'); read from stdin (one per line) "
        "when none",
    )  # fmt: skip
    parser.add_argument("--batch-size", type=flags.positive_int, default=64)
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per text, every label's probability"
    )
    parser.set_defaults(handler=run)
