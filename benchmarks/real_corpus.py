"""Our default training command against the keras.io KerasHub recipe, at equal CPU-seconds.

Both systems train on the same split of a real corpus (`split_pairs(pairs, 0.05, 0.05,
seed=0)`, what `keras-transformer train --corpus FILE` does), each in its own process with the
same CPU-second budget, then translate the distinct test sources; the translations are scored
against all the references of each source (multi-reference sacreBLEU and chrF).

- ours: `keras-transformer train --corpus FILE --out RUN --time-budget MIN --budget-clock cpu`,
  then `keras-transformer translate RUN` (default decoding) with the sources on stdin;
- keras_hub: `benchmarks/keras_hub_recipe.py` (the keras.io recipe, greedy decoding).

forward is the corpus as it is (English → Japanese for eng-jpn.tsv), reverse a swapped copy
written to the output directory. BLEU uses sacreBLEU's `char` tokenization when the targets
are written without spaces (Japanese), `13a` otherwise; chrF has its default settings. The
loop rate is the share of hypotheses with a whitespace word three times in a row or a
character five times in a row.

    python benchmarks/real_corpus.py --corpus /work/shared/corpora/eng-jpn.tsv \\
        --cpu-seconds 1300 --out benchmarks/results/real_corpus
    python benchmarks/real_corpus.py --corpus /work/shared/corpora/eng-jpn.tsv --smoke \\
        --systems keras_hub --out /tmp/real_corpus_smoke

Writes `results.json`, `curve_<direction>.png` and, per direction and system, the run
directory, hypotheses and logs; prints a markdown table.
"""

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from keras_transformer.evaluation.scores import (
    choose_bleu_tokenize,
    corpus_scores,
    group_references,
)

REPOSITORY = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SYSTEMS = ("ours", "keras_hub")
SMOKE_PAIRS = 300
SMOKE_CPU_SECONDS = 20
SAMPLES = 5


