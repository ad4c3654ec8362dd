"""A decoder-only language model (GPT-style) end to end: `train(task="lm")` on the built-in
corpus, perplexity, a causality check, greedy and sampled continuations, an export.

The built-in corpus "python-docs" is the text of Python's documentation topics (2,600
paragraphs, 0.46 MB, shipped with every CPython: no download); `--corpus` takes your own text
files instead (documents one per line, or paragraphs separated by blank lines). The rule picks
every setting left unset (printed at the start): a character tokenizer and the tiny preset
(2 layers of 64, 128 positions) for the built-in corpus. Quick by default (8 epochs, about 2
minutes on 2 CPU cores); full size: `--epochs 25` (the rule's default for this corpus).
`--smoke`: a few steps.

    python examples/language_model.py --out runs/language_model
    python examples/language_model.py --corpus my_notes.txt --out runs/my_lm --epochs 10

The same with the CLI:

    keras-transformer train --task lm --out runs/lm            # --corpus my_notes.txt
    keras-transformer evaluate runs/lm                         # perplexity, bits per char
    keras-transformer generate runs/lm "The with statement"    # nucleus sampling
    keras-transformer generate --greedy runs/lm "The with statement"
    keras-transformer export runs/lm runs/lm_export            # a SavedModel
"""

## Setup

import argparse
import logging
import pathlib
import sys

import numpy as np
import tensorflow as tf

from keras_transformer import tasks
from keras_transformer.decoding import GENERATION_DEFAULTS
from keras_transformer.evaluation.evaluate import evaluate_run
from keras_transformer.export import export_language_model
from keras_transformer.models.language_model import count_language_model_parameters
from keras_transformer.run import Run
from keras_transformer.training import TrainConfig, train

# Prompts of one length in tokens share one compiled decoding graph (here 18 characters).
PROMPTS = ["The with statement", "A class definition", "The pass statement"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="your text files; default: the built-in python-docs")
    parser.add_argument("--out", default="runs/language_model")
    parser.add_argument("--epochs", type=int, default=8, help="full size: 25")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few steps")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    # The rule's choices are logged (INFO) as training starts; show them here.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logging.getLogger("keras_transformer").setLevel(logging.INFO)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # not its retracing notes

    ## Train: the settings left unset are chosen for the corpus, and logged
    training = TrainConfig(
        task="lm",
        corpus=args.corpus,  # None: the task's built-in corpus, "python-docs"
        out=str(out / "run"),
        epochs=1 if args.smoke else args.epochs,
        steps_per_epoch=2 if args.smoke else None,
        # Smoke: 1 % of the documents held out for validation and test (the rule: 5 %).
        validation_fraction=0.01 if args.smoke else None,
        test_fraction=0.01 if args.smoke else None,
    )
    result = train(None, training, overwrite=True, verbose=2)
    run = Run.open(result.run_dir)
    config, chosen = run.model_config, run.train_config
    print(f"\nrun directory: {run.directory} ({result.status}, {result.epochs} epochs, "
          f"kept: {result.kept}, {result.seconds:.0f} s)")  # fmt: skip
    print(f"corpus {chosen.corpus!r}: {len(run.splits.train)} training documents, "
          f"{chosen.tokenizer} tokenizer of {run.tokenizer.vocabulary_size} tokens")  # fmt: skip
    print(f"model: {config.num_layers} layers, hidden {config.hidden_dim}, {config.num_heads} "
          f"heads, {config.sequence_length} positions, "
          f"{count_language_model_parameters(config):,} parameters")  # fmt: skip
    print(f"training: blocks of {chosen.block_size} tokens, batch {chosen.batch_size}, "
          f"warm-up {chosen.warmup_steps} steps, learning-rate scale "
          f"{chosen.learning_rate_scale}")  # fmt: skip

    ## Perplexity and bits per character on held-out documents
    # Perplexity is per token (here a character); bits per character compares across
    # tokenizers. A uniform guess over the vocabulary scores perplexity = vocabulary size.
    scores = evaluate_run(run.directory, split="validation")
    print(f"\nvalidation: perplexity {scores['perplexity']:.2f} per token, "
          f"{scores['bits_per_character']:.3f} bits per character "
          f"({scores['documents']} documents, {scores['tokens']} tokens)")  # fmt: skip

    ## Causality: a token never sees the tokens after it
    # Position i predicts token i + 1 from tokens 0..i only. Change the token at position k:
    # the logits before k must not move; those from k on may.
    model, generator = run.load_model(), tasks.of(run).predictor(run)
    ids = generator.prompt_ids(["Return the value of x."])[0][None, :]  # [START] + tokens
    k = ids.shape[1] // 2
    changed = ids.copy()
    changed[0, k] = 4 if ids[0, k] != 4 else 5  # another (non-reserved) token
    before = np.asarray(model(ids, training=False))
    after = np.asarray(model(changed, training=False))
    earlier = np.abs(after[:, :k] - before[:, :k]).max()
    later = np.abs(after[:, k:] - before[:, k:]).max()
    print(f"\ncausality: token {k} of {ids.shape[1]} changed; max logit change before it: "
          f"{earlier:.1e}, from it on: {later:.2f}")  # fmt: skip
    print(f"causality check passed: {bool(earlier < 1e-5 and later > 0)}")

    ## Continuations: greedy decoding vs nucleus sampling
    # Greedy decoding takes the most likely token each step; a small language model soon
    # repeats itself in a loop. `evaluate` and `generate` therefore sample by default:
    # nucleus sampling (top-p 0.9, temperature 0.8, seeded), GENERATION_DEFAULTS.
    # Your corpus: the first words of held-out documents as prompts.
    prompts = PROMPTS
    if args.corpus is not None:
        prompts = [" ".join(d.split()[:3]) for d in run.splits.validation[:3]]
    new_tokens = 8 if args.smoke else 80
    greedy = generator.generate(prompts, max_new_tokens=new_tokens, strategy="greedy")
    sampled = generator.generate(prompts, GENERATION_DEFAULTS, max_new_tokens=new_tokens)
    print(f"\nsampling options: {GENERATION_DEFAULTS.describe()}")
    for prompt, g, s in zip(prompts, greedy, sampled, strict=True):
        print(f"\nprompt  {prompt!r}")
        print(f"greedy  {g[len(prompt) :]!r}")
        print(f"sampled {s[len(prompt) :]!r}")

    ## Export: a SavedModel that continues prompts, loadable with TensorFlow alone
    # (CLI: `keras-transformer export RUN_DIR EXPORT_DIR`.) Greedy here, so that it must give
    # the text generated in-process above.
    export_dir = export_language_model(model, run.tokenizer, out / "saved_model",
                                       strategy="greedy", max_new_tokens=new_tokens,
                                       overwrite=True)  # fmt: skip
    exported = tf.saved_model.load(str(export_dir))
    served = [t.decode("utf-8") for t in exported.generate(tf.constant(prompts)).numpy()]
    print(f"\nexported to {export_dir}; same greedy text as in-process: {served == greedy}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
