"""Corpora larger than memory: peak memory, time to the first step and throughput of `train`
as the corpus grows from 100k to 5M pairs (or documents, or labelled examples).

The benchmark generates its corpora (random words of a made-up language, 3-14 per sentence,
Zipf-distributed; never committed) and trains each in a fresh process with the command's
defaults except what must be equal for a fair comparison (the `small` model, a 8k
vocabulary, the batch size). `--task` chooses what is trained:

- `translate` (the default): each sentence and its "translation" (each word respelt, the
  order reversed); batches of 64 pairs or of `--batch-tokens`;
- `lm`: documents of 1-4 sentences, one a line; batches of 32 blocks of the model's 256;
- `classify`: `sentence<TAB>label` lines, the label the sentence's length (4 classes);
  batches of 64 examples.

Above 200k lines (`--stream-above`) a corpus is streamed from its file
(`keras_transformer.data.streaming`; lm and classify: `data.example_streaming`, where their
tasks read with `data.text.load_documents` and `data.labelled.load_labelled`), so the peak
memory should stay flat as the corpus grows. It reports, per corpus and batching:

- peak RSS of the training process, and of the SentencePiece learner it starts (its own
  process; `ru_maxrss` of each);
- seconds from the start of the process to the first training step;
- real (non-padding) target tokens (lm: block tokens; classify: input tokens) per second over
  the steps of the second epoch (the first one includes tracing), counted by replaying the
  seeded pipeline.

    python benchmarks/large_corpus.py                        # 100k, 1M, 5M pairs
    python benchmarks/large_corpus.py --sizes 100000 --steps 10
    python benchmarks/large_corpus.py --task lm              # 100k, 1M, 5M documents
    python benchmarks/large_corpus.py --task classify        # 100k, 1M, 5M examples
    python benchmarks/large_corpus.py --smoke                # checks the script (2k pairs)
    python benchmarks/large_corpus.py --task lm --smoke      # (a tiny model, 2k documents)
    python benchmarks/large_corpus.py --task classify --smoke --stream-above 1000  # streamed
"""

import argparse
import itertools
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

START = time.time()
TASKS = ("translate", "lm", "classify")
# What a line of each task's corpus is.
UNITS = {"translate": "pairs", "lm": "documents", "classify": "examples"}
# Batches of the tasks without --batch-tokens (translate: pairs, lm: blocks, classify:
# examples).
BATCH_SIZES = {"translate": 64, "lm": 32, "classify": 64}
CLASSES = ("short", "medium", "long", "longest")


def generate(path, pairs, seed=0, task="translate"):
    """Writes `pairs` generated lines to `path` (atomically): `source<TAB>target` pairs
    (translate), documents of 1-4 sentences (lm) or `sentence<TAB>label` (classify)."""
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
                if task == "translate":
                    target = " ".join(respelt[i] for i in chunk[::-1])
                    lines.append(f"{source} .\t{target} .\n")
                elif task == "classify":
                    lines.append(f"{source} .\t{CLASSES[(length - 3) // 3]}\n")
                else:
                    lines.append(f"{source} .")
            if task == "lm":  # 1-4 sentences a document
                starts = np.concatenate([[0], np.cumsum(rng.integers(1, 5, n))])
                pieces = itertools.pairwise(starts[starts < n].tolist() + [n])
                lines = [" ".join(lines[a:b]) + "\n" for a, b in pieces][: pairs - done]
            f.writelines(lines)
            done += len(lines)
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


def child(corpus, out, steps, batch_tokens, task="translate", preset="small", stream_above=0):
    import logging

    import numpy as np

    if stream_above:  # stream smaller corpora than the library does
        from keras_transformer.data import corpus as corpora

        corpora.STREAM_ABOVE_LINES = stream_above

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
    common = dict(
        corpus=corpus, out=out, epochs=2, steps_per_epoch=steps, max_vocabulary_size=8000,
        early_stopping_patience=0, selection_metric="loss",
    )  # fmt: skip
    if task == "translate":
        from keras_transformer.models import TransformerConfig

        config = TrainConfig(
            **common, batch_size=None if batch_tokens else BATCH_SIZES[task],
            batch_tokens=batch_tokens, validation_sample=0, average_last=0,
        )  # fmt: skip
        model = TransformerConfig.preset(preset, share_embeddings=True, tie_output_projection=True)
    else:
        from keras_transformer.models import ClassifierConfig, LanguageModelConfig

        config = TrainConfig(task=task, **common, batch_size=BATCH_SIZES[task])
        kind = LanguageModelConfig if task == "lm" else ClassifierConfig
        model = kind.preset(preset)
    meter = FirstStep()
    train(model, config, overwrite=True, callbacks=[meter], verbose=0)
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    children_peak = max(learner, default=0.0)
    # Replay the seeded pipeline to count the real target tokens of the second epoch.
    run = Run.open(out)
    tokens = [int(np.count_nonzero(t)) for t in _real_tokens(run, task).take(2 * steps)]
    second = meter.step_seconds[steps : 2 * steps]
    print(json.dumps({
        "peak_gib": round(self_peak, 2),
        "learner_peak_gib": round(children_peak, 2),
        "first_step_s": round(meter.first_step, 1),
        "tokens_per_s": round(sum(tokens[steps:]) / sum(second)),
        "tokens_per_batch": round(float(np.mean(tokens[steps:]))),
    }))  # fmt: skip


