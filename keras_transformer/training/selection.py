"""Model selection on real text: validation BLEU/chrF each epoch, keep-best, early stopping,
checkpoint averaging, and the clock that stops training at a time budget.

Token accuracy is a poor proxy for translation quality, so the kept model is the one whose
decoded validation sample scores best (OpenNMT-tf and fairseq select the same way).
"""

import json
import logging
import pathlib
import time

import keras
import numpy as np

from keras_transformer.atomic import atomic_path, write_json
from keras_transformer.evaluation.scores import corpus_scores, group_references
from keras_transformer.reading import reading

logger = logging.getLogger("keras_transformer")

BEST_WEIGHTS = "best.weights.h5"
# Selection metrics `model.fit` logs itself (the others are decoded and scored here).
_LOGGED = ("loss", "accuracy")


class ValidationScores(keras.callbacks.Callback):
    """Adds `val_bleu` and `val_chrf` to each epoch's logs (so the progress line, the history
    and TensorBoard show them), keeps the best weights by `metric`, and stops training after
    `patience` epochs without improvement.

    The sample is the first `sample_size` distinct sources of the validation split, each with
    all its references, decoded greedily with the KV cache (XLA-compiled once, so an epoch
    adds seconds, not minutes).

    Args:
        pairs: validation `(source, target)` pairs.
        source_tokenizer, target_tokenizer: the run's tokenizers.
        directory: where `best.weights.h5` and `best.json` go; None keeps nothing (the
            scores are only logged, as `tune`'s trials need).
        metric: `"chrf"`, `"bleu"` (decoded), or a validation metric in the epoch's logs:
            `"loss"` (val_loss, lower is better), `"accuracy"` (val_accuracy).
        sample_size: int. Validation sources decoded; 0 decodes none (metric must be loss).
        patience: int. Epochs without a better score before stopping; 0 = never stop.
        bleu_tokenize: str. sacrebleu's BLEU tokenization.
    """

    def __init__(self, pairs, source_tokenizer, target_tokenizer, directory, metric="chrf",
                 sample_size=500, patience=0, bleu_tokenize="13a"):  # fmt: skip
        super().__init__()
        sources, references = group_references(pairs)
        self.sources, self.references = sources[:sample_size], references[:sample_size]
        self.source_tokenizer, self.target_tokenizer = source_tokenizer, target_tokenizer
        self.directory = None if directory is None else pathlib.Path(directory)
        self.metric = metric if self.sources or metric in _LOGGED else "loss"
        self.patience = patience
        self.bleu_tokenize = bleu_tokenize
        self.seconds = 0.0  # of the last epoch's decoding
        self._translator = None
        state_file = None if directory is None else self.directory / "best.json"
        state = json.loads(state_file.read_text()) if state_file and state_file.exists() else {}
        self.best_score = state.get("score")
        self.best_epoch = state.get("epoch")

    @property
    def best_weights(self):
        if self.directory is None:
            return None
        path = self.directory / BEST_WEIGHTS
        return path if path.exists() else None

    def better(self, score, than):
        if than is None:
            return True
        return score < than if self.metric == "loss" else score > than

    def score(self, model=None):
        """`{"val_bleu", "val_chrf"}` of `model` (default: the model being trained)."""
        from keras_transformer.decoding import DecodingOptions, Translator

        if not self.sources:
            return {}
        model = model or self.model
        if self._translator is None or self._translator.model is not model:
            self._translator = Translator(model, self.source_tokenizer, self.target_tokenizer)
        hypotheses = self._translator.translate(
            self.sources, DecodingOptions(strategy="greedy"), batch_size=100
        )
        scores = corpus_scores(hypotheses, self.references, self.bleu_tokenize)
        return {"val_bleu": scores["bleu"], "val_chrf": scores["chrf"]}

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        started = time.perf_counter()
        logs.update(self.score())
        self.seconds = time.perf_counter() - started
        score = logs.get(f"val_{self.metric}")
        if score is None:
            return
        if self.better(score, self.best_score):
            self.best_score, self.best_epoch = float(score), epoch + 1
            if self.directory is None:
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.directory / BEST_WEIGHTS) as temporary:
                self.model.save_weights(temporary, overwrite=True)
            write_json(
                self.directory / "best.json",
                {"epoch": self.best_epoch, "score": self.best_score, "metric": self.metric},
            )
        elif self.patience and epoch + 1 - self.best_epoch >= self.patience:
            logger.info(
                "No better validation %s for %d epochs: stopping (best %.2f at epoch %d).",
                self.metric, self.patience, self.best_score, self.best_epoch,
            )  # fmt: skip
            self.model.stop_training = True


