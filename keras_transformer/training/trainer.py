"""`train()`: a corpus and two configs in, a run directory with a trained model out.

The run directory holds everything needed to resume, evaluate, translate and export:
`config.json`, `train_config.json`, the tokenizers, the data splits (`splits/`: copies, or
for a streamed corpus its files' fingerprints and the split rule), `checkpoints/`,
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
import numpy as np
import tensorflow as tf

from keras_transformer.data.corpus import Splits, load_corpus
from keras_transformer.data.files import is_gzip, truncation_offset
from keras_transformer.data.pipeline import (
    default_bucket_boundaries,
    make_dataset,
    token_batch_sizes,
)
from keras_transformer.data.tokenizers import Tokenizer, learn_tokenizer
from keras_transformer.evaluation.scores import choose_bleu_tokenize
from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.plots import plot_training_curves
from keras_transformer.training import defaults
from keras_transformer.training.callbacks import (
    EstimatedProgbar,
    GoodCheckpoint,
    HistoryFile,
    InputWatch,
)
from keras_transformer.training.config import TrainConfig
from keras_transformer.training.devices import (
    choose_strategy,
    precision_policy,
    release_free_memory,
)
from keras_transformer.training.losses import MaskedSparseCategoricalCrossentropy
from keras_transformer.training.metrics import MaskedAccuracy
from keras_transformer.training.multiworker import input_shard, worker_identity
from keras_transformer.training.schedules import TransformerSchedule
from keras_transformer.training.selection import TrainingClock, ValidationScores, average_weights

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
    kept: str = "last"  # the weights in model.keras: "last", "best epoch N" or "average of N"


def compile_model(model, model_config, train_config):
    """Compiles with the paper's recipe: Adam(0.9, 0.98, 1e-9) on the warm-up schedule,
    label-smoothed masked cross-entropy, masked token accuracy; with
    `accumulate_gradients` K > 1, Adam averages K batches' gradients per update (Keras's
    gradient accumulation) and the schedule counts updates."""
    scale = train_config.learning_rate_scale
    accumulate = train_config.accumulate_gradients
    schedule = TransformerSchedule(
        model_config.hidden_dim,
        train_config.warmup_steps or 4000,  # unset only when called before `resolve`
        1.0 if scale is None else scale,
        steps_per_update=accumulate,
    )
    optimizer = keras.optimizers.Adam(
        schedule,
        beta_1=0.9,
        beta_2=0.98,
        epsilon=1e-9,
        global_clipnorm=train_config.clipnorm,
        gradient_accumulation_steps=accumulate if accumulate > 1 else None,
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


@dataclasses.dataclass
class PreparedData:
    """The splits, the tokenizers learnt from the training split, and the configs with every
    setting left to the rule chosen (`keras_transformer.training.defaults`)."""

    splits: Splits
    source: Tokenizer
    target: Tokenizer
    train_config: TrainConfig
    model_config: TransformerConfig


def _some_pairs(splits, count=2000):
    """Up to `count` training pairs: the first ones, or the tokenizer sample's if streamed."""
    pairs = splits.sample if splits.streamed else splits.train
    return list(pairs[:count])


def resolve_configs(train_config, model_config, splits, model_overrides=None,
                    pairs_per_batch=None, log=True):  # fmt: skip
    """The configs with their unset settings chosen for `splits` (logged when `log`)."""
    train_pairs = len(splits.train)
    train_config, notes = defaults.resolve(train_config, train_pairs, pairs_per_batch)
    if splits.rule is not None:
        for name in ("validation_fraction", "test_fraction"):
            if getattr(train_config, name) is None:
                value = getattr(splits.rule, name)
                train_config = train_config.replace(**{name: value})
                notes.append((name, value, "5 % up to 100k lines, then ~5000 pairs"))
    if train_config.bleu_tokenize is None:
        tokenize = choose_bleu_tokenize([t for _, t in _some_pairs(splits)])
        train_config = train_config.replace(bleu_tokenize=tokenize)
        notes.append(("bleu_tokenize", tokenize, "the script of the targets"))
    model_reason = None
    if model_config is None:
        model_config = defaults.choose_model(train_config, train_pairs)
        model_reason = f"{train_pairs} training pairs"
        if train_config.time_budget is not None:
            model_reason += f", a {train_config.time_budget:g}-minute budget"
    model_config = model_config.replace(**(model_overrides or {}))
    if train_config.learning_rate_scale is None:
        scale = defaults.learning_rate_scale(train_config, model_config)
        train_config = train_config.replace(learning_rate_scale=scale)
        reason = "the paper's" if scale == 1 else f"peak {defaults.PEAK_LEARNING_RATE:g}"
        notes.append(("learning_rate_scale", scale, reason))
    if log:
        defaults.log_choices(notes, model_config, model_reason)
    return train_config, model_config


