"""`Run`: one run directory, what it holds and every read and write of it.

`train` creates a run (or resumes an unfinished one); `evaluate`, `translate`, `export` and
`tune` open one. A run directory holds:

- `config.json`, `train_config.json`: the model and training settings (the rule's choices
  written out); `config.json` is written last when a run is prepared, so its presence marks
  a prepared run.
- `source_tokenizer.json`, `target_tokenizer.json`: the tokenizers learnt for a translation
  run; `tokenizer.json` the one tokenizer of a language-model or classifier run.
- `labels.json`: a classifier run's labels (a label's index is its class id) and their
  counts in the training split.
- `splits/`: copies of the data splits (`.tsv` for translation, `.jsonl` for the other
  tasks), or for a streamed corpus `corpus.json` (its files' fingerprints and the split
  rule).
- `checkpoints/`: each epoch's weights and the best epoch's.
- `backup/`: Keras `BackupAndRestore` state while training (removed once `run.json` marks the
  run finished), so re-running the same command resumes.
- `logs/` (TensorBoard), `history.json`, `training_curves.png`.
- `model.keras`: the kept weights; `run.json`: the completion record (status, epochs, what was
  kept), written last.

Every file is written atomically (`keras_transformer.atomic`). Under `--strategy multiworker`
every worker but the chief writes its own run in `workers/<task>-<index>/` inside the chief's.

`.keras-transformer-run`, written first when a run is prepared, marks the directory as a run:
`train` writes only into a new or empty directory or a run, and `--overwrite` replaces only a
run's own files (`RUN_FILES`), and only once the new run's data is read and its settings
checked. A file of the run that cannot be read raises `DamagedRunFileError`, naming it.
"""

import collections
import dataclasses
import functools
import json
import pathlib
import shutil

import keras

from keras_transformer import tasks
from keras_transformer.atomic import atomic_path, remove_stale_temporaries, write_json
from keras_transformer.data.tokenizers import Tokenizer
from keras_transformer.reading import DamagedRunFileError, reading
from keras_transformer.run_marker import RUN_MARKER, is_run

__all__ = ["RUN_FILES", "RUN_MARKER", "DamagedRunFileError", "Run", "reading"]

# What a run directory holds; `overwrite=True` removes exactly these, nothing else.
RUN_FILES = (
    "config.json", "train_config.json", "source_tokenizer.json", "target_tokenizer.json",
    "tokenizer.json", "labels.json", "splits", "checkpoints", "backup", "logs", "history.json",
    "training_curves.png", "model.keras", "run.json", "confusion_matrix_train.png",
    "confusion_matrix_validation.png", "confusion_matrix_test.png", "accounting.json",
    "workers", RUN_MARKER,
)  # fmt: skip
# The directories of a run whose atomic writes a killed process may have left half-done.
_WRITTEN_DIRECTORIES = (".", "splits", "checkpoints", "backup")
# What to do about a damaged file, by file (the rest of the run cannot be used without it).
_RETRAIN = "train the run again: `keras-transformer train ... --out {dir} --overwrite`"

# Settings that may differ when a run resumes: its length and where it is.
RESUMABLE = ("epochs", "time_budget", "out")
# Model fields the data decides (the tokenizers' vocabularies, the labels).
_DATA_FIELDS = ("vocabulary_size", "target_vocabulary_size", "num_classes", "segments")


