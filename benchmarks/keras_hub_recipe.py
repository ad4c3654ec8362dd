"""The keras.io "English-to-Spanish translation with KerasHub" recipe, trained on a CPU budget.

A faithful re-implementation of examples/nlp/neural_machine_translation_with_keras_hub.py
(keras-team/keras-io), used as the baseline of `real_corpus.py`:

- WordPiece vocabularies of 15,000 per side (`compute_word_piece_vocabulary`, no lower-casing,
  reserved tokens [PAD] [UNK] [START] [END]) and a `WordPieceTokenizer` per side;
- sources packed to 40 tokens, targets to 41 with [START]/[END]; decoder inputs
  `target[:, :-1]`, labels `target[:, 1:]`; the recipe's tf.data pipeline (batch 64, map,
  shuffle(2048), prefetch(16), cache());
- `TokenAndPositionEmbedding` (256, mask_zero=True) per side, one `TransformerEncoder` and one
  `TransformerDecoder` (2048, 8 heads), dropout 0.5, a softmax Dense over the target vocabulary;
  RMSprop with Keras defaults, `sparse_categorical_crossentropy` (padding masked through
  mask_zero), accuracy as metric, the validation split as `validation_data`;
- greedy decoding with `keras_hub.samplers.GreedySampler` as in the recipe's
  `decode_sequences`, batched, at most 40 tokens, special tokens stripped.

Deviations, all forced by the benchmark: no lower-casing of the text (the recipe lower-cases
both sides), the split comes from the caller, training stops when the process CPU-second
budget is spent instead of after a number of epochs, and decoding truncates sources to
40 tokens (the recipe's `decode_sequences` fails on longer ones).

The CPU budget counts `time.process_time()` (all threads of this process) from the start of
`train_recipe`: vocabulary learning, preprocessing and training, but not the curve's
evaluations. Run as a script it trains on the train split of a corpus (the split of
`keras_transformer.data.tsv.split_pairs`, as `keras-transformer train` makes it) and writes
`hypotheses.txt`, `curve.json` and `info.json`:

    python benchmarks/keras_hub_recipe.py --corpus FILE --test-sources SOURCES.txt \\
        --cpu-seconds 1300 --out DIR
"""

import argparse
import json
import random
import time
from pathlib import Path

BATCH_SIZE = 64
MAX_SEQUENCE_LENGTH = 40
SOURCE_VOCAB_SIZE = 15000
TARGET_VOCAB_SIZE = 15000
EMBED_DIM = 256
INTERMEDIATE_DIM = 2048
NUM_HEADS = 8
RESERVED_TOKENS = ["[PAD]", "[UNK]", "[START]", "[END]"]
DECODE_BATCH_SIZE = 64
CURVE_SAMPLE = 200


def _train_word_piece(texts, vocabulary_size):
    import keras_hub
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(texts)
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        dataset.batch(1000).prefetch(2),
        vocabulary_size=vocabulary_size,
        lowercase=False,
        reserved_tokens=RESERVED_TOKENS,
    )


def _build_transformer():
    import keras
    import keras_hub

    encoder_inputs = keras.Input(shape=(None,), dtype="int64", name="encoder_inputs")
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size=SOURCE_VOCAB_SIZE,
        sequence_length=MAX_SEQUENCE_LENGTH,
        embedding_dim=EMBED_DIM,
        mask_zero=True,
    )(encoder_inputs)
    encoder_outputs = keras_hub.layers.TransformerEncoder(
        intermediate_dim=INTERMEDIATE_DIM, num_heads=NUM_HEADS
    )(inputs=x)
    encoder = keras.Model(encoder_inputs, encoder_outputs)

    decoder_inputs = keras.Input(shape=(None,), dtype="int64", name="decoder_inputs")
    encoded_seq_inputs = keras.Input(shape=(None, EMBED_DIM), name="decoder_state_inputs")
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size=TARGET_VOCAB_SIZE,
        sequence_length=MAX_SEQUENCE_LENGTH,
        embedding_dim=EMBED_DIM,
        mask_zero=True,
    )(decoder_inputs)
    x = keras_hub.layers.TransformerDecoder(intermediate_dim=INTERMEDIATE_DIM, num_heads=NUM_HEADS)(
        decoder_sequence=x, encoder_sequence=encoded_seq_inputs
    )
    x = keras.layers.Dropout(0.5)(x)
    decoder_outputs = keras.layers.Dense(TARGET_VOCAB_SIZE, activation="softmax")(x)
    decoder = keras.Model([decoder_inputs, encoded_seq_inputs], decoder_outputs)
    decoder_outputs = decoder([decoder_inputs, encoder(encoder_inputs)])
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs, name="transformer")


