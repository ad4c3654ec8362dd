"""Training step time, MFU and cached greedy generation on any Keras backend, synthetic data.

Self-contained: Keras and keras_transformer's models and loss only (no tf.data, no TensorFlow
needed), so it runs on a machine with JAX (or PyTorch) and no TensorFlow, e.g. a GPU machine:

    KERAS_BACKEND=jax python benchmarks/gpu.py                 # the base preset
    KERAS_BACKEND=jax python benchmarks/gpu.py --peak-tflops 989
    python benchmarks/gpu.py --smoke                           # tiny, any backend

For each precision (float32, mixed bfloat16) and compilation on and off (`jit_compile`: XLA
on TensorFlow and JAX, torch.compile on PyTorch, where Keras's default is off): `model.fit`
ms per step (the median after warm-up, each step synchronised), tokens per second (source
and target tokens), and MFU: the model FLOPs per step (3 x the forward pass's matrix
products, attention included, counted analytically) over the step time, as a share of the
device's peak (`--peak-tflops`; defaults: 989 for an H100/H200 in bfloat16, else measured
with one large matrix product). Then cached greedy generation in tokens per second at batch
1 and 64: the library's own search (`keras_transformer.decoding.search.decode` over
`decoding.steps.cached_step`, [END] forbidden so every row makes the requested tokens),
compiled by `decoding.compiled.compile_search` (XLA on TensorFlow and JAX; eager on PyTorch).
"""

import argparse
import json
import os
import statistics
import time

import keras
import numpy as np
from keras import ops
from step_timer import StepTimer  # benchmarks/step_timer.py

from keras_transformer.decoding.compiled import compile_search
from keras_transformer.decoding.search import decode
from keras_transformer.decoding.steps import cached_step
from keras_transformer.models import Transformer, TransformerConfig
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy

BACKEND = keras.backend.backend()
# Dense bfloat16 peaks (TFLOP/s) by device name; float32 runs use the same denominator
# (TF32 tensor cores on these chips), stated as such in the output.
KNOWN_PEAKS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}
# Memory bandwidths (TB/s) by device name, for --cost-analysis (H100 SXM, H200, A100 80 GB).
KNOWN_BANDWIDTHS = {"H100": 3.35, "H200": 4.8, "A100": 2.0}


def device_name():
    if BACKEND == "jax":
        import jax

        return str(jax.devices()[0].device_kind)
    if BACKEND == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    return "cpu"


def measured_peak(size=4096, repeats=10):
    """TFLOP/s of one bfloat16 (size x size) matrix product on this backend, as a peak."""
    a = ops.ones((size, size), "bfloat16")
    product = _compiled(lambda x: ops.matmul(x, x), BACKEND != "torch")
    _sync(product(a))
    started = time.perf_counter()
    for _ in range(repeats):
        result = product(a)
    _sync(result)
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e12


def _sync(value):
    """Waits for `value` (any backend's tensor, or a nest of them) to be computed."""
    leaves = keras.tree.flatten(value)
    np.asarray(ops.convert_to_numpy(leaves[-1]))


def _compiled(function, jit):
    if not jit:
        return function
    if BACKEND == "jax":
        import jax

        return jax.jit(function)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True)
    raise ValueError(f"no compiled keras.ops loop on {BACKEND}; run it eagerly")


def forward_flops(config, batch, source_length, target_length):
    """Matrix-product FLOPs of one forward pass (2 per multiply-add)."""
    d, ff, n = config.hidden_dim, config.intermediate_dim, config.num_layers
    v = config.target_vocabulary_size or config.vocabulary_size
    source, target = batch * source_length, batch * target_length
    encoder = source * (4 * d * d + 2 * d * ff) + batch * 2 * source_length**2 * d
    decoder = target * (8 * d * d + 2 * d * ff)
    decoder += batch * (2 * target_length**2 * d + 2 * target_length * source_length * d)
    # Encoder: Q, K, V, O (4 d^2) and the FFN (2 d ff) per token; attention scores and
    # weighted values (2 L^2 d). Decoder: self and cross attention, the cross K/V over the
    # source tokens counted with the target side for simplicity.
    return 2 * (n * (encoder + decoder) + target * d * v)


