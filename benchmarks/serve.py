"""The exported SavedModel next to in-process cached decoding: load time, one-sentence latency
(p50 / p95) and batch-64 throughput, on the test split of a run directory.

    make demo                                  # trains runs/dates
    python benchmarks/serve.py runs/dates
"""

import argparse
import statistics
import tempfile
import time

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401

from keras_transformer.decoding.options import TRANSLATION_DEFAULTS
from keras_transformer.export import export_saved_model
from keras_transformer.predictors import load_predictor
from keras_transformer.run import Run


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000, q))


def measure(translate, sentences, calls, batch):
    # Warm up on every input used below, so that tracing and XLA compilation (once per
    # batch shape) are not timed; the first call's cost is reported separately.
    started = time.perf_counter()
    translate(sentences[:1])
    first_call = time.perf_counter() - started
    for i in range(calls):
        translate(sentences[i % len(sentences) : i % len(sentences) + 1])
    for i in range(5):
        translate(sentences[(i * batch) % len(sentences) :][:batch])
    latencies = []
    for i in range(calls):
        started = time.perf_counter()
        translate(sentences[i % len(sentences) : i % len(sentences) + 1])
        latencies.append(time.perf_counter() - started)
    rounds = []
    for i in range(5):
        chunk = sentences[(i * batch) % len(sentences) :][:batch]
        started = time.perf_counter()
        translate(chunk)
        rounds.append(len(chunk) / (time.perf_counter() - started))
    return (
        first_call,
        percentile(latencies, 50),
        percentile(latencies, 95),
        statistics.median(rounds),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", default="runs/dates")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    args = parser.parse_args()
    if args.smoke:
        args.calls, args.batch_size = 3, 4

    sentences = [s for s, _ in Run.open(args.run_dir).splits.test]
    translator = load_predictor(args.run_dir)
    with tempfile.TemporaryDirectory() as directory:
        export_dir = export_saved_model(args.run_dir, f"{directory}/export")
        started = time.perf_counter()
        exported = tf.saved_model.load(str(export_dir))
        load_seconds = time.perf_counter() - started

        def run_export(texts):
            return exported.translate(tf.constant(texts)).numpy()

        rows = {
            "SavedModel": measure(run_export, sentences, args.calls, args.batch_size),
            "in-process": measure(translator.translate, sentences, args.calls, args.batch_size),
        }
    print(f"run {args.run_dir}: {TRANSLATION_DEFAULTS.describe()} (the export's default), "
          f"{len(sentences)} test sentences")  # fmt: skip
    print(f"SavedModel load time: {load_seconds:.2f} s")
    header = f"batch-{args.batch_size} sent/s"
    print(f"{'':<12} {'first call s':>12} {'p50 ms':>8} {'p95 ms':>8} {header:>18}")
    for name, (first, p50, p95, throughput) in rows.items():
        print(f"{name:<12} {first:>12.2f} {p50:>8.1f} {p95:>8.1f} {throughput:>18.0f}")
    export_p50, inproc_p50 = rows["SavedModel"][1], rows["in-process"][1]
    ratio = rows["in-process"][3] / rows["SavedModel"][3]
    print(
        f"export / in-process: latency {export_p50 / inproc_p50:.2f}x, throughput {1 / ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