class TrainingClock(keras.callbacks.Callback):
    """Adds `seconds` and `cpu_seconds` (the run's: since `started`, plus `previous`, the
    time of the processes that trained it before) to each epoch's logs, and stops training
    when the next validation would end past `budget_minutes` of the run's time.

    The budget is checked after every batch; the time the last epoch's validation took is
    kept in reserve, so the final validation and checkpoint fit inside the budget. Before the
    first validation, the reserve is an estimate: `validation_steps` batches at a third of a
    training step's time (a forward pass).

    Args:
        budget_minutes: float or None (no budget).
        clock: `"wall"` (elapsed time) or `"cpu"` (this process's CPU time, all threads).
        started: `(wall, cpu)` readings when the run started (`TrainingClock.now()`).
        previous: `(seconds, cpu_seconds)` of the earlier processes of a resumed run.
        validation_steps: int or None. Batches in a validation pass, if known.
    """

    def __init__(self, budget_minutes=None, clock="wall", started=None, previous=(0.0, 0.0),
                 validation_steps=None):  # fmt: skip
        super().__init__()
        self.budget = None if budget_minutes is None else 60.0 * budget_minutes
        self.clock = clock
        self.started = started or self.now()
        self.previous = previous
        self.validation_steps = validation_steps
        self.reserve = 0.0
        self.stopped = False
        self._validated = False
        self._validation_began = None
        self._epoch_began = None

    @staticmethod
    def now():
        return time.perf_counter(), time.process_time()

    def spent(self):
        wall, cpu = self.now()
        if self.clock == "cpu":
            return self.previous[1] + cpu - self.started[1]
        return self.previous[0] + wall - self.started[0]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_began = self.spent()

    def on_train_batch_end(self, batch, logs=None):
        if self.budget is None:
            return
        spent = self.spent()
        if not self._validated and self.validation_steps and self._epoch_began is not None:
            step = (spent - self._epoch_began) / (batch + 1)
            self.reserve = step * self.validation_steps / 3
        if spent + self.reserve >= self.budget:
            self.stopped = True
            self.model.stop_training = True

    def on_test_begin(self, logs=None):
        self._validation_began = self.spent()

    def on_epoch_end(self, epoch, logs=None):
        if self._validation_began is not None:
            self.reserve = self.spent() - self._validation_began
            self._validated = True
            self._validation_began = None
        if logs is not None:
            wall, cpu = self.now()
            logs["seconds"] = self.previous[0] + wall - self.started[0]
            logs["cpu_seconds"] = self.previous[1] + cpu - self.started[1]
        if self.stopped:
            logger.info("Time budget spent (%s clock): training stops here.", self.clock)


def average_weights(model, paths):
    """Sets `model`'s weights to the mean of the weight files `paths` (checkpoint averaging,
    Vaswani et al. 2017, Section 6.1)."""
    total = None
    for path in paths:
        with reading(path, "remove it to average the others, or train the run again"):
            model.load_weights(path)
        weights = model.get_weights()
        if total is None:
            total = [np.asarray(w, np.float64) for w in weights]
        else:
            total = [t + w for t, w in zip(total, weights, strict=True)]
    last = model.get_weights()  # integer states (random seeds) keep the last file's value
    model.set_weights(
        [
            (t / len(paths)).astype(w.dtype) if np.issubdtype(w.dtype, np.floating) else w
            for t, w in zip(total, last, strict=True)
        ]
    )
