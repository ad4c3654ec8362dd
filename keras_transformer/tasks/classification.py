"""The classifier task (`--task classify`): an encoder `Classifier` trained on TSV files of
`text<TAB>label` or `text_a<TAB>text_b<TAB>label` lines.

Its numbers for the rule (`tasks.single_tokenizer`): the `tiny` model under 50k training
examples, else `small`; the built-in task's fixed split sizes, else 5 % held out each (by
the hash of the text); batches of 64 examples; 8 epochs on the built-in task, else about
10k steps; the schedule's peak capped at 2.5e-3.
"""

import logging
import math
import typing

import keras

from keras_transformer.data.corpus import ExampleSplits
from keras_transformer.data.date_validity import generate_date_validity
from keras_transformer.data.labelled import (
    class_counts,
    class_weight_of_counts,
    label_vocabulary,
    load_labelled,
    make_classification_dataset,
)
from keras_transformer.models import Classifier, ClassifierConfig
from keras_transformer.tasks.single_tokenizer import SingleTokenizerTask

logger = logging.getLogger("keras_transformer")

# Classes this many times rarer than the most frequent one are reported as an imbalance.
IMBALANCE_RATIO = 3.0


class ClassificationTask(SingleTokenizerTask):
    name = "classify"
    title = "classifier"
    command = "classify"
    built_in_corpus = "date-validity"
    config_class = ClassifierConfig
    model_class = Classifier
    labelled = True
    selection_metrics = ("accuracy", "loss")
    objectives = ("val_accuracy", "val_loss")
    settings: typing.ClassVar[dict] = {"class_weight": (None,)}
    reported_metrics = ("loss", "accuracy", "val_loss", "val_accuracy")
    batch_size = 64
    built_in_epochs = 8
    target_steps = 10_000
    built_in_sizes = True

    def read(self, train_config):
        if self.built_in(train_config):
            train, validation, test = generate_date_validity(
                train_config.train_size, train_config.validation_size,
                train_config.test_size, seed=train_config.seed,
            )  # fmt: skip
            return ExampleSplits(train, validation, test)
        return load_labelled(
            train_config.corpus, train_config.validation_fraction, train_config.test_fraction,
            seed=train_config.seed, skip_malformed=train_config.skip_malformed,
            sample_size=train_config.tokenizer_sample,
        )  # fmt: skip

    def label_counts(self, splits):
        """`{label: training examples}` over the whole training split, in class-id order."""
        if splits.streamed:  # counted while the corpus was surveyed
            labels = label_vocabulary([(label,) for label in splits.label_counts])
            return {label: splits.label_counts[label] for label in labels}
        return class_counts(splits.train, label_vocabulary(splits.train))

    def labels(self, splits):
        counts = self.label_counts(splits)
        labels = list(counts)
        logger.info(
            "Classes in the training split: %s.",
            ", ".join(f"{label} {count}" for label, count in counts.items()),
        )
        rarest, commonest = min(counts.values()), max(counts.values())
        if commonest >= IMBALANCE_RATIO * max(rarest, 1):
            logger.warning(
                "The classes are imbalanced: the most frequent has %.1f times the examples of "
                "the rarest. Accuracy flatters the frequent classes: read macro-F1 in "
                "`evaluate`, and consider --class-weight balanced.",
                commonest / max(rarest, 1),
            )
        missing = sorted({e[-1] for e in splits.validation + splits.test} - set(labels))
        if missing:
            logger.warning("Held-out labels never seen in training (scored as errors): %s.",
                           missing)  # fmt: skip
        return labels

    def texts(self, examples):
        return [text for example in examples for text in example[:-1]]

    def choose_model(self, train_config, splits):
        count = len(splits.train)
        if self.built_in(train_config):
            return ClassifierConfig.preset("tiny"), "the built-in task"
        preset = "tiny" if count < 50_000 else "small"
        return ClassifierConfig.preset(preset), f"{count} training examples"

    def sized(self, model_config, tokenizer, labels, splits):
        segments = 2 if len(self.learning_examples(splits)[0]) == 3 else 0
        return model_config.replace(
            vocabulary_size=tokenizer.vocabulary_size, num_classes=len(labels), segments=segments
        )

    def steps_per_epoch(self, train_config, model_config, tokenizer, splits):
        return max(1, math.ceil(len(splits.train) / train_config.batch_size))

    def loss(self, train_config):
        return keras.losses.CategoricalCrossentropy(
            label_smoothing=self.label_smoothing(train_config)
        )

    def metrics(self):
        return [keras.metrics.CategoricalAccuracy(name="accuracy")]

    def datasets(self, run, train_config=None, epoch=None, shard=(1, 0)):
        config, labels = train_config or run.train_config, run.labels
        length = run.model_config.sequence_length

        def dataset(examples, shuffle):
            options = {"shard": tuple(shard)} if shuffle and tuple(shard) != (1, 0) else {}
            data = make_classification_dataset(
                examples, run.tokenizer, labels, length, config.batch_size, shuffle=shuffle,
                seed=config.seed, known_only=not shuffle, epoch=epoch if shuffle else None,
                **options,
            )  # fmt: skip
            return data.map(lambda x, y: (x, keras.ops.one_hot(y, len(labels))))

        validation = dataset(run.splits.validation, False) if run.splits.validation else None
        options = {}
        if config.class_weight == "balanced":
            counts = self.label_counts(run.splits)
            weights = class_weight_of_counts({label: counts.get(label, 0) for label in labels})
            options["class_weight"] = weights
            shown = ", ".join(f"{label} {weights[i]:.3g}" for i, label in enumerate(labels))
            logger.info("Class weights (balanced): %s.", shown)
        return self.repeated(dataset(run.splits.train, True), config), validation, options

    def evaluate(self, run, split="test", options=None, batch_size=64, progress=True,
                 limit=None, bleu_tokenize=None):  # fmt: skip
        from keras_transformer.evaluation.classification import evaluate_classifier

        return evaluate_classifier(run, split, batch_size, limit)

    def report(self, run, results):
        from keras_transformer.evaluation.classification import classifier_report

        return classifier_report(run.directory, results)

    def predictor(self, run, model=None):
        from keras_transformer.prediction import TextClassifier

        return TextClassifier(model or run.load_model(), run.tokenizer, run.labels)

    def export_saved_model(self, run, directory, options=None, overwrite=False):
        from keras_transformer.export.classifier import export_classifier

        return export_classifier(run.load_model(), run.tokenizer, run.labels, directory,
                                 overwrite=overwrite)  # fmt: skip
