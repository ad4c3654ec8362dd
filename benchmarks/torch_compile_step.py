"""`torch.compile` of the cached decoding step vs PyTorch's eager step (the step
`decoding.compiled.compile_search` runs under PyTorch): CPU-seconds of one greedy and one
beam-search decode of 16 random 20-token sources (32 new tokens) after the compile, the
compile's own CPU-seconds, and whether both give the same ids. Sets KERAS_BACKEND=torch.

    python benchmarks/torch_compile_step.py [--preset tiny] [--repeats 3]

Figures: benchmarks/README.md#backends-on-cpu.
"""

import argparse
import os
import time

os.environ["KERAS_BACKEND"] = "torch"

import keras
import numpy as np
import torch

import keras_transformer as kt
from keras_transformer.decoding import steps
from keras_transformer.decoding.search import decode


def compiled_step(model, source_ids, length, repeat=1):
    """`steps.cached_step` with its step function compiled by `torch.compile`."""
    step_fn, cache = steps.cached_step(model, source_ids, length, repeat)
    return torch.compile(step_fn, dynamic=True), cache


def timed(model, ids, step, strategy):
    """(CPU-seconds, ids) of one decode."""
    options = {"beam_width": 4} if strategy == "beam" else {}
    with torch.no_grad():
        start = time.process_time()
        result = decode(step, model, ids, 32, strategy, **options)
        return time.process_time() - start, keras.ops.convert_to_numpy(result.ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = kt.TransformerConfig.preset(args.preset, vocabulary_size=2000, sequence_length=64)
    model = kt.Transformer(config)
    ids = np.random.default_rng(0).integers(3, 2000, (16, 20)).astype("int32")
    for strategy in ("greedy", "beam"):
        compile_seconds, _ = timed(model, ids, compiled_step, strategy)
        eager, compiled = [], []
        for _ in range(args.repeats):  # alternated: the machine is shared
            seconds, eager_ids = timed(model, ids, steps.cached_step, strategy)
            eager.append(seconds)
            seconds, compiled_ids = timed(model, ids, compiled_step, strategy)
            compiled.append(seconds)
        print(
            f"{args.preset} {strategy}: eager {min(eager):.2f} CPU-s, torch.compile(step) "
            f"{min(compiled):.2f} CPU-s (first call, compile included: {compile_seconds:.1f}), "
            f"same ids: {np.array_equal(eager_ids, compiled_ids)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
