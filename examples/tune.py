"""A short keras-tuner search over the Transformer, then training the winner.

`TransformerHyperModel` is a `keras_tuner.HyperModel`: any keras-tuner tuner can drive it.
Here `tune()` runs a random search on a shrunk dates corpus and writes the trial table and
the best `TransformerConfig`; `train()` then trains it. Quick by default (about 2 minutes);
full size: `--max-trials 20 --epochs 3 --train-size 20000`. `--smoke`: a few steps.

    python examples/tune.py --out runs/tune_example
"""

## Setup

import argparse
import json
import pathlib

import keras_tuner

import keras_transformer as kt
from keras_transformer.training import TrainConfig, train
from keras_transformer.tuning import TransformerHyperModel, tune


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/tune_example")
    parser.add_argument("--max-trials", type=int, default=4, help="full size: 20")
    parser.add_argument("--epochs", type=int, default=2, help="full size: 3")
    parser.add_argument("--train-size", type=int, default=3000, help="full size: 20000")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few steps")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)

    ## The search space: defaults, narrowed here to small models
    space = {"num_layers": [1, 2], "hidden_dim": [32, 64], "num_heads": [2, 4],
             "intermediate_dim": [64, 128], "batch_size": [32, 64]}  # fmt: skip
    hypermodel = TransformerHyperModel(space)
    config, training = hypermodel.sample(keras_tuner.HyperParameters())
    print(f"default draw: {config.num_layers} layers, hidden {config.hidden_dim}, "
          f"{config.num_heads} heads, batch {training.batch_size}")  # fmt: skip

    ## Search: validation masked accuracy is the objective; re-running resumes
    data = TrainConfig(
        corpus="dates", out=str(out / "search"), epochs=1 if args.smoke else args.epochs,
        steps_per_epoch=3 if args.smoke else None,
        train_size=200 if args.smoke else args.train_size,
        validation_size=16 if args.smoke else 500, test_size=8 if args.smoke else 32,
        warmup_steps=200, validation_sample=4 if args.smoke else 500,
    )  # fmt: skip
    result = tune(data, tuner="random", max_trials=1 if args.smoke else args.max_trials,
                  space=space, verbose=0)  # fmt: skip
    print(result.trials_table.read_text())

    ## Train the winner with its training settings
    best = kt.TransformerConfig.from_json(result.best_config)
    settings = json.loads(result.best_training.read_text())
    final = data.replace(out=str(out / "best_run"), **settings)
    trained = train(best, final, overwrite=True, verbose=2)
    print(f"winner: {best.num_layers} layers, hidden {best.hidden_dim}, {best.num_heads} heads; "
          f"validation token accuracy {trained.metrics['val_masked_accuracy']:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
