"""`TextClassifier`: texts in, labels and their probabilities out, with a trained
`Classifier`, its tokenizer and its labels.

Tokenization is tensorflow-text's, on the host; the model runs on the active Keras backend
(compiled by `decoding.compiled.compile_search`), its inputs and outputs NumPy arrays."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_transformer.data.labelled import encode_texts
from keras_transformer.decoding.compiled import compile_search
from keras_transformer.layers.validation import check_positive_int


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One text's predicted `label`, its `probability`, and every label's (`probabilities`,
    in the order of the run's labels)."""

    label: str
    probability: float
    probabilities: dict


class TextClassifier:
    """Classifies texts (or sentence pairs) with a trained `Classifier`.

    Args:
        model: a trained `Classifier`.
        tokenizer: its tokenizer.
        labels: its labels (a label's index is its class id).

    `predict(texts)` returns one `Prediction` per text; for a pair classifier
    (`segments=2`) pass `(text_a, text_b)` tuples. `probabilities(texts)` returns the float32
    array `(texts, classes)`.
    """

    def __init__(self, model, tokenizer, labels):
        if model.config.num_classes != len(labels):
            raise ValueError(
                f"The model has {model.config.num_classes} classes but {len(labels)} labels "
                f"were given ({list(labels)[:5]}); pass the labels the model was trained with."
            )
        self.model = model
        self.tokenizer = tokenizer
        self.labels = list(labels)
        self.pairs = model.config.segments == 2
        # A graph under TensorFlow (as before: no XLA), jax.jit under JAX, eager PyTorch.
        self._predict = compile_search(
            lambda inputs: model(inputs, training=False),
            jit_compile=keras.backend.backend() == "jax",
            model=model,
            reduce_retracing=True,
        )

    def inputs(self, texts):
        """The model's inputs for a batch of texts (or pairs): `tf.Tensor`s (a dict of them
        for pairs)."""
        texts = list(texts)
        length = self.model.config.sequence_length
        if not self.pairs:
            if any(not isinstance(t, str) for t in texts):
                raise ValueError(
                    "This classifier reads single texts; received a non-string "
                    f"{next(t for t in texts if not isinstance(t, str))!r}."
                )
            return encode_texts(self.tokenizer, tf.constant(texts, tf.string), length)
        if any(isinstance(t, str) or len(t) != 2 for t in texts):
            raise ValueError(
                "This classifier reads sentence pairs (segments=2): pass (text_a, text_b) "
                f"tuples; received {texts[0]!r}."
            )
        first, second = zip(*texts, strict=True)
        return encode_texts(self.tokenizer, tf.constant(first, tf.string), length,
                            tf.constant(second, tf.string))  # fmt: skip

    def probabilities(self, texts, batch_size=64):
        """Float32 class probabilities `(len(texts), classes)`."""
        check_positive_int(batch_size, "batch_size")
        texts = list(texts)
        batches = (texts[i : i + batch_size] for i in range(0, len(texts), batch_size))
        parts = [ops.convert_to_numpy(self._predict(self._backend_inputs(b))) for b in batches]
        return np.concatenate(parts) if parts else np.zeros([0, len(self.labels)], "float32")

    def _backend_inputs(self, texts):
        """`inputs(texts)` as the active backend takes them (NumPy arrays but under
        TensorFlow)."""
        inputs = self.inputs(texts)
        if keras.backend.backend() == "tensorflow":
            return inputs
        return keras.tree.map_structure(lambda t: t.numpy(), inputs)

    def predict(self, texts, batch_size=64):
        """One `Prediction` per text (or pair), in order."""
        predictions = []
        for row in self.probabilities(texts, batch_size):
            best = int(np.argmax(row))
            predictions.append(Prediction(
                self.labels[best], float(row[best]),
                {label: float(p) for label, p in zip(self.labels, row, strict=True)},
            ))  # fmt: skip
        return predictions
