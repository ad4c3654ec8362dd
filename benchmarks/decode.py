"""Cached vs uncached greedy decoding: same model, same run, same compiled loop.

The uncached baseline re-runs the whole model on the whole prefix at every step (what a
decoder without a key/value cache does); the cached decoder encodes once and feeds one token
per step against per-layer caches. [END] is forbidden (`min_length`) so every run generates
exactly the requested number of tokens.

    python benchmarks/decode.py                 # tutorial preset, batch 1 (and 64)
    python benchmarks/decode.py --preset tiny --repeats 5
"""

import argparse
import statistics
import time

import numpy as np

import keras_transformer as kt
from keras_transformer.decoding import cached_step, decode, uncached_step


def timed(function, source_ids, repeats):
    function(source_ids)  # compile
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(source_ids).ids.numpy()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tutorial")
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--source-length", type=int, default=32)
    parser.add_argument("--lengths", default="16,32,64,128")
    parser.add_argument("--batch-sizes", default="1,64")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    args = parser.parse_args()
    if args.smoke:
        args.preset, args.lengths, args.batch_sizes, args.repeats = "tiny", "4", "2", 1

    import tensorflow as tf

    config = kt.TransformerConfig.preset(
        args.preset, vocabulary_size=args.vocabulary_size, sequence_length=256, dropout=0.0
    )
    model = kt.build_transformer(config)
    print(
        f"{args.preset} preset, {model.count_params():,} parameters, vocabulary "
        f"{args.vocabulary_size}, source length {args.source_length}, median of {args.repeats}"
    )
    print(f"{'batch':>5} {'new tokens':>10} {'uncached ms/token':>18} {'cached ms/token':>16} "
          f"{'speed-up':>9} {'cached+XLA ms/token':>20} {'speed-up':>9}")  # fmt: skip
    rng = np.random.default_rng(0)
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        source = rng.integers(4, args.vocabulary_size, size=(batch, args.source_length))
        source_ids = tf.constant(source, tf.int32)
        for length in (int(n) for n in args.lengths.split(",")):
            results = []
            # The uncached baseline cannot use XLA (its prefix grows: dynamic shapes).
            for step, jit in ((uncached_step, False), (cached_step, False), (cached_step, True)):
                function = tf.function(
                    lambda ids, step=step, length=length: decode(
                        step, model, ids, length, min_length=length
                    ),
                    jit_compile=jit,
                )
                results.append(1000 * timed(function, source_ids, args.repeats) / length)
            uncached, cached, xla = results
            print(f"{batch:>5} {length:>10} {uncached:>18.2f} {cached:>16.2f} "
                  f"{uncached / cached:>8.1f}x {xla:>20.2f} {uncached / xla:>8.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