def xla_cost(model, batch, length):
    """XLA's own estimate of the compiled training step on this device (JAX): `(FLOPs, bytes
    accessed)`. Bytes over the memory bandwidth bound the step time from below when the step
    is memory-bound. (On a CPU, XLA converts bfloat16 around every matrix product, so a CPU
    estimate says little about a GPU's.)"""
    import jax

    state = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in model.optimizer.variables],
        [v.value for v in model.metrics_variables],
    )
    ids = jax.ShapeDtypeStruct((batch, length), "int32")
    data = ({"encoder_inputs": ids, "decoder_inputs": ids}, ids)
    cost = jax.jit(model.train_step).lower(state, data).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return cost["flops"], cost["bytes accessed"]


def training_step(config, batch, length, precision, jit, steps, warmup, cost_analysis=False):
    """`(median seconds per step, FLOPs per step, XLA's (FLOPs, bytes) or None)` of
    `model.fit` on synthetic ids."""
    keras.config.set_dtype_policy(precision)
    keras.utils.set_random_seed(0)
    model = Transformer(config)
    model.compile(
        keras.optimizers.Adam(1e-4, beta_1=0.9, beta_2=0.98, epsilon=1e-9),
        MaskedSparseCategoricalCrossentropy(0.1),
        jit_compile=jit,
    )
    rng = np.random.default_rng(0)
    count = (steps + warmup) * batch
    ids = rng.integers(4, config.vocabulary_size, (count, length + 1)).astype("int32")
    inputs = {"encoder_inputs": ids[:, 1:], "decoder_inputs": ids[:, :-1]}
    timer = StepTimer()
    model.fit(inputs, ids[:, 1:], batch_size=batch, epochs=1, callbacks=[timer], verbose=0,
              shuffle=False)  # fmt: skip
    cost = xla_cost(model, batch, length) if cost_analysis and jit and BACKEND == "jax" else None
    keras.config.set_dtype_policy("float32")
    flops = 3 * forward_flops(config, batch, length, length)
    return statistics.median(timer.times[warmup:]), flops, cost


def greedy(model, source_ids, steps):
    """Cached greedy decoding of exactly `steps` tokens: the library's search, [END]
    forbidden (`min_length`), `SearchResult.ids` `(batch, steps)`."""
    return decode(cached_step, model, source_ids, steps, "greedy", min_length=steps).ids