class _Recipe:
    """The tokenizers, the datasets and the model of the recipe, and its greedy decoder."""

    def __init__(self, train_pairs, validation_pairs):
        import keras_hub

        self.source_vocab = _train_word_piece([s for s, _ in train_pairs], SOURCE_VOCAB_SIZE)
        self.target_vocab = _train_word_piece([t for _, t in train_pairs], TARGET_VOCAB_SIZE)
        self.source_tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=self.source_vocab, lowercase=False
        )
        self.target_tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=self.target_vocab, lowercase=False
        )
        self.source_packer = keras_hub.layers.StartEndPacker(
            sequence_length=MAX_SEQUENCE_LENGTH,
            pad_value=self.source_tokenizer.token_to_id("[PAD]"),
        )
        self.target_packer = keras_hub.layers.StartEndPacker(
            sequence_length=MAX_SEQUENCE_LENGTH + 1,
            start_value=self.target_tokenizer.token_to_id("[START]"),
            end_value=self.target_tokenizer.token_to_id("[END]"),
            pad_value=self.target_tokenizer.token_to_id("[PAD]"),
        )
        self.train_ds = self._make_dataset(train_pairs)
        self.validation_ds = self._make_dataset(validation_pairs) if validation_pairs else None
        self.transformer = _build_transformer()
        self.transformer.compile(
            "rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )

    def _preprocess_batch(self, source, target):
        source = self.source_packer(self.source_tokenizer(source))
        target = self.target_packer(self.target_tokenizer(target))
        return {"encoder_inputs": source, "decoder_inputs": target[:, :-1]}, target[:, 1:]

    def _make_dataset(self, pairs):
        import tensorflow as tf

        sources, targets = (list(side) for side in zip(*pairs, strict=True))
        dataset = tf.data.Dataset.from_tensor_slices((sources, targets))
        dataset = dataset.batch(BATCH_SIZE)
        dataset = dataset.map(self._preprocess_batch, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.shuffle(2048).prefetch(16).cache()

    def _decode_batch(self, sources):
        """The recipe's `decode_sequences`, for a batch: greedy, at most 40 tokens."""
        import keras_hub
        from keras import ops

        tokens = self.source_packer(self.source_tokenizer(sources))
        encoder_input_tokens = ops.convert_to_tensor(tokens)
        batch_size = len(sources)

        def next_token(prompt, cache, index):
            logits = self.transformer([encoder_input_tokens, prompt])[:, index - 1, :]
            return logits, None, cache

        length = MAX_SEQUENCE_LENGTH
        start_id = self.target_tokenizer.token_to_id("[START]")
        pad_id = self.target_tokenizer.token_to_id("[PAD]")
        start = ops.full((batch_size, 1), start_id, dtype="int32")
        pad = ops.full((batch_size, length - 1), pad_id, dtype="int32")
        prompt = ops.concatenate((start, pad), axis=-1)
        generated = keras_hub.samplers.GreedySampler()(
            next_token,
            prompt,
            stop_token_ids=[self.target_tokenizer.token_to_id("[END]")],
            index=1,
        )
        return ops.convert_to_numpy(generated)

    def translate(self, sources, batch_size=DECODE_BATCH_SIZE):
        """Greedy translations of `sources` (a list of strings), special tokens stripped."""
        unknown = self.target_tokenizer.token_to_id("[UNK]")
        translations = []
        for begin in range(0, len(sources), batch_size):
            ids = self._decode_batch(list(sources[begin : begin + batch_size]))
            # The output layer is as wide as TARGET_VOCAB_SIZE even when the learnt
            # vocabulary is smaller: ids past its end are shown as [UNK].
            ids[ids >= len(self.target_vocab)] = unknown
            for text in self.target_tokenizer.detokenize(ids):
                if not isinstance(text, str):
                    text = text.decode("utf-8") if isinstance(text, bytes) else str(text)
                for token in RESERVED_TOKENS[:1] + RESERVED_TOKENS[2:]:
                    text = text.replace(token, "")
                translations.append(text.strip())
        return translations

    __call__ = translate


def _grouped(pairs, limit, seed):
    """Up to `limit` distinct sources of `pairs`, drawn with `seed`, and all their targets."""
    references = {}
    for source, target in pairs:
        references.setdefault(source, []).append(target)
    sources = sorted(references)
    random.Random(seed).shuffle(sources)
    sources = sources[:limit]
    return sources, [references[s] for s in sources]


def train_recipe(
    train_pairs,
    validation_pairs,
    cpu_seconds,
    log_every_cpu_seconds,
    seed=0,
    bleu_tokenize="13a",
    curve_sample=CURVE_SAMPLE,
    verbose=2,
):
    """Trains the recipe until `cpu_seconds` of this process's CPU time are spent.

    Args:
        train_pairs: `(source, target)` pairs to learn the vocabularies and the model from.
        validation_pairs: pairs for the recipe's `validation_data` and for the curve.
        cpu_seconds: the budget of `time.process_time()` seconds, counted from this call,
            without the curve's evaluations.
        log_every_cpu_seconds: how often (in budgeted CPU-seconds) to decode the curve's
            sample of validation sources and score it; 0 or None for no curve.
        seed: seeds the shuffle of the training pairs (the recipe shuffles all pairs before
            splitting), Keras's initialisers and dropout, and the curve's sample.
        bleu_tokenize: sacreBLEU tokenization of the curve's BLEU ("char" for Japanese).
        curve_sample: how many distinct validation sources the curve decodes.
        verbose: passed to `fit`.

    Returns:
        `(translate_fn, curve)`: `translate_fn(list_of_sources) -> list_of_translations` (it
        also carries `train_cpu_seconds`, `process_cpu_seconds` (the process's CPU time at the
        end of training, imports included, the curve excluded), `steps` and the two
        vocabularies), and a list of
        `{"cpu_seconds", "bleu", "chrf", "epoch", "step"}` records (the last one at the end of
        training), scored against all the references of each sampled source.
    """
    import keras

    from keras_transformer.evaluation.scores import corpus_scores

    started = time.process_time()
    excluded = 0.0  # CPU-seconds spent on the curve's evaluations

    def used():
        return time.process_time() - started - excluded

    keras.utils.set_random_seed(seed)
    train_pairs = list(train_pairs)
    random.Random(seed).shuffle(train_pairs)
    recipe = _Recipe(train_pairs, validation_pairs)
    curve_sources, curve_references = _grouped(validation_pairs, curve_sample, seed)
    curve = []

    def evaluate(epoch, step):
        nonlocal excluded
        at = used()
        evaluation_started = time.process_time()
        hypotheses = recipe.translate(curve_sources)
        scores = corpus_scores(hypotheses, curve_references, bleu_tokenize)
        curve.append({"cpu_seconds": at, "epoch": epoch, "step": step, **scores})
        excluded += time.process_time() - evaluation_started
        print(
            f"curve: {at:.0f} CPU-s, epoch {epoch}, step {step}, "
            f"BLEU {scores['bleu']:.2f}, chrF {scores['chrf']:.2f}",
            flush=True,
        )

    class Budget(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch, self.step = 0, 0
            self.next_log = log_every_cpu_seconds or float("inf")

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if used() >= cpu_seconds:
                self.model.stop_training = True
            elif curve_sources and used() >= self.next_log:
                evaluate(self.epoch + 1, self.step)
                while self.next_log <= used():
                    self.next_log += log_every_cpu_seconds

    budget = Budget()
    if used() < cpu_seconds:
        recipe.transformer.fit(
            recipe.train_ds,
            epochs=10**6,
            validation_data=recipe.validation_ds,
            callbacks=[budget],
            verbose=verbose,
        )
    train_cpu_seconds = used()
    process_cpu_seconds = time.process_time() - excluded
    if curve_sources:
        evaluate(budget.epoch + 1, budget.step)
    recipe.train_cpu_seconds = train_cpu_seconds
    recipe.process_cpu_seconds = process_cpu_seconds
    recipe.steps = budget.step
    return recipe, curve


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="a source<TAB>target file")
    parser.add_argument("--test-sources", required=True, help="sources to translate, one a line")
    parser.add_argument("--cpu-seconds", type=float, required=True)
    parser.add_argument("--log-every", type=float, default=0, help="curve period, CPU-seconds")
    parser.add_argument("--bleu-tokenize", default="13a", help="sacreBLEU tokenize of the curve")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="the output directory")
    args = parser.parse_args()

    from keras_transformer.data.tsv import read_tsv, split_pairs

    train, validation, _ = split_pairs(read_tsv(args.corpus).pairs, 0.05, 0.05, seed=0)
    translate, curve = train_recipe(
        train, validation, args.cpu_seconds, args.log_every, args.seed, args.bleu_tokenize
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sources = Path(args.test_sources).read_text(encoding="utf-8").splitlines()
    decode_started = time.process_time()
    hypotheses = translate(sources)
    (out / "hypotheses.txt").write_text("".join(h + "\n" for h in hypotheses), encoding="utf-8")
    (out / "curve.json").write_text(json.dumps(curve, indent=1))
    info = {
        "train_cpu_seconds": translate.train_cpu_seconds,
        "train_process_cpu_seconds": translate.process_cpu_seconds,
        "test_decode_cpu_seconds": time.process_time() - decode_started,
        "steps": translate.steps,
        "train_pairs": len(train),
        "source_vocabulary": len(translate.source_vocab),
        "target_vocabulary": len(translate.target_vocab),
    }
    (out / "info.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))


if __name__ == "__main__":
    main()
