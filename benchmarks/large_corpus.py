"""Corpora larger than memory: peak memory, time to the first step and throughput of `train`
as the corpus grows from 100k to 5M pairs.

The benchmark generates its corpora (random words of a made-up language, 3-14 per sentence,
Zipf-distributed, and their "translation": each word respelt, the order reversed; never
committed) and trains each in a fresh process with the command's defaults except what must be
equal for a fair comparison (the `small` model, a 8k vocabulary, batches of 64 pairs or of
`--batch-tokens`). It reports, per corpus and batching:

- peak RSS of the training process, and of the SentencePiece learner it starts (its own
  process; `ru_maxrss` of each);
- seconds from the start of the process to the first training step;
- real (non-padding) target tokens per second over the steps of the second epoch (the first
  one includes tracing), counted by replaying the seeded pipeline.

    python benchmarks/large_corpus.py                        # 100k, 1M, 5M pairs
    python benchmarks/large_corpus.py --sizes 100000 --steps 10
    python benchmarks/large_corpus.py --smoke                # checks the script (2k pairs)
"""

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

START = time.time()


def generate(path, pairs, seed=0):
    """Writes `pairs` generated `source<TAB>target` lines to `path` (atomically)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    syllables = ["ka", "to", "mi", "re", "su", "no", "la", "pe", "di", "gu",
                 "ro", "ve", "ni", "sa", "po", "te", "lu", "ma", "ze", "ho"]  # fmt: skip
    words = []
    for i in range(20, 20020):
        word, j = "", i
        while j:
            word, j = syllables[j % 20] + word, j // 20
        words.append(word)
    respelt = [w[::-1].capitalize() for w in words]
    p = 1.0 / np.arange(1, len(words) + 1)
    p /= p.sum()
    temporary = pathlib.Path(str(path) + ".tmp")
    with open(temporary, "w", encoding="utf-8") as f:
        done = 0
        while done < pairs:
            n = min(100_000, pairs - done)
            lengths = rng.integers(3, 15, n)
            ids = rng.choice(len(words), size=int(lengths.sum()), p=p)
            ends = np.cumsum(lengths)
            lines = []
            for end, length in zip(ends, lengths, strict=True):
                chunk = ids[end - length : end]
                source = " ".join(words[i] for i in chunk)
                target = " ".join(respelt[i] for i in chunk[::-1])
                lines.append(f"{source} .\t{target} .\n")
            f.writelines(lines)
            done += n
    temporary.replace(path)


def _with_rss(record):
    """Adds the process's resident memory now (GiB) to a log record."""
    with open("/proc/self/statm") as statm:
        record.rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30
    return True


class _Capture:
    """A logging handler that keeps the learner's peak memory (GiB) from its debug line."""

    def __new__(cls, into):
        import logging
        import re

        class Handler(logging.Handler):
            def emit(self, record):
                found = re.search(r"learner's peak memory: ([0-9.]+) GiB", record.getMessage())
                if found:
                    into.append(float(found.group(1)))

        return Handler()


class FirstStep:
    """Keras callback: when the first training step starts, and each step's duration."""

    def __new__(cls):
        import keras

        class _FirstStep(keras.callbacks.Callback):
            first_step = None

            def __init__(self):
                super().__init__()
                self.step_seconds = []

            def on_train_batch_begin(self, batch, logs=None):
                if self.first_step is None:
                    self.first_step = time.time() - START
                self.began = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                self.step_seconds.append(time.perf_counter() - self.began)

        return _FirstStep()


def child(corpus, out, steps, batch_tokens):
    import logging

    import numpy as np

    from keras_transformer.data.pipeline import make_dataset
    from keras_transformer.models import TransformerConfig
    from keras_transformer.run import Run
    from keras_transformer.training import TrainConfig, train

    logging.basicConfig(
        level=logging.WARNING, format="%(relativeCreated)7.0f ms %(rss)5.2f GiB  %(message)s"
    )
    logging.getLogger().handlers[0].addFilter(_with_rss)
    logger = logging.getLogger("keras_transformer")
    logger.setLevel(logging.DEBUG)
    learner = []
    logger.addHandler(_Capture(learner))
    config = TrainConfig(
        corpus=corpus, out=out, epochs=2, steps_per_epoch=steps, max_vocabulary_size=8000,
        batch_size=None if batch_tokens else 64, batch_tokens=batch_tokens,
        validation_sample=0, average_last=0, early_stopping_patience=0, selection_metric="loss",
    )  # fmt: skip
    small = TransformerConfig.preset("small", share_embeddings=True, tie_output_projection=True)
    meter = FirstStep()
    train(small, config, overwrite=True, callbacks=[meter], verbose=0)
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    children_peak = max(learner, default=0.0)
    # Replay the seeded pipeline to count the real target tokens of the second epoch.
    run = Run.open(out)
    model_config, train_config, splits = run.model_config, run.train_config, run.splits
    source, target = run.source_tokenizer, run.target_tokenizer
    dataset = make_dataset(
        splits.train, source, target, model_config.sequence_length, train_config.batch_size,
        seed=train_config.seed, batch_tokens=train_config.batch_tokens,
    ).repeat()  # fmt: skip
    tokens = [int(np.count_nonzero(labels)) for _, labels in dataset.take(2 * steps)]
    second = meter.step_seconds[steps : 2 * steps]
    print(json.dumps({
        "peak_gib": round(self_peak, 2),
        "learner_peak_gib": round(children_peak, 2),
        "first_step_s": round(meter.first_step, 1),
        "tokens_per_s": round(sum(tokens[steps:]) / sum(second)),
        "tokens_per_batch": round(float(np.mean(tokens[steps:]))),
    }))  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--steps", type=int, default=30, help="steps per epoch (2 epochs)")
    parser.add_argument(
        "--batch-tokens", type=int, default=1200,
        help="also run token-based batching with this many tokens (0: not)",
    )  # fmt: skip
    parser.add_argument("--dir", default="/tmp/keras_transformer_large_corpus")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        corpus, out, steps, tokens = args.child
        child(corpus, out, int(steps), int(tokens) or None)
        return
    if args.smoke:
        args.sizes, args.steps = [2000], 3
    directory = pathlib.Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        corpus = directory / f"pairs-{size}.tsv"
        if not corpus.exists():
            started = time.time()
            generate(corpus, size)
            print(f"generated {corpus} in {time.time() - started:.0f} s", file=sys.stderr)
        batchings = [0, args.batch_tokens] if args.batch_tokens else [0]
        for tokens in batchings[-1:] if args.smoke else batchings:  # smoke: one training
            out = directory / f"run-{size}-{tokens}"
            command = [sys.executable, __file__, "--child", str(corpus), str(out),
                       str(args.steps), str(tokens)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
            if done.returncode != 0:
                sys.exit(f"pairs={size}: the training process failed:\n{done.stderr[-3000:]}")
            log = [line for line in done.stderr.splitlines() if " GiB  " in line]
            print("\n".join(log[-25:]), file=sys.stderr)
            row = {"pairs": size, "batching": f"{tokens} tokens" if tokens else "64 pairs"}
            row.update(json.loads(done.stdout.strip().splitlines()[-1]))
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| pairs | batching | peak RSS (GiB) | learner peak (GiB) | first step (s) | "
          "real tokens/s | tokens/batch |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cells = (f"{r['pairs']:,}", r["batching"], r["peak_gib"], r["learner_peak_gib"],
                 r["first_step_s"], f"{r['tokens_per_s']:,}", r["tokens_per_batch"])  # fmt: skip
        print("| " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    main()