def _real_tokens(run, task):
    """The replayed training batches' real tokens (a dataset, repeated): translation's
    target labels, the language model's block labels, the classifier's input tokens (0 is
    padding in each)."""
    model_config, train_config, splits = run.model_config, run.train_config, run.splits
    length = model_config.sequence_length
    if task == "translate":
        from keras_transformer.data.pipeline import make_dataset

        dataset = make_dataset(
            splits.train, run.source_tokenizer, run.target_tokenizer, length,
            train_config.batch_size, seed=train_config.seed,
            batch_tokens=train_config.batch_tokens,
        )  # fmt: skip
        return dataset.map(lambda inputs, labels: labels).repeat()
    if task == "lm":
        from keras_transformer.data.text import make_block_dataset

        block = train_config.block_size or length
        dataset = make_block_dataset(splits.train, run.tokenizer, block,
                                     train_config.batch_size, seed=train_config.seed)  # fmt: skip
        return dataset.map(lambda inputs, labels: labels).repeat()
    from keras_transformer.data.labelled import make_classification_dataset

    dataset = make_classification_dataset(
        splits.train, run.tokenizer, run.labels, length, train_config.batch_size,
        seed=train_config.seed,
    )  # fmt: skip
    return dataset.map(lambda inputs, class_ids: inputs).repeat()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--task", choices=TASKS, default="translate",
        help="what is trained (and generated): pairs, documents or examples",
    )  # fmt: skip
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--steps", type=int, default=30, help="steps per epoch (2 epochs)")
    parser.add_argument(
        "--batch-tokens", type=int, default=1200,
        help="translate: also run token-based batching with this many tokens (0: not)",
    )  # fmt: skip
    parser.add_argument(
        "--stream-above", type=int, default=0,
        help="stream corpora of more lines than this (0: the library's 200k)",
    )  # fmt: skip
    parser.add_argument("--dir", default="/tmp/keras_transformer_large_corpus")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, corpus, out, steps, tokens, preset, stream_above = args.child
        child(corpus, out, int(steps), int(tokens) or None, task, preset, int(stream_above))
        return
    task, unit = args.task, UNITS[args.task]
    # The smoke run trains the tiny model: it checks the script quickly.
    preset = "tiny" if args.smoke else "small"
    if args.smoke:
        args.sizes, args.steps = [2000], 3
    directory = pathlib.Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        corpus = directory / f"{unit}-{size}.{'txt' if task == 'lm' else 'tsv'}"
        if not corpus.exists():
            started = time.time()
            generate(corpus, size, task=task)
            print(f"generated {corpus} in {time.time() - started:.0f} s", file=sys.stderr)
        batchings = [0, args.batch_tokens] if args.batch_tokens and task == "translate" else [0]
        for tokens in batchings[-1:] if args.smoke else batchings:  # smoke: one training
            out = directory / f"run-{task}-{size}-{tokens}"
            command = [sys.executable, __file__, "--child", task, str(corpus), str(out),
                       str(args.steps), str(tokens), preset, str(args.stream_above)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
            if done.returncode != 0:
                sys.exit(f"{unit}={size}: the training process failed:\n{done.stderr[-3000:]}")
            log = [line for line in done.stderr.splitlines() if " GiB  " in line]
            print("\n".join(log[-25:]), file=sys.stderr)
            batching = f"{tokens} tokens" if tokens else f"{BATCH_SIZES[task]} {_batched(task)}"
            row = {"task": task, unit: size, "batching": batching}
            row.update(json.loads(done.stdout.strip().splitlines()[-1]))
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n| {unit} | batching | peak RSS (GiB) | learner peak (GiB) | first step (s) | "
          "real tokens/s | tokens/batch |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cells = (f"{r[unit]:,}", r["batching"], r["peak_gib"], r["learner_peak_gib"],
                 r["first_step_s"], f"{r['tokens_per_s']:,}", r["tokens_per_batch"])  # fmt: skip
        print("| " + " | ".join(map(str, cells)) + " |")


def _batched(task):
    """What a batch of `task` is made of."""
    return {"translate": "pairs", "lm": "blocks", "classify": "examples"}[task]


if __name__ == "__main__":
    main()