def pairs_per_token_batch(pairs, tokenizer, target_tokenizer, sequence_length, batch_tokens):
    """The mean number of pairs in a batch of about `batch_tokens` tokens, from the
    tokenized lengths of `pairs` (a sample)."""
    boundaries = default_bucket_boundaries(sequence_length)
    sizes = token_batch_sizes(batch_tokens, boundaries, sequence_length)
    sources = tokenizer.tokenize([s for s, _ in pairs]).row_lengths().numpy()
    targets = target_tokenizer.tokenize([t for _, t in pairs]).row_lengths().numpy() + 1
    lengths = np.minimum(np.maximum(sources, targets), sequence_length)
    buckets = np.searchsorted(boundaries, lengths, side="right")
    return float(1.0 / np.mean(1.0 / np.array(sizes)[buckets]))


def prepare_data(train_config, model_config=None, model_overrides=None):
    """Reads and splits the corpus (or surveys it, when it is streamed), chooses the unset
    settings, and learns the tokenizers from the training split only (one joint tokenizer
    when the embeddings are shared), or from a seeded sample of it.

    Returns:
        `PreparedData`; its `model_config` has the tokenizers' vocabulary sizes.
    """
    given, given_model = train_config, model_config
    shared = (model_overrides or {}).get(
        "share_embeddings",
        model_config.share_embeddings if model_config else train_config.corpus != "dates",
    )
    # A joint tokenizer learns from both sides: half as many pairs give the sample's sentences.
    sample_pairs = train_config.tokenizer_sample // (2 if shared else 1)
    splits = load_corpus(
        train_config.corpus,
        train_size=train_config.train_size,
        validation_size=train_config.validation_size,
        test_size=train_config.test_size,
        validation_fraction=train_config.validation_fraction,
        test_fraction=train_config.test_fraction,
        skip_malformed=train_config.skip_malformed,
        seed=train_config.seed,
        sample_pairs=sample_pairs,
    )
    tokens_later = train_config.batch_tokens is not None
    train_config, model_config = resolve_configs(
        train_config, model_config, splits, model_overrides, log=not tokens_later
    )
    options = dict(
        vocabulary_size=train_config.max_vocabulary_size,
        lower_case=train_config.lower_case,
        model_type=train_config.sentencepiece_model,
        sample_size=train_config.tokenizer_sample,
        seed=train_config.seed,
    )
    kind = train_config.tokenizer
    pairs = splits.sample if splits.streamed else splits.train
    started = time.perf_counter()
    if model_config.share_embeddings:
        joint = [text for pair in pairs for text in pair]
        source = target = learn_tokenizer(kind, joint, **options)
    else:
        source = learn_tokenizer(kind, [s for s, _ in pairs], **options)
        target = learn_tokenizer(kind, [t for _, t in pairs], **options)
    logger.info(
        "Learnt the %s tokenizer%s in %.0f s from %d pairs: %d%s tokens.",
        kind, "" if source is target else "s", time.perf_counter() - started, len(pairs),
        source.vocabulary_size,
        "" if source is target else f" + {target.vocabulary_size}",
    )  # fmt: skip
    if tokens_later:  # the steps per epoch need the pairs per batch, from tokenized lengths
        per_batch = pairs_per_token_batch(
            _some_pairs(splits), source, target, model_config.sequence_length,
            train_config.batch_tokens,
        )  # fmt: skip
        # The rule gives the same tokenizer and model again (they depend on the pair count).
        train_config, model_config = resolve_configs(
            given, given_model, splits, model_overrides, pairs_per_batch=per_batch
        )
    model_config = sized_config(model_config, source, target)
    if splits.streamed:  # the sample has served; keep a few pairs for estimates, not all
        splits = dataclasses.replace(splits, sample=splits.sample[:2000])
    return PreparedData(splits, source, target, train_config, model_config)