class Run:
    """A run directory. Open an existing one with `Run.open(path)`; `train` makes them with
    `Run.create(path, overwrite)` and `prepare(...)`.

    What the run holds is read once, when first used: `model_config`, `train_config`,
    `source_tokenizer`, `target_tokenizer`, `splits`, `status`.

    Example:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Run.open(tmp)
    Traceback (most recent call last):
    ...
    FileNotFoundError: ... is not a run directory (no config.json); train one with ...
    """

    replacing = False  # `create(..., overwrite=True)` found a run that `prepare` replaces

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)

    def __repr__(self):
        return f"Run({str(self.directory)!r})"

    # === Opening and creating ===

    @classmethod
    def open(cls, directory):
        """The prepared run in `directory`. Raises FileNotFoundError if there is none."""
        run = cls(directory)
        if not run.prepared:
            raise FileNotFoundError(
                f"{run.directory} is not a run directory (no config.json); train one with "
                f"`keras-transformer train --out {run.directory}`."
            )
        return run

    @classmethod
    def create(cls, directory, overwrite=False):
        """The run directory `train` writes to: new, empty, or a run (an unfinished one is
        resumed; a finished one is replaced only with `overwrite`).

        Nothing is removed here: with `overwrite`, `prepare` replaces the run's files
        (`RUN_FILES`, nothing else) once the new run's data is ready, so a new run that fails
        before that leaves the old one whole.

        Raises:
            FileExistsError: `directory` is a file, or a directory of other files (not a run:
                nothing is written into it), or holds a finished (or stopped) run and
                `overwrite` is False.
            DamagedRunFileError: its `run.json` is damaged and `overwrite` is False.
        """
        run = cls(directory)
        if not run.directory.exists():
            return run
        if not run.directory.is_dir():
            raise FileExistsError(
                f"--out {run.directory} is a file, not a directory; choose another --out."
            )
        if not run.is_run:
            run._check_empty()
            return run
        if overwrite:
            run.replacing = True
            return run
        if run.status is not None:
            raise FileExistsError(
                f"{run.directory} holds a {run.status.get('status')} run. Pass "
                "overwrite=True (CLI: --overwrite) to replace it, or choose another --out."
            )
        run._remove_stale_temporaries()
        return run

    def prepare(self, model_config, train_config, source_tokenizer, target_tokenizer, splits,
                labels=None):  # fmt: skip
        """Writes what a prepared run holds; `config.json` last (it marks the run prepared).

        A language-model or classifier run has one tokenizer (`source_tokenizer`;
        `target_tokenizer` is None), written as `tokenizer.json`; a classifier run its
        `labels`, written with their training counts in `labels.json`.
        """
        self._replace_files()
        splits.save(self.directory / "splits")
        if target_tokenizer is None:
            source_tokenizer.save(self.directory / "tokenizer.json")
        else:
            source_tokenizer.save(self.directory / "source_tokenizer.json")
            target_tokenizer.save(self.directory / "target_tokenizer.json")
        if labels is not None:
            counts = getattr(splits, "label_counts", None) or collections.Counter(
                example[-1] for example in splits.train
            )
            record = {"labels": list(labels), "train_counts": [counts[x] for x in labels]}
            write_json(self.directory / "labels.json", record)
        train_config.to_json(self.directory / "train_config.json")
        model_config.to_json(self.directory / "config.json")
        self._forget()
        self.__dict__.update(
            model_config=model_config,
            train_config=train_config,
            source_tokenizer=source_tokenizer,
            target_tokenizer=target_tokenizer,
            splits=splits,
            labels=labels,
        )

    def _replace_files(self):
        """Makes `directory` a run with none of a run's files yet: the marker first, after
        removing the files of the run it held (its other files stay)."""
        if self.directory.exists() and not self.is_run:
            self._check_empty()
        elif self.directory.exists():
            # The workers' runs of a multi-worker run go only with the whole run: they may
            # be in progress while the chief prepares.
            kept = () if self.replacing else ("workers",)
            for name in (n for n in RUN_FILES if n not in kept):
                path = self.directory / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                elif path.exists() or path.is_symlink():
                    path.unlink()
            self._remove_stale_temporaries()
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / RUN_MARKER).write_text(
            "This directory is a keras-transformer run: `train --overwrite` replaces the run's "
            "files here, and no others.\n"
        )
        self.replacing = False

    def _check_empty(self):
        """Raises FileExistsError naming what `directory` (not a run) holds, unless it is
        empty but for the `workers/` of a multi-worker run starting."""
        found = sorted(p.name for p in self.directory.iterdir())
        workers = self.directory / "workers"
        if found == ["workers"] and all(
            Run(w).is_run or not any(w.iterdir()) for w in workers.iterdir() if w.is_dir()
        ):
            found = []
        if found:
            listed = ", ".join(found[:8]) + (f" and {len(found) - 8} more" if found[8:] else "")
            raise FileExistsError(
                f"--out {self.directory} is not a run directory (no {RUN_MARKER}) and not "
                f"empty: it holds {listed}. Nothing was written; choose a new or empty "
                "directory for --out (--overwrite replaces only runs)."
            )

    def _remove_stale_temporaries(self):
        for name in _WRITTEN_DIRECTORIES:
            remove_stale_temporaries(self.directory / name)

    def _forget(self):
        for name in ("model_config", "train_config", "source_tokenizer", "target_tokenizer",
                     "splits", "status", "labels"):  # fmt: skip
            self.__dict__.pop(name, None)

    # === What the run holds ===

    @property
    def prepared(self):
        return (self.directory / "config.json").is_file()

    @property
    def is_run(self):
        """Whether `directory` is a run: it has the marker, or (a run written before the
        marker) a `config.json` and a `train_config.json` with a run's settings."""
        return is_run(self.directory)

    def _reading(self, name, fix=_RETRAIN):
        return reading(self.directory / name, fix.format(dir=self.directory))

    @property
    def task(self):
        """The name of the run's task (`keras_transformer.tasks`): its `train_config.json`
        says; a directory with a model and its `config.json` but no `train_config.json`
        holds a model of the default task (translation)."""
        if not (self.directory / "train_config.json").is_file():
            return tasks.default().name
        return self.train_config.task

    @functools.cached_property
    def model_config(self):
        config_class = tasks.get(self.task).config_class
        with self._reading("config.json"):
            return config_class.from_json(self.directory / "config.json")

    @functools.cached_property
    def train_config(self):
        from keras_transformer.training.config import TrainConfig  # training imports Run

        with self._reading("train_config.json"):
            return TrainConfig.from_json(self.directory / "train_config.json")

    @property
    def _tokenizer_files(self):
        """The run's tokenizer files: a source and a target one, or its one tokenizer."""
        pair = ("source_tokenizer.json", "target_tokenizer.json")
        if tasks.get(self.task).tokenizers == 2:
            return pair
        return ("tokenizer.json",)

    @functools.cached_property
    def source_tokenizer(self):
        """The tokenizer of the model's inputs (a translation run's source side, the one
        tokenizer of another task's run)."""
        name = self._tokenizer_files[0]
        with self._reading(name):
            return Tokenizer.load(self.directory / name)

    @property
    def tokenizer(self):
        """A run's one tokenizer (`source_tokenizer`)."""
        return self.source_tokenizer

    @functools.cached_property
    def target_tokenizer(self):
        """The tokenizer of the model's outputs (a run with two tokenizers)."""
        if len(self._tokenizer_files) < 2:
            raise ValueError(
                f"{self.directory} is a run of task {self.task!r}: it has one tokenizer "
                "(`tokenizer`), no target tokenizer."
            )
        with self._reading(self._tokenizer_files[1]):
            return Tokenizer.load(self.directory / self._tokenizer_files[1])

    @functools.cached_property
    def labels(self):
        """A classifier run's labels (a label's index is its class id)."""
        if not tasks.get(self.task).labelled:
            raise ValueError(
                f"{self.directory} is a run of task {self.task!r}: it has no labels "
                "(labels.json); only a classifier run has."
            )
        with self._reading("labels.json"):
            labels = json.loads((self.directory / "labels.json").read_text(encoding="utf-8"))
            if not isinstance(labels.get("labels"), list):
                raise ValueError("no list of labels")
            return labels["labels"]

    @functools.cached_property
    def splits(self):
        with self._reading("splits"):
            return tasks.get(self.task).load_splits(self.directory / "splits")

    @functools.cached_property
    def status(self):
        """The completion record in `run.json` (a dict), or None while unfinished."""
        path = self.directory / "run.json"
        if not path.is_file():
            return None
        fix = (
            "the run's record of how training ended is lost; replace the run with "
            f"`keras-transformer train ... --out {self.directory} --overwrite`"
        )
        with reading(path, fix):
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or "status" not in record:
                raise ValueError("no status")
            return record

    # === Paths ===

    @property
    def model_path(self):
        return self.directory / "model.keras"

    @property
    def checkpoints(self):
        return self.directory / "checkpoints"

    @property
    def backup(self):
        return self.directory / "backup"

    @property
    def logs(self):
        return self.directory / "logs"

    @property
    def history(self):
        return self.directory / "history.json"

    @property
    def accounting(self):
        return self.directory / "accounting.json"

    @property
    def curves(self):
        return self.directory / "training_curves.png"

    # === The model ===

    def load_model(self):
        """The trained model (`model.keras`), without its optimizer state.

        A run saved before models were `Transformer` instances (a plain functional model)
        gets its weights loaded into a `Transformer` built from `config.json`.
        """
        model_class = tasks.get(self.task).model_class
        if not self.model_path.is_file():
            raise FileNotFoundError(
                f"{self.directory} has no trained model (model.keras); train one with "
                f"`keras-transformer train --out {self.directory}` or let the run finish."
            )
        with self._reading("model.keras"):
            model = keras.saving.load_model(self.model_path, compile=False)
        if not isinstance(model, model_class):
            rebuilt = model_class(self.model_config)
            rebuilt.set_weights(model.get_weights())
            model = rebuilt
        return model

    def save_model(self, model):
        with atomic_path(self.model_path) as temporary:
            model.save(temporary)

    # === Resuming and finishing ===

    def check_resumable(self, model_config, train_config, model_overrides=None):
        """Raises ValueError unless the settings given (None = left to the rule) are the
        saved run's, except those in `RESUMABLE`."""
        from keras_transformer.training.config import TrainConfig

        saved_model, saved_train = self.model_config, self.train_config
        differ = [
            f"--{name.replace('_', '-')} {getattr(train_config, name)!r} (the run has "
            f"{getattr(saved_train, name)!r})"
            for name in (f.name for f in dataclasses.fields(TrainConfig))
            if name not in RESUMABLE
            and getattr(train_config, name) is not None
            and getattr(train_config, name) != getattr(saved_train, name)
        ]
        if train_config.task != self.task:
            differ.append(f"--task {train_config.task!r} (the run has {self.task!r})")
            model_config = None
        sizes = {f: getattr(saved_model, f) for f in _DATA_FIELDS if hasattr(saved_model, f)}
        wanted = (model_config or saved_model).replace(**(model_overrides or {}), **sizes)
        if wanted != saved_model:
            differ.append("the model's settings")
        if differ:
            raise ValueError(
                f"{self.directory} holds an unfinished run with other settings: "
                f"{'; '.join(differ)}. Resume it with the same settings (only --epochs and "
                "--time-budget may change), or pass --overwrite, or choose another --out."
            )

    def finish(self, record):
        """Writes `run.json` (the run is finished, or stopped, as `record["status"]` says)
        and only then removes `backup/`, so a crash before this resumes at the end."""
        write_json(self.directory / "run.json", record)
        self.__dict__["status"] = record
        shutil.rmtree(self.backup, ignore_errors=True)