def run_child(command, log_path, stdin_text=None):
    """Runs `command`, logging its output; returns (its stdout, its CPU-seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("$", " ".join(str(c) for c in command), flush=True)
    with open(log_path, "w", encoding="utf-8") as log:
        result = subprocess.run(
            [str(c) for c in command],
            input=stdin_text,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            encoding="utf-8",
            cwd=REPOSITORY,
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} exited with {result.returncode}; see {log_path}")
    return result.stdout, cpu


def run_ours(corpus, sources, cpu_seconds, directory):
    """Trains and translates with our CLI; returns (hypotheses, info, curve)."""
    run_dir = directory / "run"
    cli = BIN / "keras-transformer"
    command = [cli, "train", "--corpus", corpus, "--out", run_dir,
               "--time-budget", f"{cpu_seconds / 60:g}", "--budget-clock", "cpu"]  # fmt: skip
    shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run, never a resumed one
    _, train_cpu = run_child(command, directory / "train.log")
    output, translate_cpu = run_child(
        [cli, "translate", run_dir],
        directory / "translate.log",
        stdin_text="".join(s + "\n" for s in sources),
    )
    hypotheses = output.split("\n")[: len(sources)]
    if len(hypotheses) != len(sources):
        raise RuntimeError(f"{len(hypotheses)} translations for {len(sources)} sources")
    curve = our_curve(run_dir / "history.json")
    info = {
        # the budget's own clock at the last epoch when recorded, else the whole process
        "train_cpu_seconds": curve[-1]["cpu_seconds"] if curve else train_cpu,
        "train_process_cpu_seconds": train_cpu,
        "translate_cpu_seconds": translate_cpu,
    }
    return hypotheses, info, curve


def our_curve(history_path):
    """(cpu_seconds, val_bleu) per epoch from our `history.json`; empty if not recorded."""
    if not history_path.exists():
        return []
    epochs = json.loads(history_path.read_text())
    return [
        {"cpu_seconds": e["cpu_seconds"], "bleu": e["val_bleu"], "epoch": e["epoch"]}
        for e in epochs
        if "cpu_seconds" in e and "val_bleu" in e
    ]


def run_keras_hub(corpus, sources, cpu_seconds, log_every, bleu_tokenize, directory):
    """Trains and translates with the recipe in a child process; (hypotheses, info, curve)."""
    sources_path = directory / "test_sources.txt"
    sources_path.write_text("".join(s + "\n" for s in sources), encoding="utf-8")
    command = [sys.executable, Path(__file__).with_name("keras_hub_recipe.py"),
               "--corpus", corpus, "--test-sources", sources_path,
               "--cpu-seconds", cpu_seconds, "--log-every", log_every,
               "--bleu-tokenize", bleu_tokenize, "--out", directory]  # fmt: skip
    _, process_cpu = run_child(command, directory / "train.log")
    info = json.loads((directory / "info.json").read_text())
    info["process_cpu_seconds"] = process_cpu
    hypotheses = (directory / "hypotheses.txt").read_text(encoding="utf-8").split("\n")
    curve = json.loads((directory / "curve.json").read_text())
    return hypotheses[: len(sources)], info, curve


def write_corpus(pairs, path):
    path.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")


def plot_curves(curves, direction, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for system, curve in curves.items():
        if curve:
            x = [point["cpu_seconds"] for point in curve]
            axes.plot(x, [point["bleu"] for point in curve], marker="o", label=system)
    axes.set_xlabel("training CPU-seconds")
    axes.set_ylabel("validation BLEU")
    axes.set_title(f"{direction}: validation BLEU against CPU-seconds")
    axes.grid(alpha=0.3)
    if any(curves.values()):
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def markdown_table(results):
    lines = [
        "| direction | system | budgeted CPU-s | process CPU-s | BLEU | chrF | loop rate |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for direction, systems in results["directions"].items():
        for system, r in systems.items():
            lines.append(
                f"| {direction} | {system} | {r['cpu_seconds']:.0f} "
                f"| {r['train_process_cpu_seconds']:.0f} | {r['bleu']:.2f} "
                f"| {r['chrf']:.2f} | {100 * r['loop_rate']:.1f} % |"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="a source<TAB>target TSV file")
    parser.add_argument("--cpu-seconds", type=float, default=1300, help="budget per system")
    parser.add_argument("--direction", choices=["both", "forward", "reverse"], default="both")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="ours,keras_hub")
    parser.add_argument("--log-every", type=float, help="recipe curve period (CPU-seconds)")
    parser.add_argument("--out", required=True, help="the output directory")
    smoke_help = f"{SMOKE_PAIRS} pairs, {SMOKE_CPU_SECONDS} CPU-s per system"
    parser.add_argument("--smoke", action="store_true", help=smoke_help)
    args = parser.parse_args()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if unknown := set(systems) - set(SYSTEMS):
        parser.error(f"unknown systems {sorted(unknown)}; choose from {SYSTEMS}")

    from keras_transformer.data.tsv import read_tsv, split_pairs

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    pairs = read_tsv(args.corpus).pairs
    if args.smoke:
        pairs = random.Random(0).sample(pairs, min(SMOKE_PAIRS, len(pairs)))
        args.cpu_seconds = SMOKE_CPU_SECONDS
    log_every = args.log_every or args.cpu_seconds / 5
    directions = ["forward", "reverse"] if args.direction == "both" else [args.direction]

    results = {
        "corpus": str(Path(args.corpus).resolve()),
        "cpu_seconds_budget": args.cpu_seconds,
        "smoke": args.smoke,
        "command": " ".join(sys.argv),
        "directions": {},
    }
    for direction in directions:
        directory = out / direction
        directory.mkdir(exist_ok=True)
        oriented = pairs if direction == "forward" else [(t, s) for s, t in pairs]
        if direction == "forward" and not args.smoke:
            corpus = Path(args.corpus).resolve()
        else:
            corpus = directory / "corpus.tsv"
            write_corpus(oriented, corpus)
        _, _, test = split_pairs(read_tsv(corpus).pairs, 0.05, 0.05, seed=0)
        sources, references = group_references(test)
        tokenize = choose_bleu_tokenize([t for _, t in test])
        print(
            f"{direction}: {len(test)} test pairs, {len(sources)} distinct sources, "
            f"BLEU tokenize {tokenize}",
            flush=True,
        )

        curves, scored = {}, {}
        for system in systems:
            system_dir = directory / system
            system_dir.mkdir(exist_ok=True)
            started = time.perf_counter()
            if system == "ours":
                hypotheses, info, curve = run_ours(corpus, sources, args.cpu_seconds, system_dir)
            else:
                hypotheses, info, curve = run_keras_hub(
                    corpus, sources, args.cpu_seconds, log_every, tokenize, system_dir
                )
            (system_dir / "test_hypotheses.txt").write_text(
                "".join(h + "\n" for h in hypotheses), encoding="utf-8"
            )
            curves[system] = curve
            samples = random.Random(1).sample(range(len(sources)), min(SAMPLES, len(sources)))
            scored[system] = {
                "cpu_seconds": info["train_cpu_seconds"],
                "train_process_cpu_seconds": info["train_process_cpu_seconds"],
                **corpus_scores(hypotheses, references, tokenize),
                "bleu_tokenize": tokenize,
                "test_sources": len(sources),
                "wall_seconds": time.perf_counter() - started,
                "info": info,
                "curve": curve,
                "samples": [
                    {"source": sources[i], "references": references[i], "hypothesis": hypotheses[i]}
                    for i in samples
                ],
            }
            summary = {k: scored[system][k] for k in ("cpu_seconds", "bleu", "chrf", "loop_rate")}
            print(json.dumps({direction: {system: summary}}), flush=True)
        results["directions"][direction] = scored
        plot_curves(curves, direction, out / f"curve_{direction}.png")
        (out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))

    print(markdown_table(results))


if __name__ == "__main__":
    main()
