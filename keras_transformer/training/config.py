"""`TrainConfig`: everything about a training run that is not the model's shape."""

import dataclasses

from keras_transformer.data.pipeline import PADDINGS
from keras_transformer.data.tokenizers import DEFAULT_SAMPLE_SIZE, KINDS, SENTENCEPIECE_MODELS
from keras_transformer.evaluation.scores import BLEU_TOKENIZATIONS
from keras_transformer.json_config import JsonConfig
from keras_transformer.layers.validation import (
    check_fraction,
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
)
from keras_transformer.training.devices import STRATEGIES


@dataclasses.dataclass(frozen=True)
class TrainConfig(JsonConfig):
    """Data, optimization and run-directory settings of `train()`.

    A field left as None is chosen for the corpus by `keras_transformer.training.defaults`
    (the rule is printed when training starts).

    Example:

    >>> config = TrainConfig(corpus="dates", out="runs/dates", epochs=3)
    >>> TrainConfig.from_json(config.to_json()) == config
    True
    """

    # What the run trains: "translate" (a Transformer), "lm" (a decoder-only language model)
    # or "classify" (an encoder classifier).
    task: str = "translate"
    # translate: "dates" (built in), or TSV files of "source<TAB>target" lines: a path, a glob,
    # or a list of them, each plain or gzip'd (.gz); above 200k lines the corpus is streamed.
    # lm: "python-docs" (built in) or text files, documents one per line or separated by blank
    # lines. classify: "date-validity" (built in) or TSV files of "text<TAB>label" (or
    # "text_a<TAB>text_b<TAB>label") lines. None: the task's built-in corpus.
    corpus: str | tuple | None = None
    # The run directory: tokenizers, checkpoints, logs, history, the final model.
    out: str = "runs/dates"
    # Passes over the training split (None: about 30k steps, 5-100 epochs; 10 for dates).
    epochs: int | None = None
    # Sentence pairs per batch (None: 64 under 100k pairs, 128 under 1M, else 256).
    batch_size: int | None = None
    # Batches of about this many tokens (each length bucket's longest length times its pairs)
    # instead of batch_size pairs; the paper used ~25k source + 25k target tokens.
    batch_tokens: int | None = None
    # Average the gradients of this many batches per optimizer update (a K times larger
    # effective batch on one device); warm-up, epochs and steps count updates.
    accumulate_gradients: int = 1
    # "bucketed": batches of similar lengths, each padded to its longest pair; "fixed": every
    # batch padded to the model's sequence_length.
    padding: str = "bucketed"
    # Optimizer steps per epoch; None = one pass over the training split.
    steps_per_epoch: int | None = None
    # "sentencepiece", "wordpiece" or "character", learnt from the training split only
    # (None: sentencepiece for a TSV corpus, character for dates).
    tokenizer: str | None = None
    # SentencePiece's algorithm: "unigram" or "bpe".
    sentencepiece_model: str = "unigram"
    # Largest vocabulary the tokenizer may learn (joint when the embeddings are shared, else
    # per side; None: 4k-32k pieces by corpus size).
    max_vocabulary_size: int | None = None
    # Tokenizers learn from a seeded sample of at most this many sentences.
    tokenizer_sample: int = DEFAULT_SAMPLE_SIZE
    # Case-fold the text (NFKC case folding) when learning the tokenizer and tokenizing.
    lower_case: bool = False
    # Sizes of the built-in dates corpus splits.
    train_size: int = 20000
    validation_size: int = 1000
    test_size: int = 1000
    # Shares of a TSV corpus held out for validation and test (None: 5 % each up to 100k
    # lines, then about 5000 pairs each).
    validation_fraction: float | None = None
    test_fraction: float | None = None
    # Skip malformed TSV lines (with a warning) instead of stopping.
    skip_malformed: bool = False
    # Label smoothing ε_ls (None: the paper's 0.1 for translation, 0 for lm and classify).
    label_smoothing: float | None = None
    # lm: tokens per training block (None: the model's sequence_length).
    block_size: int | None = None
    # classify: "balanced" weighs each class's examples by n / (classes * count) in the loss.
    class_weight: str | None = None
    # Warm-up steps of the learning-rate schedule (paper: 4000; None: one epoch, 400-4000).
    warmup_steps: int | None = None
    # Multiplier of the paper's learning-rate schedule (None: 1 for dates; for a TSV corpus
    # the largest scale up to 1 that keeps the peak under 2.5e-3).
    learning_rate_scale: float | None = None
    # Clip the gradients to this global norm (all variables together); None = no clipping.
    clipnorm: float | None = None
    # float16 on GPU, bfloat16 on CPU, with float32 variables.
    mixed_precision: bool = False
    # Compile the train step with XLA.
    jit_compile: bool = False
    # tf.distribute strategy: "auto" (Mirrored over several local GPUs), "none", "mirrored"
    # (local GPUs, or logical CPUs), "multiworker" (TF_CONFIG).
    strategy: str = "auto"
    # Train for at most this many minutes, then keep the best checkpoint.
    time_budget: float | None = None
    # What the time budget counts: "wall" (elapsed) or "cpu" (this process's CPU time).
    budget_clock: str = "wall"
    # Validation sentences decoded (greedy, cached) each epoch for val_bleu and val_chrf;
    # 0 turns it off (model selection then uses val_loss).
    validation_sample: int = 500
    # The validation score that selects the kept model: "chrf", "bleu" or "loss" (translate),
    # "loss" (lm), "accuracy" or "loss" (classify). None: chrf, loss, accuracy.
    selection_metric: str | None = None
    # BLEU tokenization (sacrebleu's); None: "char" for targets in scripts without spaces.
    bleu_tokenize: str | None = None
    # Stop after this many epochs without a better selection score (0 = never; None: 5 for a
    # TSV corpus without a time budget).
    early_stopping_patience: int | None = None
    # Average the last N epochs' weights at the end and keep the average if it scores better
    # (0 or 1 = off; None: 5 for a TSV corpus).
    average_last: int | None = None
    # Seed of the data splits, shuffling and initialization.
    seed: int = 0

    def __post_init__(self):
        from keras_transformer import tasks  # the tasks name the fields they own

        task = tasks.get(self.task)  # ValueError naming the tasks for an unknown one
        if self.corpus is None:
            object.__setattr__(self, "corpus", task.built_in_corpus)
        if isinstance(self.corpus, list):
            object.__setattr__(self, "corpus", tuple(self.corpus))
        if isinstance(self.corpus, tuple) and len(self.corpus) == 1:
            object.__setattr__(self, "corpus", self.corpus[0])
        for name in ("train_size", "tokenizer_sample", "accumulate_gradients"):
            check_positive_int(getattr(self, name), name)
        for name in ("epochs", "batch_size", "max_vocabulary_size", "warmup_steps",
                     "steps_per_epoch", "batch_tokens", "block_size"):  # fmt: skip
            check_positive_int(getattr(self, name), name, allow_none=True)
        for name in ("early_stopping_patience", "average_last", "validation_sample"):
            check_non_negative_int(getattr(self, name), name, allow_none=True)
        for name in ("validation_fraction", "test_fraction"):
            check_fraction(getattr(self, name), name, allow_none=True)
        if self.batch_tokens is not None and self.padding != "bucketed":
            raise ValueError(
                "batch_tokens makes batches from length buckets; it needs padding='bucketed' "
                f"(received padding={self.padding!r})."
            )
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(
                f"time_budget is in minutes and must be positive; received {self.time_budget}."
            )
        choices = {
            "budget_clock": ("wall", "cpu"),
            "sentencepiece_model": SENTENCEPIECE_MODELS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {allowed}; received {getattr(self, name)!r}."
                )
        allowed = task.selection_metrics
        if self.selection_metric is None:
            object.__setattr__(self, "selection_metric", allowed[0])
        elif self.selection_metric not in allowed:
            raise ValueError(
                f"selection_metric must be one of {allowed} for task {self.task!r}; received "
                f"{self.selection_metric!r}."
            )
        if self.bleu_tokenize is not None and self.bleu_tokenize not in BLEU_TOKENIZATIONS:
            raise ValueError(
                f"bleu_tokenize must be one of {BLEU_TOKENIZATIONS}; received "
                f"{self.bleu_tokenize!r}."
            )
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; received {self.strategy!r}.")
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}; received {self.padding!r}.")
        if self.tokenizer is not None and self.tokenizer not in KINDS:
            raise ValueError(f"tokenizer must be one of {KINDS}; received {self.tokenizer!r}.")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(
                f"class_weight must be None or 'balanced'; received {self.class_weight!r}."
            )
        for owner in tasks.all_tasks():
            for name, unset in owner.settings.items():
                if getattr(self, name) not in unset and owner is not task:
                    flag = "--" + name.replace("_", "-")
                    raise ValueError(
                        f"{name} is a setting of task {owner.name!r}; this run's task is "
                        f"{self.task!r}. Drop {name} ({flag}), or train with "
                        f"task={owner.name!r} (CLI: --task {owner.name})."
                    )
        check_fraction(self.label_smoothing, "label_smoothing", allow_none=True)
        check_positive_float(self.learning_rate_scale, "learning_rate_scale", allow_none=True)
        check_positive_float(self.clipnorm, "clipnorm", allow_none=True)
