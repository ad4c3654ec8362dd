"""The built-in classification task (is this date real?): the tiny classifier against a
bag-of-tokens linear baseline, same tokens, same data, in one run.

    python benchmarks/date_validity.py              # 20k training texts, 8 epochs
    python benchmarks/date_validity.py --smoke
"""

import argparse
import resource
import time

import keras
import numpy as np
import tensorflow as tf

from keras_transformer.constants import START_ID
from keras_transformer.data.date_validity import LABELS, generate_date_validity
from keras_transformer.data.tokenizers import CharacterTokenizer
from keras_transformer.models.classifier import Classifier, ClassifierConfig


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def encode(tokenizer, pairs, length):
    ids = tokenizer.tokenize(tf.constant([t for t, _ in pairs])).to_tensor(shape=[None, length - 1])
    ids = np.concatenate([np.full([len(pairs), 1], START_ID), ids.numpy()], axis=1)
    labels = np.array([LABELS.index(label) for _, label in pairs], "int32")
    return ids.astype("int32"), labels


def bag_of_tokens(ids, vocabulary_size):
    counts = np.zeros((len(ids), vocabulary_size), "float32")
    for row, sequence in enumerate(ids):
        np.add.at(counts[row], sequence[sequence > 0], 1.0)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    held_out = 1000
    if args.smoke:
        args.train_size, args.epochs, held_out = 256, 1, 128
    keras.utils.set_random_seed(0)
    train, validation, test = generate_date_validity(args.train_size, held_out, held_out, seed=0)
    tokenizer = CharacterTokenizer.learn([t for t, _ in train])
    length = 40
    (x, y), (vx, vy), (tx, ty) = (encode(tokenizer, s, length) for s in (train, validation, test))
    print(f"{len(train)} training texts, {np.mean(y):.1%} real; e.g. {train[:3]}")

    config = ClassifierConfig.preset("tiny", vocabulary_size=tokenizer.vocabulary_size,
                                     num_classes=2, sequence_length=length)  # fmt: skip
    model = Classifier(config)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    started, wall = cpu_seconds(), time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=args.epochs, validation_data=(vx, vy), verbose=2)
    seconds, cpu = time.perf_counter() - wall, cpu_seconds() - started
    accuracy = float(np.mean(np.argmax(model.predict(tx, verbose=0), -1) == ty))

    bags = [bag_of_tokens(ids, tokenizer.vocabulary_size) for ids in (x, vx, tx)]
    linear = keras.Sequential([keras.Input((tokenizer.vocabulary_size,)),
                               keras.layers.Dense(2, activation="softmax")])  # fmt: skip
    linear.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                   metrics=["accuracy"])  # fmt: skip
    linear.fit(bags[0], y, batch_size=64, epochs=4 * args.epochs, verbose=0,
               validation_data=(bags[1], vy))  # fmt: skip
    baseline = float(np.mean(np.argmax(linear.predict(bags[2], verbose=0), -1) == ty))
    print(
        f"tiny classifier: test accuracy {accuracy:.1%} after {seconds:.0f} s ({cpu:.0f} "
        f"CPU-s) of training; bag-of-tokens linear baseline: {baseline:.1%}"
    )


if __name__ == "__main__":
    main()
