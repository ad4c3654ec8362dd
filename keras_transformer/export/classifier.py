"""SavedModel export of a classifier: texts (or text pairs) in, labels and class
probabilities out, the tokenization inside the graph.

Like the translator's export, it needs only `tensorflow` and `tensorflow_text` to load:

    import tensorflow as tf, tensorflow_text  # noqa: F401
    classifier = tf.saved_model.load(EXPORT_DIR)
    classifier.labels.numpy()                                     # the label order
    classifier.classify(tf.constant(["Great film."]))             # label, probabilities
    classifier.signatures["serving_default"](text=tf.constant([...]))
    # A pair classifier: classify(text_a, text_b), serving inputs `text_a` and `text_b`.
"""

import tensorflow as tf

from keras_transformer.data.labelled import encode_texts
from keras_transformer.export.staging import (
    check_tokenizer_size,
    save_staged,
    track_used_variables,
    write_vocabulary,
)
from keras_transformer.export.target import check_export_dir


class ExportedClassifier(tf.Module):
    """The object written to a classifier's SavedModel: the model, its tokenizer, its
    vocabulary file (an asset) and its labels are tracked, so their variables, lookup
    tables and files are saved with it.

    `classify(text)` (or `classify(text_a, text_b)` for a pair classifier, whose
    `config.segments == 2`) encodes the texts as training did (`encode_texts`: `[START]
    text`, or `[START] text_a [END] text_b` with segment ids, truncated to the model's
    `sequence_length`) and returns `{"label": tf.string [batch], "probabilities": float32
    [batch, num_classes]}`, the label being the most probable class. `labels` (a
    `tf.string [num_classes]` variable) holds the label of each class, in the order of the
    probabilities' columns. The `serving_default` signature has the same inputs and outputs.

    Args:
        model: a trained `Classifier`.
        tokenizer: its tokenizer.
        labels: list of str, the label of each class id.
        vocabulary_file: path of the tokenizer's vocabulary (one JSON string a line), saved
            as an asset.
    """

    def __init__(self, model, tokenizer, labels, vocabulary_file):
        super().__init__(name="classifier")
        self.model = model
        self.tokenizer = tokenizer
        self.vocabulary_file = tf.saved_model.Asset(str(vocabulary_file))
        self.labels = tf.Variable(list(labels), dtype=tf.string, trainable=False, name="labels")
        self.pairs = bool(model.config.segments)
        self._sequence_length = model.sequence_length
        if self.pairs:
            specs = [tf.TensorSpec([None], tf.string, name=n) for n in ("text_a", "text_b")]
            self.classify = tf.function(self._classify_pairs, input_signature=specs)
        else:
            specs = [tf.TensorSpec([None], tf.string, name="text")]
            self.classify = tf.function(self._classify_texts, input_signature=specs)

    def _outputs(self, inputs):
        # An empty batch encodes to zero columns; one column of padding (which never
        # changes a prediction) keeps the pooling's first position.
        inputs = tf.nest.map_structure(
            lambda ids: tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]]), inputs
        )
        probabilities = tf.cast(self.model(inputs, training=False), tf.float32)
        label = tf.gather(self.labels, tf.argmax(probabilities, axis=-1, output_type=tf.int32))
        return {"label": label, "probabilities": probabilities}

    def _classify_texts(self, text):
        return self._outputs(encode_texts(self.tokenizer, text, self._sequence_length))

    def _classify_pairs(self, text_a, text_b):
        check = tf.debugging.assert_equal(
            tf.shape(text_a),
            tf.shape(text_b),
            message="text_a and text_b must hold as many strings (one pair per row)",
        )
        with tf.control_dependencies([check]):
            inputs = encode_texts(self.tokenizer, text_a, self._sequence_length, second=text_b)
        return self._outputs(inputs)

    def track_used_variables(self):
        """Tracks the raw variables its function uses (`staging.track_used_variables`)."""
        track_used_variables(self, (self.classify,))


def export_classifier(model, tokenizer, labels, export_dir, overwrite=False):
    """Exports a classifier as a SavedModel that labels strings.

    The export loads with only `tensorflow` and `tensorflow_text`; see
    `ExportedClassifier` for its `classify` function, `labels` variable and
    `serving_default` signature (inputs `text`, or `text_a` and `text_b` for a pair
    classifier; outputs `label` and `probabilities`).

    Args:
        model: a trained `Classifier`.
        tokenizer: its tokenizer.
        labels: list of str, the label of each class id (`label_vocabulary` of the
            training examples), as many as the model's `num_classes`.
        export_dir: where to write the SavedModel. Written to a temporary sibling directory,
            then renamed, so a failed export leaves nothing half-written.
        overwrite: bool. Replace an existing `export_dir`. Defaults to `False`.

    Returns:
        The export directory (`pathlib.Path`).

    Raises:
        FileExistsError: `export_dir` exists and `overwrite` is False.
        TypeError: `model` is not a `Classifier`.
        ValueError: `labels` are not `num_classes` distinct strings, or the tokenizer has
            more tokens than the model.
    """
    from keras_transformer.models.classifier import Classifier

    export_dir = check_export_dir(export_dir, overwrite)
    if not isinstance(model, Classifier):
        raise TypeError(
            f"export_classifier exports a Classifier; received {type(model).__name__}. "
            "Export a LanguageModel with export_language_model and a translation "
            "Transformer with export_saved_model."
        )
    labels = list(labels)
    num_classes = model.config.num_classes
    if (
        len(labels) != num_classes
        or not all(isinstance(label, str) for label in labels)
        or len(set(labels)) != len(labels)
    ):
        raise ValueError(
            f"labels must be the model's {num_classes} distinct class names (str), in class "
            f"id order; received {labels[:10]!r}. Pass the run's label vocabulary."
        )
    check_tokenizer_size(tokenizer, model)

    def build(staging):
        vocabulary = write_vocabulary(tokenizer, staging / "vocabulary.txt")
        module = ExportedClassifier(model, tokenizer, labels, vocabulary)
        module.track_used_variables()
        return module, {"serving_default": module.classify}

    return save_staged(export_dir, build, overwrite=overwrite)
