"""`train()`: a corpus and two configs in, a run directory with a trained model out.

The run directory holds everything needed to resume, evaluate, translate and export:
`config.json`, `train_config.json`, the tokenizers, the data splits, `checkpoints/`,
`backup/` (Keras `BackupAndRestore`, so re-running the same command resumes), `logs/`
(TensorBoard), `history.json`, `training_curves.png`, `model.keras` and `run.json`.

Under `--strategy multiworker` the chief writes the run directory; every other worker keeps
its own copy (resumable in the same way) in `workers/<task>-<index>/` inside it.
"""

import dataclasses
import json
import logging
import math
import pathlib
import shutil
import time

import keras

from keras_transformer.data.corpus import Splits, load_corpus
from keras_transformer.data.pipeline import make_dataset
from keras_transformer.data.tokenizers import Tokenizer, learn_tokenizer
from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.plots import plot_training_curves
from keras_transformer.training.callbacks import GoodCheckpoint, HistoryFile
from keras_transformer.training.config import TrainConfig
from keras_transformer.training.devices import choose_strategy, precision_policy
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy
from keras_transformer.training.metrics import MaskedAccuracy
from keras_transformer.training.multiworker import worker_identity
from keras_transformer.training.schedules import TransformerSchedule

logger = logging.getLogger("keras_transformer")

# What a run directory holds; `overwrite=True` removes exactly these, nothing else.
RUN_FILES = (
    "config.json", "train_config.json", "source_tokenizer.json", "target_tokenizer.json",
    "splits", "checkpoints", "backup", "logs", "history.json", "training_curves.png",
    "model.keras", "run.json",
)  # fmt: skip


@dataclasses.dataclass
class TrainResult:
    """What `train()` returns: where the run is and how it ended."""

    run_dir: pathlib.Path
    status: str  # "finished" or "diverged"
    epochs: int
    seconds: float
    metrics: dict  # the last epoch's logs (loss, masked_accuracy, val_...)


def compile_model(model, model_config, train_config):
    """Compiles with the paper's recipe: Adam(0.9, 0.98, 1e-9) on the warm-up schedule,
    label-smoothed masked cross-entropy, masked token accuracy."""
    schedule = TransformerSchedule(
        model_config.hidden_dim, train_config.warmup_steps, train_config.learning_rate_scale
    )
    optimizer = keras.optimizers.Adam(
        schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9, clipnorm=train_config.clipnorm
    )
    model.compile(
        optimizer=optimizer,
        loss=MaskedSparseCategoricalCrossentropy(train_config.label_smoothing),
        metrics=[MaskedAccuracy()],
        jit_compile=train_config.jit_compile,
    )
    return model


def load_run(run_dir):
    """The configs, tokenizers and splits saved in a run directory."""
    run_dir = pathlib.Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"{run_dir} is not a run directory (no config.json); train one with "
            f"`keras-transformer train --out {run_dir}`."
        )
    return (
        TransformerConfig.from_json(run_dir / "config.json"),
        TrainConfig.from_json(run_dir / "train_config.json"),
        Tokenizer.load(run_dir / "source_tokenizer.json"),
        Tokenizer.load(run_dir / "target_tokenizer.json"),
        Splits.load(run_dir / "splits"),
    )


def prepare_data(train_config, share_embeddings=False):
    """The corpus splits and the tokenizers learnt from the training split only (one joint
    tokenizer when the embeddings are shared)."""
    splits = load_corpus(
        train_config.corpus,
        train_size=train_config.train_size,
        validation_size=train_config.validation_size,
        test_size=train_config.test_size,
        validation_fraction=train_config.validation_fraction,
        test_fraction=train_config.test_fraction,
        skip_malformed=train_config.skip_malformed,
        seed=train_config.seed,
    )
    kind, size = train_config.tokenizer, train_config.max_vocabulary_size
    lower = train_config.lower_case
    if share_embeddings:
        joint = [text for pair in splits.train for text in pair]
        source = target = learn_tokenizer(kind, joint, size, lower)
    else:
        source = learn_tokenizer(kind, [s for s, _ in splits.train], size, lower)
        target = learn_tokenizer(kind, [t for _, t in splits.train], size, lower)
    return splits, source, target


def sized_config(model_config, source, target):
    """`model_config` with the vocabulary sizes of the tokenizers."""
    return model_config.replace(
        vocabulary_size=source.vocabulary_size,
        target_vocabulary_size=None if model_config.share_embeddings else target.vocabulary_size,
    )


