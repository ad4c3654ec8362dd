"""An encoder classifier (BERT-style) end to end: `train(task="classify")` on the built-in
date-validity task, accuracy, macro-F1 and a confusion matrix, predictions with their
probabilities, a padding check, an export.

The built-in task asks whether a date is real: "April 31, 1950" is not, "29 février 2020" is
(a leap year), "29 février 2021" is not; dates in 7 languages and 7 formats, half of them
impossible, generated without download. `--corpus` takes your own TSV files of
`text<TAB>label` lines instead (`train` also takes `text_a<TAB>text_b<TAB>label` pairs; this
example classifies single texts). The rule picks every setting left unset (printed at the
start): a character tokenizer and the tiny preset (2 layers of 64) for the built-in task.
Quick by default (10000 training dates, 6 epochs: about a minute on 2 CPU cores); full
size, the rule's defaults: `--train-size 20000 --epochs 8` (about 3 minutes, 99 % accuracy).
`--smoke`: a few steps.

    python examples/classifier.py --out runs/classifier
    python examples/classifier.py --corpus reviews.tsv --out runs/reviews --epochs 5

The same with the CLI:

    keras-transformer train --task classify --out runs/validity    # --corpus reviews.tsv
    keras-transformer evaluate runs/validity                       # + confusion matrix PNG
    keras-transformer classify runs/validity "April 31, 1950" "29 février 2020"
    keras-transformer export runs/validity runs/validity_export    # a SavedModel
"""

## Setup

import argparse
import logging
import pathlib
import sys

import numpy as np
import tensorflow as tf

from keras_transformer import tasks
from keras_transformer.evaluation.evaluate import evaluate_run
from keras_transformer.export import export_classifier
from keras_transformer.models.classifier import count_classifier_parameters
from keras_transformer.run import Run
from keras_transformer.training import TrainConfig, train

