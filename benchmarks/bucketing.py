"""Real-data efficiency: length bucketing vs fixed-length padding on the dates corpus.

Trains the demo's model (tiny preset, the demo's schedule) twice on the built-in dates corpus,
once with `--padding bucketed` (the default) and once with `--padding fixed`, and reports for
each: non-padding tokens (source and target) per second of training steps (median over
epochs; the data are the same, so this is the speed of useful work), the share of computed
positions that are padding, and the wall time (validation included) until validation token
accuracy reaches the target.

    python benchmarks/bucketing.py                 # up to 15 epochs each, target 99 %
    python benchmarks/bucketing.py --mixed-precision
    python benchmarks/bucketing.py --smoke
"""

import argparse
import statistics
import tempfile
import time

import keras

import keras_transformer as kt
from keras_transformer.data.pipeline import make_dataset
from keras_transformer.run import Run
from keras_transformer.training import TrainConfig, train


class EfficiencyMeter(keras.callbacks.Callback):
    """Seconds spent in training steps per epoch, and the wall time at which the validation
    token accuracy first reaches `target` (then stops training)."""

    def __init__(self, target):
        super().__init__()
        self.target = target
        self.step_seconds = []
        self.reached_after = None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.step_seconds.append(0.0)

    def on_train_batch_begin(self, batch, logs=None):
        self.step_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step_seconds[-1] += time.perf_counter() - self.step_started

    def on_epoch_end(self, epoch, logs=None):
        if self.reached_after is None and logs.get("val_masked_accuracy", 0) >= self.target:
            self.reached_after = (time.perf_counter() - self.started, epoch + 1)
            self.model.stop_training = True


def token_counts(run_dir, padding, model_config, batch_size):
    """(real tokens, computed positions), sources and targets, in one epoch of training."""
    run = Run.open(run_dir)
    source, target, splits = run.source_tokenizer, run.target_tokenizer, run.splits
    dataset = make_dataset(
        splits.train, source, target, model_config.sequence_length, batch_size, padding=padding
    )
    real = positions = 0
    for inputs, labels in dataset:
        for ids in (inputs["encoder_inputs"], labels):
            real += int((ids != 0).numpy().sum())
            positions += int(ids.shape[0] * ids.shape[1])
    return real, positions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--epochs", type=int, default=15, help="at most, per padding")
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--mixed-precision", action="store_true", help="mixed bfloat16 on CPU")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    args = parser.parse_args()
    smoke, layers = {}, {}  # smoke: a few validation, test and decoded pairs, one layer
    if args.smoke:
        args.epochs, args.train_size = 1, 300
        smoke = dict(validation_size=32, test_size=16, validation_sample=8)
        layers = dict(num_layers=1)

    model_config = kt.TransformerConfig.preset(args.preset, **layers)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for padding in ("bucketed", "fixed"):
            train_config = TrainConfig(
                corpus="dates", out=f"{scratch}/{padding}", epochs=args.epochs, batch_size=64,
                warmup_steps=1000, train_size=args.train_size, padding=padding,
                mixed_precision=args.mixed_precision, **smoke,
            )  # fmt: skip
            meter = EfficiencyMeter(args.target)
            result = train(model_config, train_config, callbacks=[meter], verbose=0)
            run_config = kt.TransformerConfig.from_json(result.run_dir / "config.json")
            real, positions = token_counts(
                result.run_dir, padding, run_config, train_config.batch_size
            )
            # The first epoch includes tracing; the median is over the epochs after it.
            epoch_seconds = statistics.median(meter.step_seconds[1:] or meter.step_seconds)
            rows.append((padding, real / epoch_seconds, 1 - real / positions, meter, result))

    print(
        f"dates corpus, {args.preset} preset, {args.train_size} training pairs, batch 64, "
        f"{'mixed precision' if args.mixed_precision else 'float32'}, "
        f"target validation token accuracy {100 * args.target:g} %"
    )
    for padding, rate, wasted, meter, result in rows:
        if meter.reached_after:
            seconds, epoch = meter.reached_after
            reached = f"{seconds:6.0f} s (epoch {epoch})"
        else:
            best = 100 * result.metrics.get("val_masked_accuracy", 0)
            reached = f"not in {result.epochs} epochs (last {best:.2f} %)"
        print(
            f"{padding:<9} {rate:9.0f} real tokens/s  {100 * wasted:4.1f} % of positions "
            f"are padding  target reached after {reached}"
        )
    print(f"bucketing is {rows[0][1] / rows[1][1]:.2f}x the useful throughput of fixed padding")


if __name__ == "__main__":
    main()