def _prepare_run(model_config, train_config, overwrite):
    """Creates the run directory, or checks that an unfinished one matches and resumes it."""
    run_dir = pathlib.Path(train_config.out)
    status_file = run_dir / "run.json"
    if status_file.exists() and not overwrite:
        status = json.loads(status_file.read_text()).get("status")
        raise FileExistsError(
            f"{run_dir} holds a {status} run. Pass overwrite=True (CLI: --overwrite) to replace "
            "it, or choose another --out."
        )
    if overwrite:
        for name in RUN_FILES:
            path = run_dir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    if (run_dir / "config.json").exists():
        saved_model, saved_train, source, target, splits = load_run(run_dir)
        vocabulary = {
            "vocabulary_size": saved_model.vocabulary_size,
            "target_vocabulary_size": saved_model.target_vocabulary_size,
        }
        same_train = saved_train.replace(epochs=train_config.epochs) == train_config
        if saved_model != model_config.replace(**vocabulary) or not same_train:
            raise ValueError(
                f"{run_dir} holds an unfinished run with other settings; resume it with the "
                "same settings (only --epochs may change), or pass --overwrite, or choose "
                "another --out."
            )
        logger.info("Resuming the unfinished run in %s.", run_dir)
        return run_dir, saved_model, source, target, splits

    splits, source, target = prepare_data(train_config, model_config.share_embeddings)
    model_config = sized_config(model_config, source, target)
    run_dir.mkdir(parents=True, exist_ok=True)
    splits.save(run_dir / "splits")
    source.save(run_dir / "source_tokenizer.json")
    target.save(run_dir / "target_tokenizer.json")
    train_config.to_json(run_dir / "train_config.json")
    model_config.to_json(run_dir / "config.json")  # last: its presence marks a prepared run
    return run_dir, model_config, source, target, splits


def train(model_config, train_config, overwrite=False, callbacks=(), verbose="auto"):
    """Trains a Transformer with `model.fit` and writes the run directory.

    Args:
        model_config: `TransformerConfig`. Its vocabulary sizes are replaced by those of the
            tokenizers learnt from the training split.
        train_config: `TrainConfig`.
        overwrite: bool. Replace a finished run in `train_config.out`. Defaults to `False`.
        callbacks: extra Keras callbacks.
        verbose: `model.fit` verbosity. Defaults to `"auto"` (progress bars).

    Returns:
        `TrainResult`.

    Raises:
        FileExistsError: `train_config.out` holds a finished run and `overwrite` is False.
        ValueError: it holds an unfinished run with other settings.
    """
    started = time.perf_counter()
    # First: MultiWorkerMirroredStrategy must exist before any other TensorFlow op runs.
    strategy = choose_strategy(train_config.strategy)
    is_chief, worker = worker_identity(strategy)
    if not is_chief:
        worker_dir = pathlib.Path(train_config.out) / "workers" / worker
        train_config = train_config.replace(out=str(worker_dir))
    run_dir, model_config, source, target, splits = _prepare_run(
        model_config, train_config, overwrite
    )
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision_policy(train_config.mixed_precision))
    try:
        keras.utils.set_random_seed(train_config.seed)
        datasets = [
            make_dataset(
                pairs,
                source,
                target,
                model_config.sequence_length,
                train_config.batch_size,
                shuffle=shuffle,
                seed=train_config.seed,
                padding=train_config.padding,
            )
            for pairs, shuffle in ((splits.train, True), (splits.validation, False))
            if pairs
        ]
        train_data = datasets[0].repeat() if train_config.steps_per_epoch else datasets[0]
        validation_data = datasets[1] if len(datasets) > 1 else None
        with strategy.scope():
            model = compile_model(build_transformer(model_config), model_config, train_config)
        checkpoints = GoodCheckpoint(run_dir / "checkpoints")
        history = HistoryFile(run_dir / "history.json")
        run_callbacks = [
            keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
            keras.callbacks.TerminateOnNaN(),
            checkpoints,
            history,
            keras.callbacks.TensorBoard(str(run_dir / "logs"), profile_batch=0),
        ]
        if train_config.early_stopping_patience and validation_data is not None:
            run_callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_masked_accuracy",
                    mode="max",
                    patience=train_config.early_stopping_patience,
                    restore_best_weights=True,
                )
            )
        model.fit(
            train_data,
            validation_data=validation_data,
            epochs=train_config.epochs,
            steps_per_epoch=train_config.steps_per_epoch,
            callbacks=run_callbacks + list(callbacks),
            shuffle=False,  # the dataset shuffles itself, before length bucketing
            verbose=verbose,
        )
        metrics = history.epochs[-1] if history.epochs else {}
        status = "finished"
        if not math.isfinite(metrics.get("loss", math.nan)):
            status = "diverged"
            if checkpoints.last_good is not None:
                model.load_weights(checkpoints.last_good)
            logger.warning("Training diverged; the model keeps the last good checkpoint.")
        _save_model(model, run_dir / "model.keras")
        if history.epochs:
            plot_training_curves(history.epochs, run_dir / "training_curves.png")
    finally:
        keras.config.set_dtype_policy(previous_policy)
    seconds = time.perf_counter() - started
    epochs = len(history.epochs)
    (run_dir / "run.json").write_text(
        json.dumps({"status": status, "epochs": epochs, "seconds": seconds, "metrics": metrics})
    )
    return TrainResult(run_dir, status, epochs, seconds, metrics)


def _save_model(model, path):
    temporary = path.with_name("model.tmp.keras")
    model.save(temporary)
    temporary.replace(path)