def generation(config, batch, source_length, steps, precision, jit, repeats):
    """Generated tokens per second (all rows) of cached greedy decoding."""
    keras.config.set_dtype_policy(precision)
    keras.utils.set_random_seed(0)
    model = Transformer(config)
    rng = np.random.default_rng(1)
    source = ops.convert_to_tensor(
        rng.integers(4, config.vocabulary_size, (batch, source_length)).astype("int32")
    )
    search = compile_search(lambda ids: greedy(model, ids, steps), jit, model=model)

    def run():
        return search(source)

    _sync(run())  # compiles
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        _sync(run())
        times.append(time.perf_counter() - started)
    keras.config.set_dtype_policy("float32")
    return batch * steps / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="base")
    parser.add_argument("--vocabulary-size", type=int, default=32000)
    parser.add_argument("--batch", type=int, default=64, help="training sequences per step")
    parser.add_argument("--more-batches", type=int, nargs="*", default=[],
                        help="further training batch sizes, measured compiled only")  # fmt: skip
    parser.add_argument("--length", type=int, default=256, help="tokens per side")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--peak-tflops", type=float, help="the device's peak (default: known)")
    parser.add_argument("--no-jit-off", action="store_true", help="skip the uncompiled runs")
    parser.add_argument("--no-jit-on", action="store_true", help="skip the compiled runs")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--skip-training", action="store_true", help="generation only")
    parser.add_argument("--skip-generation", action="store_true", help="training only")
    parser.add_argument("--dropout", type=float, help="override the preset's dropout")
    parser.add_argument("--cost-analysis", action="store_true",
                        help="JAX: also print XLA's FLOPs and bytes accessed per compiled step, "
                        "and the step time that bandwidth allows")  # fmt: skip
    parser.add_argument("--bandwidth", type=float, help="memory TB/s (default: known devices)")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    length = max(args.length, args.new_tokens)
    config = TransformerConfig.preset(
        args.preset, vocabulary_size=args.vocabulary_size, sequence_length=length
    )
    if args.dropout is not None:
        config = config.replace(dropout=args.dropout)
    if args.smoke:  # one small layer each side: quick to compile, for the tests
        config = TransformerConfig.preset("tiny", vocabulary_size=64, sequence_length=32,
                                          num_layers=1, hidden_dim=16, intermediate_dim=32,
                                          num_heads=2)  # fmt: skip
        args.batch, args.length, args.steps, args.warmup, args.new_tokens = 4, 16, 3, 1, 8
    name = device_name()
    peak = args.peak_tflops or next((p for k, p in KNOWN_PEAKS.items() if k in name), None)
    if peak is None:
        peak = measured_peak(256 if args.smoke else 4096)
        peak_source = "measured: one bfloat16 matrix product"
    else:
        peak_source = "given" if args.peak_tflops else f"the {name}'s dense bfloat16 peak"
    print(f"backend {BACKEND}, device {name}, keras {keras.__version__}")
    preset = "tiny" if args.smoke else args.preset
    print(f"model: {preset} ({config.num_layers}+{config.num_layers} layers, hidden "
          f"{config.hidden_dim}), vocabulary {config.vocabulary_size}; batch {args.batch} x "
          f"{args.length} tokens per side; peak {peak:.3g} TFLOP/s ({peak_source})")  # fmt: skip
    bandwidth = args.bandwidth or next((b for k, b in KNOWN_BANDWIDTHS.items() if k in name), None)
    costs = []
    results = {"backend": BACKEND, "device": name, "peak_tflops": peak, "training": [],
               "generation": []}  # fmt: skip
    modes = [jit for jit, skip in ((True, args.no_jit_on), (False, args.no_jit_off)) if not skip]
    # PyTorch: the generation loop runs eagerly (compile_search does not compile there).
    generation_modes = [False] if BACKEND == "torch" else modes
    print("\n| precision | compiled | batch | ms/step | tokens/s | TFLOP/s | MFU |")
    print("|---|---|---|---|---|---|---|")
    runs = [(p, jit, args.batch) for p in ("mixed_bfloat16", "float32") for jit in modes]
    runs += [(p, True, b) for b in args.more_batches for p in ("mixed_bfloat16", "float32")
             if not args.no_jit_on]  # fmt: skip
    for precision, jit, batch in [] if args.skip_training else runs:
        steps, warmup = (args.steps, args.warmup) if jit else (3, 2)
        seconds, flops, cost = training_step(config, batch, args.length, precision, jit, steps,
                                             warmup, args.cost_analysis)  # fmt: skip
        tokens = 2 * batch * args.length / seconds
        tflops = flops / seconds / 1e12
        row = dict(precision=precision, jit=jit, batch=batch, ms_per_step=1000 * seconds,
                   tokens_per_second=tokens, tflops=tflops, mfu=tflops / peak)  # fmt: skip
        results["training"].append(row)
        shown = f"{1000 * seconds:.1f} | {tokens:,.0f} | {tflops:.1f} | {100 * row['mfu']:.1f} %"
        print(f"| {precision} | {'on' if jit else 'off'} | {batch} | {shown} |", flush=True)
        if cost is not None:
            row.update(xla_flops=cost[0], xla_bytes=cost[1])
            note = f"XLA: {cost[0] / 1e12:.3g} TFLOP, {cost[1] / 1e9:.3g} GB accessed per step"
            if bandwidth:
                row["memory_bound_ms"] = cost[1] / (bandwidth * 1e12) * 1000
                note += f", {row['memory_bound_ms']:.3g} ms at {bandwidth:g} TB/s"
            costs.append(f"{precision}, batch {batch}: {note}")
    for line in costs:
        print(line)
    print(f"\ncached greedy generation, {args.new_tokens} new tokens, source of {args.length}:")
    print("| precision | compiled | batch | tokens/s |\n|---|---|---|---|")
    for precision in ("mixed_bfloat16", "float32") if not args.skip_generation else ():
        for jit in generation_modes:
            for batch in (1, 64) if not args.smoke else (1, 4):
                rate = generation(config, batch, args.length, args.new_tokens, precision, jit,
                                  3 if jit else 1)  # fmt: skip
                results["generation"].append(
                    dict(precision=precision, jit=jit, batch=batch, tokens_per_second=rate)
                )
                print(f"| {precision} | {'on' if jit else 'off'} | {batch} | {rate:,.0f} |",
                      flush=True)  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
