"""Export a trained run as a SavedModel, reload it in a clean process that has only
TensorFlow and tensorflow-text, and call its serving signature.

Uses `--run` when given (e.g. `runs/dates` from `make demo`), else trains a small model
first (about a minute; `--smoke`: a few steps).

    python examples/export_and_serve.py --run runs/dates --out runs/export_example
"""

## Setup

import argparse
import json
import pathlib
import subprocess
import sys

import keras_transformer as kt
from keras_transformer.export import export_saved_model
from keras_transformer.training import TrainConfig, train

SENTENCES = ["jeudi 4 mars 2021", "Thursday, March 4, 2021", "04.03.2021", ""]

# The client: a fresh interpreter that never imports keras_transformer.
CLIENT = """
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

model = tf.saved_model.load(sys.argv[1])
serve = model.signatures["serving_default"]
outputs = serve(text=tf.constant(json.loads(sys.argv[2])))
print(json.dumps({
    "translation": [t.decode() for t in outputs["translation"].numpy()],
    "tokens_shape": list(outputs["tokens"].shape),
    "keras_transformer_loaded": "keras_transformer" in sys.modules,
}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained run directory; default: train one")
    parser.add_argument("--out", default="runs/export_example")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few steps")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)

    ## A trained run
    run = args.run
    if run is None:
        config = kt.TransformerConfig.preset("tiny")
        training = TrainConfig(
            corpus="dates", out=str(out / "run"), epochs=1 if args.smoke else 4,
            steps_per_epoch=2 if args.smoke else None, train_size=100 if args.smoke else 10000,
            validation_size=16 if args.smoke else 64, test_size=8 if args.smoke else 32,
            warmup_steps=1000, validation_sample=4 if args.smoke else 500,
        )  # fmt: skip
        run = train(config, training, overwrite=True, verbose=2).run_dir

    ## Export: tokenizers, weights and the cached decoding loop in one SavedModel
    export_dir = export_saved_model(run, out / "saved_model", overwrite=True)
    print(f"exported to {export_dir}")

    ## Serve it from a clean process
    result = subprocess.run(
        [sys.executable, "-c", CLIENT, str(export_dir), json.dumps(SENTENCES)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    served = json.loads(result.stdout.strip().splitlines()[-1])
    for text, translation in zip(SENTENCES, served["translation"], strict=True):
        print(f"{text!r:>28} -> {translation!r}")
    print(f"tokens {served['tokens_shape']}; keras_transformer imported by the client: "
          f"{served['keras_transformer_loaded']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
