"""A tour of the keras_transformer layers: masks, an encoder-decoder built with the functional
API, a short training run, cached decoding, and `.keras` save and reload.

Run it with `make demo` or `python examples/layers_tour.py`. It is quick by default (about a
minute on 2 CPU cores); `--epochs 20` trains to near-perfect accuracy.

The task is a toy one so that nothing needs downloading: reverse a sequence of digits.
"""

## Setup

import argparse
import pathlib
import time

import keras
import numpy as np

import keras_transformer as kt

PAD, START, END, FIRST_DIGIT = 0, 1, 2, 3
VOCABULARY_SIZE = FIRST_DIGIT + 10
MAX_DIGITS = 8
SEQUENCE_LENGTH = MAX_DIGITS + 2  # [START] digits [END]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/layers_tour", help="where the model is saved")
    parser.add_argument("--epochs", type=int, default=6, help="full size: 20")
    parser.add_argument("--examples", type=int, default=6000, help="training examples")
    parser.add_argument("--smoke", action="store_true",
                        help="1 epoch on 128 examples, 64 held out")  # fmt: skip
    args = parser.parse_args(argv)
    args.held_out = 500
    if args.smoke:
        args.epochs, args.examples, args.held_out = 1, 128, 64
    return args


## Masks, made visible
#
# A mask uses 1 for "keep". The padding mask hides padding tokens (id 0) from attention; the
# look-ahead mask stops a decoder position from seeing later positions.


def show_masks():
    tokens = np.array([[5, 7, 4, 0, 0], [9, 3, 0, 0, 0]])
    print("token ids:\n", tokens)
    print("padding mask (batch, 1, length):\n", np.asarray(kt.create_padding_mask(tokens)))
    print("look-ahead mask (1, length, length):\n", np.asarray(kt.create_look_ahead_mask(5)))
    pe = np.asarray(kt.positional_encoding(SEQUENCE_LENGTH, 8))
    print("positional encoding of position 1, first 4 dims:", np.round(pe[0, 1, :4], 3))


## Data: reverse the digits


def make_data(count, seed):
    rng = np.random.default_rng(seed)
    source = np.zeros((count, MAX_DIGITS), "int32")
    target = np.zeros((count, SEQUENCE_LENGTH), "int32")
    for row in range(count):
        digits = rng.integers(FIRST_DIGIT, VOCABULARY_SIZE, size=rng.integers(1, MAX_DIGITS + 1))
        source[row, : len(digits)] = digits
        target[row, : len(digits) + 2] = [START, *digits[::-1], END]
    # Teacher forcing: the decoder reads the target shifted right and predicts the next token.
    return (source, target[:, :-1]), target[:, 1:]


## The model: the four layers and the functional API
#
# Token ids in (0 = padding), logits out. Masks flow implicitly from `PositionalEmbedding`
# through every block; the loss then ignores padded target positions.


def build_model(hidden_dim=32, num_heads=4, intermediate_dim=64, num_layers=2):
    encoder_inputs = keras.Input(shape=(None,), dtype="int32", name="encoder_inputs")
    decoder_inputs = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
    x = kt.PositionalEmbedding(VOCABULARY_SIZE, SEQUENCE_LENGTH, hidden_dim)(encoder_inputs)
    for _ in range(num_layers):
        x = kt.EncoderBlock(num_heads, intermediate_dim, dropout=0.0)(x)
    y = kt.PositionalEmbedding(VOCABULARY_SIZE, SEQUENCE_LENGTH, hidden_dim)(decoder_inputs)
    for _ in range(num_layers):
        y = kt.DecoderBlock(num_heads, intermediate_dim, dropout=0.0)(y, x)
    logits = keras.layers.Dense(VOCABULARY_SIZE, name="logits")(y)
    return keras.Model([encoder_inputs, decoder_inputs], logits, name="reverser")


## Masks at work
#
# Appending padding must not change the logits at real positions, and changing a later target
# token must not change earlier logits.


def check_masks(model, inputs):
    (source, target), _ = inputs
    source, target = source[:4], target[:4]
    logits = np.asarray(model([source, target]))
    padded = np.asarray(model([np.pad(source, ((0, 0), (0, 3))), target]))
    print(f"max change from appending source padding: {np.abs(padded - logits).max():.2e}")
    changed = target.copy()
    changed[:, 3] = FIRST_DIGIT
    later = np.asarray(model([source, changed]))
    print(f"max change before a changed target token: {np.abs(later - logits)[:, :3].max():.2e}")


## Cached greedy decoding
#
# Encode once, project the encoder outputs once per decoder block, then feed one token at a
# time with a key/value cache, so each step costs the same however long the output grows.


def greedy_decode(model, source):
    layers = {type(layer).__name__: [] for layer in model.layers}
    for layer in model.layers:
        layers[type(layer).__name__].append(layer)
    source_embedding, target_embedding = layers["PositionalEmbedding"]
    x = source_embedding(source)
    for block in layers["EncoderBlock"]:
        x = block(x)
    source_mask = source != PAD
    blocks = layers["DecoderBlock"]
    cross_caches = [block.compute_cross_attention_cache(x) for block in blocks]
    caches = [block.initial_self_attention_cache(len(source), SEQUENCE_LENGTH) for block in blocks]
    tokens = np.full((len(source), 1), START, "int32")
    for index in range(SEQUENCE_LENGTH - 1):
        y = target_embedding(tokens[:, -1:], start_index=index)
        for i, block in enumerate(blocks):
            y, caches[i] = block(
                y,
                encoder_padding_mask=source_mask,
                cross_attention_cache=cross_caches[i],
                self_attention_cache=caches[i],
                self_attention_cache_update_index=index,
            )
        next_token = np.argmax(np.asarray(model.get_layer("logits")(y))[:, -1], axis=-1)
        tokens = np.concatenate([tokens, next_token[:, None].astype("int32")], axis=1)
        if np.all(np.any(tokens == END, axis=1)):
            break
    return tokens


def digits(row):
    """The digits of a token row, up to its [END]."""
    row = list(row)
    row = row[: row.index(END)] if END in row else row
    return " ".join(str(t - FIRST_DIGIT) for t in row if t >= FIRST_DIGIT)


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(0)
    show_masks()

    ## Train
    train, validation = make_data(args.examples, seed=0), make_data(args.held_out, seed=1)
    model = build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.summary(print_fn=lambda line, **_: None)  # build; the count is printed below
    print(f"model: {model.count_params():,} parameters")
    check_masks(model, validation)
    started = time.perf_counter()
    model.fit(*train, validation_data=validation, epochs=args.epochs, batch_size=64, verbose=2)
    print(f"trained {args.epochs} epochs in {time.perf_counter() - started:.0f} s")

    ## Decode a few sentences with the cache
    (source, _), _ = validation
    decoded = greedy_decode(model, source[:5])
    for row, out in zip(source[:5], decoded, strict=True):
        print(f"{digits(row):>16}  ->  {digits(out)}")
    (all_sources, _), labels = validation
    predictions = greedy_decode(model, all_sources)
    exact = np.mean(
        [digits(p) == digits(label) for p, label in zip(predictions, labels, strict=True)]
    )
    print(f"exact match on {len(labels)} held-out sequences: {exact:.1%}")

    ## Save and reload
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "reverser.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    (source, target), _ = validation
    same = np.array_equal(
        np.asarray(restored([source, target])), np.asarray(model([source, target]))
    )
    print(f"saved {path}; reloaded model gives identical logits: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