# Dates and their truth, in pairs that differ by one day or one year: the label depends on
# the day, the month and, for 29 February, whether the year is a leap year, which the model
# has to learn from the digits (real 29 Februaries are rare in the data: the hardest case).
DATES = {
    "April 31, 1950": "impossible", "April 30, 1950": "real",
    "29 février 2020": "real", "29 février 2021": "impossible",
    "31.12.1999": "real", "31.11.1999": "impossible",
    "2/29/2024": "real", "30. Februar 2024": "impossible",
}  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="your TSV files; default: the built-in date-validity")
    parser.add_argument("--out", default="runs/classifier")
    parser.add_argument("--epochs", type=int, default=6, help="full size: 8")
    parser.add_argument("--train-size", type=int, default=10000, help="full size: 20000")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few steps")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    # The rule's choices are logged (INFO) as training starts; show them here.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logging.getLogger("keras_transformer").setLevel(logging.INFO)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)

    ## Train: the settings left unset are chosen for the task, and logged
    # For your own corpus with imbalanced classes, add class_weight="balanced" (CLI:
    # --class-weight balanced): each class then weighs as much in the loss.
    training = TrainConfig(
        task="classify",
        corpus=args.corpus,  # None: the task's built-in corpus, "date-validity"
        out=str(out / "run"),
        epochs=1 if args.smoke else args.epochs,
        steps_per_epoch=3 if args.smoke else None,
        # The built-in task's split sizes (a TSV corpus is split 90/5/5 instead).
        train_size=300 if args.smoke else args.train_size,
        validation_size=100 if args.smoke else 1000,
        test_size=100 if args.smoke else 1000,
    )
    result = train(None, training, overwrite=True, verbose=2)
    run = Run.open(result.run_dir)
    config, chosen = run.model_config, run.train_config
    print(f"\nrun directory: {run.directory} ({result.status}, {result.epochs} epochs, "
          f"kept: {result.kept}, {result.seconds:.0f} s)")  # fmt: skip
    print(f"corpus {chosen.corpus!r}: {len(run.splits.train)} training examples, labels "
          f"{run.labels}, {chosen.tokenizer} tokenizer of {run.tokenizer.vocabulary_size} "
          "tokens")  # fmt: skip
    print("a few training examples:", *run.splits.train[:4], sep="\n  ")
    print(f"model: {config.num_layers} layers, hidden {config.hidden_dim}, {config.num_heads} "
          f"heads, {config.pooling!r} pooling, {count_classifier_parameters(config):,} "
          "parameters")  # fmt: skip

    ## Evaluate on the test split: accuracy, macro-F1, per-class scores, confusion matrix
    # Macro-F1 averages the classes' F1 unweighted: unlike accuracy, a rare class counts as
    # much as a frequent one.
    scores = evaluate_run(run.directory, split="test")
    print(f"\ntest: accuracy {scores['accuracy']:.1%}, macro-F1 {scores['macro_f1']:.3f} on "
          f"{scores['count']} examples")  # fmt: skip
    for label, s in scores["per_class"].items():
        print(f"  {label:>12}: precision {s['precision']:.3f}, recall {s['recall']:.3f}, "
              f"F1 {s['f1']:.3f} ({s['support']} examples)")  # fmt: skip
    print(f"confusion matrix (rows: true {run.labels}, columns: predicted): "
          f"{scores['confusion']}")  # fmt: skip
    print(f"confusion matrix plot: {scores['plot']}")
    for example in scores["examples"][:3]:  # the mistakes first
        print(f"  {example['text']!r}: {example['label']}, predicted {example['predicted']} "
              f"({example['probability']:.2f})")  # fmt: skip

    ## Classify new texts: a label and every label's probability
    classifier = tasks.of(run).predictor(run)
    truth = DATES if args.corpus is None else {e[0]: e[-1] for e in run.splits.test[:8]}
    texts = list(truth)
    predictions = classifier.predict(texts)
    print()
    for text, prediction in zip(texts, predictions, strict=True):
        shown = ", ".join(f"{label} {p:.3f}" for label, p in prediction.probabilities.items())
        mark = "right" if prediction.label == truth[text] else f"WRONG, it is {truth[text]}"
        print(f"{text!r:>20} -> {prediction.label:<10} ({shown}): {mark}")

    ## Padding never changes a prediction
    # Every block gets the padding mask of the ids, and "cls" pooling reads the first token
    # ("mean" pooling averages the real tokens only): a text scores the same alone, padded
    # with zeros, or in a batch whose longest text pads it.
    model = classifier.model
    ids = np.asarray(classifier.inputs(texts[:1]))
    padded = np.pad(ids, [(0, 0), (0, config.sequence_length - ids.shape[1])])
    alone = np.asarray(model(ids, training=False))
    padded_change = np.abs(np.asarray(model(padded, training=False)) - alone).max()
    in_batch = classifier.probabilities([texts[0], "x" * 200])[:1]  # the longer text pads it
    batch_change = np.abs(in_batch - alone).max()
    print(f"\n{texts[0]!r}: {ids.shape[1]} tokens, padded to {padded.shape[1]}: max "
          f"probability change {padded_change:.1e}; in a batch with a longer text: "
          f"{batch_change:.1e}")  # fmt: skip
    print(f"padding check passed: {bool(max(padded_change, batch_change) < 1e-5)}")

    ## Export: a SavedModel that labels strings, loadable with TensorFlow alone
    # (CLI: `keras-transformer export RUN_DIR EXPORT_DIR`.)
    export_dir = export_classifier(model, run.tokenizer, run.labels, out / "saved_model",
                                   overwrite=True)  # fmt: skip
    exported = tf.saved_model.load(str(export_dir))
    served = exported.classify(tf.constant(texts))
    same = [t.decode("utf-8") for t in served["label"].numpy()] == [p.label for p in predictions]
    print(f"exported to {export_dir}; same labels as in-process: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
