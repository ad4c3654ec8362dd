"""`Run`: one run directory, what it holds and every read and write of it.

`train` creates a run (or resumes an unfinished one); `evaluate`, `translate`, `export` and
`tune` open one. A run directory holds:

- `config.json`, `train_config.json`: the model and training settings (the rule's choices
  written out); `config.json` is written last when a run is prepared, so its presence marks
  a prepared run.
- `source_tokenizer.json`, `target_tokenizer.json`: the tokenizers learnt for the run.
- `splits/`: copies of the data splits, or for a streamed corpus `corpus.json` (its files'
  fingerprints and the split rule).
- `checkpoints/`: each epoch's weights and the best epoch's.
- `backup/`: Keras `BackupAndRestore` state while training (removed once `run.json` marks the
  run finished), so re-running the same command resumes.
- `logs/` (TensorBoard), `history.json`, `training_curves.png`.
- `model.keras`: the kept weights; `run.json`: the completion record (status, epochs, what was
  kept), written last.

Every file is written atomically (`keras_transformer.atomic`). Under `--strategy multiworker`
every worker but the chief writes its own run in `workers/<task>-<index>/` inside the chief's.
"""

import dataclasses
import functools
import json
import pathlib
import shutil

import keras

from keras_transformer.atomic import atomic_path, write_json
from keras_transformer.data.corpus import Splits
from keras_transformer.data.tokenizers import Tokenizer
from keras_transformer.models import TransformerConfig

# What a run directory holds; `overwrite=True` removes exactly these, nothing else.
RUN_FILES = (
    "config.json", "train_config.json", "source_tokenizer.json", "target_tokenizer.json",
    "splits", "checkpoints", "backup", "logs", "history.json", "training_curves.png",
    "model.keras", "run.json",
)  # fmt: skip

# Settings that may differ when a run resumes: its length and where it is.
RESUMABLE = ("epochs", "time_budget", "out")


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
        """The run directory `train` writes to: empty, or an unfinished run to resume.

        Raises:
            FileExistsError: `directory` holds a finished (or stopped) run and `overwrite`
                is False. With `overwrite`, the run's files (`RUN_FILES`) are removed and
                nothing else in the directory is touched.
        """
        run = cls(directory)
        if run.status is not None and not overwrite:
            raise FileExistsError(
                f"{run.directory} holds a {run.status.get('status')} run. Pass "
                "overwrite=True (CLI: --overwrite) to replace it, or choose another --out."
            )
        if overwrite:
            for name in RUN_FILES:
                path = run.directory / name
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
            run._forget()
        return run

    def prepare(self, model_config, train_config, source_tokenizer, target_tokenizer, splits):
        """Writes what a prepared run holds; `config.json` last (it marks the run prepared)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        splits.save(self.directory / "splits")
        source_tokenizer.save(self.directory / "source_tokenizer.json")
        target_tokenizer.save(self.directory / "target_tokenizer.json")
        train_config.to_json(self.directory / "train_config.json")
        model_config.to_json(self.directory / "config.json")
        self._forget()
        self.__dict__.update(
            model_config=model_config,
            train_config=train_config,
            source_tokenizer=source_tokenizer,
            target_tokenizer=target_tokenizer,
            splits=splits,
        )

    def _forget(self):
        for name in ("model_config", "train_config", "source_tokenizer", "target_tokenizer",
                     "splits", "status"):  # fmt: skip
            self.__dict__.pop(name, None)

    # === What the run holds ===

    @property
    def prepared(self):
        return (self.directory / "config.json").is_file()

    @functools.cached_property
    def model_config(self):
        return TransformerConfig.from_json(self.directory / "config.json")

    @functools.cached_property
    def train_config(self):
        from keras_transformer.training.config import TrainConfig  # training imports Run

        return TrainConfig.from_json(self.directory / "train_config.json")

    @functools.cached_property
    def source_tokenizer(self):
        return Tokenizer.load(self.directory / "source_tokenizer.json")

    @functools.cached_property
    def target_tokenizer(self):
        return Tokenizer.load(self.directory / "target_tokenizer.json")

    @functools.cached_property
    def splits(self):
        return Splits.load(self.directory / "splits")

    @functools.cached_property
    def status(self):
        """The completion record in `run.json` (a dict), or None while unfinished."""
        path = self.directory / "run.json"
        return json.loads(path.read_text()) if path.is_file() else None

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
    def curves(self):
        return self.directory / "training_curves.png"

    # === The model ===

    def load_model(self):
        """The trained model (`model.keras`), without its optimizer state.

        A run saved before models were `Transformer` instances (a plain functional model)
        gets its weights loaded into a `Transformer` built from `config.json`.
        """
        from keras_transformer.models import Transformer

        if not self.model_path.is_file():
            raise FileNotFoundError(
                f"{self.directory} has no trained model (model.keras); train one with "
                f"`keras-transformer train --out {self.directory}` or let the run finish."
            )
        model = keras.saving.load_model(self.model_path, compile=False)
        if not isinstance(model, Transformer):
            rebuilt = Transformer(self.model_config)
            rebuilt.set_weights(model.get_weights())
            model = rebuilt
        return model

    def save_model(self, model):
        with atomic_path(self.model_path) as temporary:
            model.save(temporary)

    def translator(self, step=None):
        """A `Translator` with the run's model and tokenizers (`step`: its step maker,
        `decoding.steps.cached_step` when None)."""
        from keras_transformer.decoding import Translator, cached_step

        return Translator(self.load_model(), self.source_tokenizer, self.target_tokenizer,
                          step=step or cached_step)  # fmt: skip

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
        sizes = {"vocabulary_size": saved_model.vocabulary_size,
                 "target_vocabulary_size": saved_model.target_vocabulary_size}  # fmt: skip
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
