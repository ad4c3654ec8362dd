"""Peak resident memory of training: each preset trains a few steps on the dates corpus in a
fresh process, which reports its own peak resident set size (`ru_maxrss`).

    python benchmarks/memory.py                          # tiny, tutorial, base
    python benchmarks/memory.py --presets base --mixed-precision
    python benchmarks/memory.py --smoke                  # checks the script
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile


def child(preset, steps, batch_size, mixed_precision, train_size, smoke=False):
    import keras_transformer as kt
    from keras_transformer.training import TrainConfig, train

    # The smoke run validates and decodes a few pairs (the defaults: 1000, 500), one layer.
    sizes = dict(validation_size=32, test_size=16, validation_sample=8) if smoke else {}
    layers = dict(num_layers=1) if smoke else {}
    with tempfile.TemporaryDirectory() as out:
        train_config = TrainConfig(
            corpus="dates", out=out, epochs=1, steps_per_epoch=steps, batch_size=batch_size,
            mixed_precision=mixed_precision, train_size=train_size, **sizes,
        )  # fmt: skip
        train(kt.TransformerConfig.preset(preset, **layers), train_config, verbose=0)
    # Linux reports kilobytes.
    print(json.dumps({"peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "tutorial", "base"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--train-size", type=int, default=20000, help="pairs generated")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.presets, args.steps, args.batch_size, args.train_size = ["tiny"], 2, 8, 200
    if args.child:
        child(args.child, args.steps, args.batch_size, args.mixed_precision, args.train_size,
              args.smoke)  # fmt: skip
        return
    precision = "mixed bfloat16" if args.mixed_precision else "float32"
    print(f"{args.steps} training steps, batch {args.batch_size}, dates corpus, {precision}")
    for preset in args.presets:
        command = [sys.executable, __file__, "--child", preset]
        for flag in ("steps", "batch_size", "train_size"):
            command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        if args.mixed_precision:
            command.append("--mixed-precision")
        if args.smoke:
            command.append("--smoke")
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"training the {preset} preset failed:\n{result.stderr[-3000:]}")
        peak = json.loads(result.stdout.strip().splitlines()[-1])["peak_gib"]
        print(f"{preset:<10} peak resident memory {peak:.2f} GiB")


if __name__ == "__main__":
    main()
