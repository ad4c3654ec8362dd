"""Language-model generation: cached vs uncached greedy decoding, per generated token.

A `LanguageModel` (random weights: speed does not depend on them) continues a prompt by
greedy search through `decode`. The cached step (`language_model_step`) fills the per-layer
key/value caches with the prompt once and then feeds one token per step, so each new token
costs about the same however many came before; the uncached baseline
(`uncached_language_model_step`, below) runs the whole model on the whole prefix at every
step, so its cost per token grows with the generated length. [END] is forbidden
(`min_length`), so every run generates exactly the requested number of tokens, and both
must choose the same token ids (checked: it is also a test of the cache).

The uncached prefix grows by one position per step (a shape XLA cannot compile), so the
uncached baseline runs as a plain `tf.function` graph; the cached search runs both as a
graph (the like-for-like comparison) and compiled with XLA (`jit_compile=True`, what
`Generator` does; `--no-xla` skips it).

    python benchmarks/generate.py                        # small preset, batch 1 and 32
    python benchmarks/generate.py --lengths 64 --batch-sizes 1 --repeats 5
"""

import argparse
import statistics
import time

import numpy as np
import tensorflow as tf

import keras_transformer as kt
from keras_transformer.constants import PAD_ID, START_ID
from keras_transformer.decoding import decode, language_model_step


def uncached_language_model_step(model, prompt_ids, length, repeat=1):
    """The baseline with `language_model_step`'s contract: no key/value cache, each step runs
    `model` on the whole prefix (the prompt and the tokens chosen so far) and keeps the last
    position's logits. Its cache is the token buffer `(rows, prompt_length + length - 1)`;
    step 0 reads the prompt alone, step i > 0 first writes the token chosen at step i - 1 at
    position `prompt_length - 1 + i`."""
    if repeat > 1:
        prompt_ids = tf.repeat(prompt_ids, repeat, axis=0)
    rows = prompt_ids.shape[0] if prompt_ids.shape[0] is not None else tf.shape(prompt_ids)[0]
    prompt_length = tf.shape(prompt_ids)[1]
    buffer = tf.concat([prompt_ids, tf.zeros([rows, length - 1], tf.int32)], axis=1)

    def step_fn(token_ids, index, buffer):
        position = prompt_length - 1 + index
        new = token_ids * tf.cast(index > 0, tf.int32)  # step 0 feeds no token
        buffer += tf.one_hot(position, tf.shape(buffer)[1], dtype=tf.int32) * new
        logits = model(buffer[:, : position + 1], training=False)
        return tf.cast(logits[:, -1:], tf.float32), buffer

    return step_fn, buffer


def generator(step, model, length, jit_compile):
    """A compiled greedy search of exactly `length` new tokens: `function(prompt_ids)`.

    Under XLA the function compiles once per input shape; in graph mode it takes any batch
    (`input_signature`), so the uncached baseline can be traced on one row."""

    def generate(prompt_ids):
        return decode(step, model, prompt_ids, length, strategy="greedy", min_length=length)

    if jit_compile:
        return tf.function(generate, jit_compile=True)
    signature = [tf.TensorSpec([None, None], tf.int32)]
    return tf.function(generate, input_signature=signature, jit_compile=False)


def timed(function, prompt_ids, repeats, max_seconds):
    """`(ids, median wall seconds, median CPU seconds, runs)` of up to `repeats` runs of a
    warm function; no further run once the runs so far took over `max_seconds`."""
    walls, cpus = [], []
    while len(walls) < repeats and sum(walls) <= max_seconds:
        wall, cpu = time.perf_counter(), time.process_time()
        ids = function(prompt_ids).ids.numpy()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return ids, statistics.median(walls), statistics.median(cpus), len(walls)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--prompt-length", type=int, default=1,
                        help="prompt tokens, [START] included (1: [START] alone)")  # fmt: skip
    parser.add_argument("--lengths", default="32,64,128,256",
                        help="new tokens (capped by sequence_length)")  # fmt: skip
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="no further repeat once a cell's runs took this long")  # fmt: skip
    parser.add_argument("--no-xla", action="store_true", help="skip the cached search under XLA")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    args = parser.parse_args()
    tf.get_logger().setLevel("ERROR")  # one trace per length is intended: no retracing warnings
    overrides = {}
    if args.smoke:
        args.preset, args.vocabulary_size, args.prompt_length = "tiny", 300, 3
        args.lengths, args.batch_sizes, args.repeats = "4", "2", 1
        overrides = dict(sequence_length=16)

    config = kt.LanguageModelConfig.preset(
        args.preset, vocabulary_size=args.vocabulary_size, dropout=0.0, **overrides
    )
    model = kt.LanguageModel(config)
    most = config.sequence_length - args.prompt_length + 1
    lengths = sorted({min(int(n), most) for n in args.lengths.split(",")})
    uncached_step = uncached_language_model_step
    variants = [("uncached", uncached_step, False),
                ("cached", language_model_step, False)]  # fmt: skip
    if not args.no_xla:
        variants.append(("cached XLA", language_model_step, True))

    print(
        f"{args.preset} preset, {model.count_params():,} parameters, vocabulary "
        f"{args.vocabulary_size}, prompt {args.prompt_length} token(s), greedy; ms per "
        "generated token (per step: one token in every row), wall (CPU-ms), median of "
        f"{args.repeats} runs (fewer: [n runs])"
    )
    header = ["batch", "new tokens", "uncached", "cached", "uncached / cached"]  # ratios: wall
    if not args.no_xla:
        header += ["cached XLA", "uncached / XLA"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    rng = np.random.default_rng(0)
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        prompt = rng.integers(4, args.vocabulary_size, size=(batch, args.prompt_length))
        prompt[:, 0] = START_ID
        prompt_ids = tf.constant(prompt, tf.int32)
        for length in lengths:
            results, reference = {}, None
            for name, step, jit in variants:
                function = generator(step, model, length, jit)
                # Warm-up: one run; the uncached one on one row (enough to trace it, where
                # a run on the batch can take minutes).
                function(prompt_ids[:1] if step is uncached_step else prompt_ids).ids.numpy()
                ids, wall, cpu, runs = timed(function, prompt_ids, args.repeats, args.max_seconds)
                assert ids.shape == (batch, length) and (ids != PAD_ID).all(), (name, ids)
                if reference is None:
                    reference = ids
                else:
                    mismatch = np.argwhere(ids != reference)
                    assert not len(mismatch), (
                        f"{name} differs from uncached at (row, step) {mismatch[0].tolist()}"
                    )
                results[name] = (1000 * wall / length, 1000 * cpu / length, runs)
            row = [str(batch), str(length)]
            uncached = results["uncached"][0]
            for name, _, _ in variants:
                wall, cpu, runs = results[name]
                note = "" if runs == args.repeats else f" [{runs} run{'s' * (runs > 1)}]"
                row.append(f"{wall:.2f} ({cpu:.2f}){note}")
                if name != "uncached":
                    row.append(f"{uncached / wall:.1f}×")
            print("| " + " | ".join(row) + " |", flush=True)
    print(f"token ids: cached{' and cached XLA' if not args.no_xla else ''} match uncached "
          "in every run")  # fmt: skip


if __name__ == "__main__":
    main()
