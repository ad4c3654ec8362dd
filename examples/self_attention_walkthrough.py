"""Self-attention, step by step, on a five-word sentence.

The course note explains the Transformer in four steps: why attention instead of RNNs,
self-attention, multi-head attention, the encoder-decoder. This script runs the second and
third: each word A<t> gets a representation from the softmax(q·k / √d_k)-weighted values of
every word of the sentence, all words in parallel; several such heads, concatenated, make
multi-head attention. Quick by default (a second); nothing to configure.

    python examples/self_attention_walkthrough.py --out runs/walkthrough
"""

## Setup

import argparse
import pathlib

import keras
import numpy as np

import keras_transformer as kt
from keras_transformer.plots import plot_attention

WORDS = ["Jane", "visits", "Africa", "in", "September"]
DEPTH = 8  # d_model: small enough to print


def show(name, value):
    value = np.asarray(value)
    print(f"\n{name} {value.shape}:\n{np.array2string(value, precision=2, suppress_small=True)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/walkthrough", help="where the heatmap goes")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    ## The words as vectors
    # An embedding gives each word a vector; the position encoding tells the model where the
    # word stands (attention itself has no notion of order).
    embeddings = rng.normal(size=(len(WORDS), DEPTH)).astype("float32")
    x = embeddings + np.asarray(kt.positional_encoding(len(WORDS), DEPTH))[0]
    show("x = word vectors + positions", x)

    ## Queries, keys, values
    # Three learnt matrices turn each word into a query q<t> ("what am I looking for"), a key
    # k<t> ("what do I contain") and a value v<t> ("what do I pass on").
    w_q, w_k, w_v = (rng.normal(size=(DEPTH, DEPTH)).astype("float32") / DEPTH**0.5 for _ in "qkv")
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    show("q = x W_Q", q)

    ## Scores and softmax weights
    # Each query is compared with every key: q<t>·k<t'> / √d_k. A softmax over each row turns
    # the scores into weights that sum to 1: how much word t attends to word t'.
    scores = q @ k.T / np.sqrt(DEPTH)
    show("scores = q kᵀ / √d_k", scores)
    output, weights = kt.scaled_dot_product_attention(q, k, v)
    show("weights = softmax(scores)", weights)
    print("row sums:", np.round(np.asarray(weights).sum(-1), 6))

    ## The output: A(q, K, V) = Σ weights · values
    # Every word's new representation mixes the values of all words, computed for all words
    # at once (no recurrence: this is why attention parallelizes where an RNN cannot).
    show("A = weights v", output)
    np.testing.assert_allclose(np.asarray(output), np.asarray(weights) @ v, atol=1e-5)

    ## Multi-head attention
    # h heads do the same with their own smaller projections (d_k = d_model / h) and look
    # for different relations; their outputs are concatenated and projected back.
    layer = kt.MultiHeadSelfAttention(num_heads=2)
    results = layer(x[None], return_attention_scores=True)
    multi, head_weights = results["output"], results["attention_scores"]
    show("multi-head output", multi[0])
    print(f"attention weights per head: {tuple(head_weights.shape)} = (batch, heads, words, words)")

    ## Looking at the heads
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = plot_attention(
        np.asarray(head_weights[0]), WORDS, WORDS, out / "self_attention.png", "two heads"
    )
    print(f"\nheatmap of both heads: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