def sized_config(model_config, source, target):
    """`model_config` with the vocabulary sizes of the tokenizers."""
    return model_config.replace(
        vocabulary_size=source.vocabulary_size,
        target_vocabulary_size=None if model_config.share_embeddings else target.vocabulary_size,
    )


def _prepare_run(model_config, train_config, overwrite, model_overrides=None):
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
        if splits.streamed:
            splits.train.check_unchanged(f"the run in {run_dir}")
        _check_resumable(run_dir, saved_model, saved_train, model_config, train_config,
                         model_overrides)  # fmt: skip
        train_config = saved_train.replace(
            epochs=train_config.epochs or saved_train.epochs, time_budget=train_config.time_budget
        )
        logger.info("Resuming the unfinished run in %s.", run_dir)
        return run_dir, saved_model, train_config, source, target, splits

    data = prepare_data(train_config, model_config, model_overrides)
    release_free_memory()
    run_dir.mkdir(parents=True, exist_ok=True)
    data.splits.save(run_dir / "splits")
    data.source.save(run_dir / "source_tokenizer.json")
    data.target.save(run_dir / "target_tokenizer.json")
    data.train_config.to_json(run_dir / "train_config.json")
    data.model_config.to_json(run_dir / "config.json")  # last: its presence marks a prepared run
    return run_dir, data.model_config, data.train_config, data.source, data.target, data.splits


# May differ when a run resumes: the length of the run, and where it is.
_RESUMABLE = ("epochs", "time_budget", "out")


def _check_resumable(run_dir, saved_model, saved_train, model_config, train_config, overrides):
    """Raises unless the settings given (None = chosen by the rule) are the saved run's."""
    differ = [
        f"--{name.replace('_', '-')} {getattr(train_config, name)!r} (the run has "
        f"{getattr(saved_train, name)!r})"
        for name in (f.name for f in dataclasses.fields(TrainConfig))
        if name not in _RESUMABLE
        and getattr(train_config, name) is not None
        and getattr(train_config, name) != getattr(saved_train, name)
    ]
    sizes = {"vocabulary_size": saved_model.vocabulary_size,
             "target_vocabulary_size": saved_model.target_vocabulary_size}  # fmt: skip
    wanted = (model_config or saved_model).replace(**(overrides or {}), **sizes)
    if wanted != saved_model:
        differ.append("the model's settings")
    if differ:
        raise ValueError(
            f"{run_dir} holds an unfinished run with other settings: {'; '.join(differ)}. "
            "Resume it with the same settings (only --epochs and --time-budget may change), "
            "or pass --overwrite, or choose another --out."
        )


