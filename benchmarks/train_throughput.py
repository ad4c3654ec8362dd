"""Training step time: our Transformer vs the same encoder-decoder built from KerasHub's layers.

Same sizes, same synthetic data, same compile (loss, metric, optimizer, XLA or not),
`model.fit`, alternated in one run. Step times come from a callback (median after warm-up),
not from whole `fit` calls. KerasHub's layers drop attention weights out at the residual
rate (they have no separate setting), so by default ours do too (`--attention-dropout
match`); `--attention-dropout preset` keeps our presets' 0 (the paper's). Needs the
benchmark extra: `pip install -e '.[bench]'` (keras-hub).

    python benchmarks/train_throughput.py --preset tutorial
    python benchmarks/train_throughput.py --preset tutorial --precision mixed_bfloat16
    python benchmarks/train_throughput.py --preset tutorial --jit-compile
    # ours in mixed bfloat16 against KerasHub's layers in float32 (the "best CPU setting" goal)
    python benchmarks/train_throughput.py --precision mixed_bfloat16 --keras-hub-precision float32
"""

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from step_timer import StepTimer  # benchmarks/step_timer.py

import keras_transformer as kt
from keras_transformer.training import TrainConfig, compile_model


def matmul_peak(dtype, size=2048, repeats=10):
    """Measured GFLOP/s of a square matmul (the machine's practical peak)."""
    a = tf.random.normal((size, size), dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    matmul(a).numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        result = matmul(a)
    result.numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


def forward_flops(config, batch, length):
    """Matmul FLOPs of one forward pass (attention included, softmax etc. not)."""
    d, ff, n = config.hidden_dim, config.intermediate_dim, config.num_layers
    v = config.target_vocabulary
    encoder = n * (2 * (4 * d * d + 2 * d * ff) + 4 * length * d)
    decoder = n * (2 * (8 * d * d + 2 * d * ff) + 8 * length * d)
    return batch * length * (encoder + decoder + 2 * d * v)


def keras_hub_model(config):
    import keras_hub

    layers = keras_hub.layers
    source = keras.Input((None,), dtype="int32", name="encoder_inputs")
    target = keras.Input((None,), dtype="int32", name="decoder_inputs")
    arguments = dict(
        intermediate_dim=config.intermediate_dim, num_heads=config.num_heads,
        dropout=config.dropout, layer_norm_epsilon=config.layer_norm_epsilon,
    )  # fmt: skip
    x = layers.TokenAndPositionEmbedding(
        config.vocabulary_size, config.sequence_length, config.hidden_dim, mask_zero=True
    )(source)
    for _ in range(config.num_layers):
        x = layers.TransformerEncoder(**arguments)(x)
    y = layers.TokenAndPositionEmbedding(
        config.target_vocabulary, config.sequence_length, config.hidden_dim, mask_zero=True
    )(target)
    for _ in range(config.num_layers):
        y = layers.TransformerDecoder(**arguments)(y, x)
    logits = keras.layers.Dense(config.target_vocabulary, dtype="float32")(y)
    return keras.Model({"encoder_inputs": source, "decoder_inputs": target}, logits)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tutorial")
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16"])
    parser.add_argument(
        "--keras-hub-precision", choices=["float32", "mixed_bfloat16"],
        help="precision of the KerasHub model (default: --precision)",
    )  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jit-compile", action="store_true", help="XLA, for both models")
    parser.add_argument("--attention-dropout", default="match", choices=["match", "preset"])
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the script")
    args = parser.parse_args()
    if args.smoke:
        args.preset, args.steps, args.warmup, args.rounds, args.length = "tiny", 2, 1, 1, 16

    hub_precision = args.keras_hub_precision or args.precision
    # Untied output projection and separate embeddings, as in the KerasHub model.
    config = kt.TransformerConfig.preset(
        args.preset, vocabulary_size=args.vocabulary_size, sequence_length=max(args.length, 64),
        share_embeddings=False, tie_output_projection=False,
    )  # fmt: skip
    if args.attention_dropout == "match":
        config = config.replace(attention_dropout=config.dropout)
    rng = np.random.default_rng(0)
    shape = (args.batch_size, args.length)
    inputs = {
        "encoder_inputs": rng.integers(1, args.vocabulary_size, shape).astype("int32"),
        "decoder_inputs": rng.integers(1, args.vocabulary_size, shape).astype("int32"),
    }
    labels = rng.integers(1, args.vocabulary_size, shape).astype("int32")
    data = tf.data.Dataset.from_tensors((inputs, labels)).repeat()

    # Both compiled alike (loss, metric, optimizer, schedule): only the layers differ.
    recipe = TrainConfig(warmup_steps=4000, jit_compile=args.jit_compile)
    models = {}
    keras.config.set_dtype_policy(args.precision)
    models["keras_transformer"] = compile_model(kt.build_transformer(config), config, recipe)
    keras.config.set_dtype_policy(hub_precision)
    models["KerasHub layers"] = compile_model(keras_hub_model(config), config, recipe)
    times = {name: [] for name in models}
    for _ in range(args.rounds):  # alternate, so drifts in machine speed hit both
        for name, model in models.items():
            timer = StepTimer()
            model.fit(data, epochs=1, steps_per_epoch=args.warmup + args.steps,
                      callbacks=[timer], verbose=0)  # fmt: skip
            times[name] += timer.times[args.warmup :]

    flops = 3 * forward_flops(config, args.batch_size, args.length)
    peaks = {p: matmul_peak(tf.float32 if p == "float32" else tf.bfloat16)
             for p in {args.precision, hub_precision}}  # fmt: skip
    tokens = args.batch_size * args.length
    precisions = {"keras_transformer": args.precision, "KerasHub layers": hub_precision}
    print(
        f"{args.preset} preset, {args.precision} (KerasHub: {hub_precision}), "
        f"XLA {'on' if args.jit_compile else 'off'}, "
        f"attention dropout {config.attention_dropout}, batch {args.batch_size} x length "
        f"{args.length}, vocabulary {args.vocabulary_size}; assumed {flops / 1e9:.1f} GFLOP "
        f"per step (3x the forward matmuls); measured matmul peak "
        + ", ".join(f"{p} {peak:.0f} GFLOP/s" for p, peak in peaks.items())
    )
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        share = 100 * flops / median / 1e9 / peaks[precisions[name]]
        print(f"{name:<18} {1000 * median:8.1f} ms/step {tokens / median:10.0f} target tokens/s "
              f"{share:5.1f}% of the {precisions[name]} peak")  # fmt: skip
    ratio = medians["KerasHub layers"] / medians["keras_transformer"]
    print(f"keras_transformer is {ratio:.2f}x the speed of the KerasHub layers")


if __name__ == "__main__":
    main()