def train(model_config, train_config, overwrite=False, callbacks=(), verbose="auto",
          model_overrides=None):  # fmt: skip
    """Trains a Transformer with `model.fit` and writes the run directory.

    Settings left unset (None) in `train_config`, and the model when `model_config` is None,
    are chosen for the corpus by `keras_transformer.training.defaults` (and logged). Each
    epoch a validation sample is decoded and scored (`val_bleu`, `val_chrf`); the weights
    that score best are kept, or the average of the last epochs if it scores better.

    Args:
        model_config: `TransformerConfig`, or None to choose one for the corpus. Its
            vocabulary sizes are replaced by those of the tokenizers learnt from the training
            split.
        train_config: `TrainConfig`.
        overwrite: bool. Replace a finished run in `train_config.out`. Defaults to `False`.
        callbacks: extra Keras callbacks.
        verbose: `model.fit` verbosity. Defaults to `"auto"` (progress bars).
        model_overrides: dict of `TransformerConfig` fields that replace those of the chosen
            (or given) model.

    Returns:
        `TrainResult`.

    Raises:
        FileExistsError: `train_config.out` holds a finished run and `overwrite` is False.
        ValueError: it holds an unfinished run with other settings.
    """
    started = time.perf_counter()
    clock = TrainingClock.now()
    # First: MultiWorkerMirroredStrategy must exist before any other TensorFlow op runs.
    strategy = choose_strategy(train_config.strategy)
    is_chief, worker = worker_identity(strategy)
    if not is_chief:
        worker_dir = pathlib.Path(train_config.out) / "workers" / worker
        train_config = train_config.replace(out=str(worker_dir))
    run_dir, model_config, train_config, source, target, splits = _prepare_run(
        model_config, train_config, overwrite, model_overrides
    )
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision_policy(train_config.mixed_precision))
    try:
        keras.utils.set_random_seed(train_config.seed)
        batching = dict(
            batch_size=train_config.batch_size,
            batch_tokens=train_config.batch_tokens,
            seed=train_config.seed,
            padding=train_config.padding,
        )
        length = model_config.sequence_length
        train_data = make_dataset(splits.train, source, target, length, shuffle=True,
                                  shard=input_shard(strategy), **batching)  # fmt: skip
        if train_config.steps_per_epoch:
            train_data = train_data.repeat()
        validation_data = None
        if splits.validation:
            validation_data = make_dataset(
                splits.validation, source, target, length, shuffle=False, **batching
            )
        with strategy.scope():
            model = compile_model(build_transformer(model_config), model_config, train_config)
        checkpoints = GoodCheckpoint(run_dir / "checkpoints")
        history = HistoryFile(run_dir / "history.json")
        selection = ValidationScores(
            splits.validation,
            source,
            target,
            run_dir / "checkpoints",
            metric=train_config.selection_metric,
            sample_size=train_config.validation_sample if is_chief else 0,
            patience=train_config.early_stopping_patience,
            bleu_tokenize=train_config.bleu_tokenize,
        )
        timer = TrainingClock(train_config.time_budget, train_config.budget_clock, clock)
        run_callbacks = [
            # Kept when fit ends: removed only once run.json marks the run finished, so a
            # crash while the model is saved resumes at the end instead of from scratch.
            keras.callbacks.BackupAndRestore(str(run_dir / "backup"), delete_checkpoint=False),
            keras.callbacks.TerminateOnNaN(),
            selection,
            timer,
            checkpoints,
            history,
            keras.callbacks.TensorBoard(str(run_dir / "logs"), profile_batch=0),
        ]
        watch = None
        if splits.streamed:
            watch = InputWatch(splits.train.fingerprints)
            run_callbacks.append(watch)
            if not train_config.steps_per_epoch:
                estimate = _estimated_batches(splits, source, target, length, train_config)
                logger.info("An epoch is one pass over the training split: about %d batches.",
                            estimate)  # fmt: skip
                run_callbacks.append(EstimatedProgbar(estimate))
        input_error = None
        try:
            model.fit(
                train_data,
                validation_data=validation_data,
                epochs=train_config.epochs,
                steps_per_epoch=train_config.steps_per_epoch,
                callbacks=run_callbacks + list(callbacks),
                shuffle=False,  # the dataset shuffles itself, before length bucketing
                verbose=verbose,
            )
        except tf.errors.DataLossError as error:
            if not splits.streamed:
                raise
            input_error = _describe_data_loss(splits.train, error)
            logger.error("Stopping: %s", input_error)
        if watch is not None and watch.change:
            input_error = f"the corpus changed during training: {watch.change}"
        metrics = history.epochs[-1] if history.epochs else {}
        status = "finished" if input_error is None else "input_error"
        kept = "last"
        if input_error is not None:
            if selection.best_weights is not None:
                model.load_weights(selection.best_weights)
                kept = f"best epoch {selection.best_epoch}"
        elif not math.isfinite(metrics.get("loss", math.nan)):
            status = "diverged"
            if checkpoints.last_good is not None:
                model.load_weights(checkpoints.last_good)
            logger.warning("Training diverged; the model keeps the last good checkpoint.")
        elif validation_data is not None:
            kept = _keep_best(model, selection, checkpoints, train_config.average_last)
        _save_model(model, run_dir / "model.keras")
        if history.epochs:
            plot_training_curves(history.epochs, run_dir / "training_curves.png")
    finally:
        keras.config.set_dtype_policy(previous_policy)
    seconds = time.perf_counter() - started
    epochs = len(history.epochs)
    status_record = {"status": status, "epochs": epochs, "seconds": seconds, "kept": kept,
                     "metrics": metrics, "time_budget_spent": timer.stopped}  # fmt: skip
    if input_error is not None:
        status_record["error"] = input_error
    temporary = run_dir / "run.json.tmp"
    temporary.write_text(json.dumps(status_record))
    temporary.replace(run_dir / "run.json")
    shutil.rmtree(run_dir / "backup", ignore_errors=True)
    logger.info("Kept weights: %s.", kept)
    if input_error is not None:
        raise ValueError(
            f"Training stopped: {input_error}. What was trained until then is kept in "
            f"{run_dir / 'model.keras'} ({kept}); `evaluate` refuses the run while its files "
            "differ from the fingerprints in splits/corpus.json. Restore the files, or train a "
            "new run on the new corpus."
        )
    return TrainResult(run_dir, status, epochs, seconds, metrics, kept)


def _estimated_batches(splits, source, target, length, train_config):
    """Batches in one pass over a streamed training split, from its pair count."""
    per_batch = train_config.batch_size
    if train_config.batch_tokens:
        pairs = _some_pairs(splits) or splits.validation[:2000]
        per_batch = pairs_per_token_batch(pairs, source, target, length, train_config.batch_tokens)
    return max(1, math.ceil(len(splits.train) / per_batch))


def _describe_data_loss(stream, error):
    """What a tf.data `DataLossError` means for a streamed corpus (a truncated gzip file)."""
    for path in stream.files:
        offset = truncation_offset(path) if is_gzip(path) else None
        if offset is not None:
            return (f"{path}: the gzip data is truncated at byte {offset} (the file changed "
                    "or was cut after training started)")  # fmt: skip
    return f"reading the corpus failed: {error.message.splitlines()[0]}"


def _keep_best(model, selection, checkpoints, average_last):
    """Loads the best epoch's weights, or the average of the last `average_last` epochs when
    it scores better on the validation sample. Returns what was kept."""
    kept = "last"
    if selection.best_weights is not None:
        model.load_weights(selection.best_weights)
        score = f"val_{selection.metric} {selection.best_score:.2f}"
        kept = f"best epoch {selection.best_epoch} ({score})"
    last = checkpoints.all()[-average_last:] if average_last and average_last > 1 else []
    if len(last) > 1 and selection.metric != "loss":
        best_weights = model.get_weights()
        average_weights(model, last)
        score = selection.score(model)[f"val_{selection.metric}"]
        if selection.better(score, selection.best_score):
            logger.info(
                "The average of the last %d epochs scores val_%s %.2f (best epoch: %.2f): kept.",
                len(last), selection.metric, score, selection.best_score,
            )  # fmt: skip
            return f"average of the last {len(last)} epochs (val_{selection.metric} {score:.2f})"
        logger.info(
            "The average of the last %d epochs scores val_%s %.2f, not better than %.2f.",
            len(last), selection.metric, score, selection.best_score,
        )  # fmt: skip
        model.set_weights(best_weights)
    return kept


def _save_model(model, path):
    temporary = path.with_name("model.tmp.keras")
    model.save(temporary)
    temporary.replace(path)
