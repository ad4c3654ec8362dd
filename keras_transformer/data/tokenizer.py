"""`Tokenizer`: what every tokenizer kind shares (vocabulary, reserved tokens, saving and
loading); the kinds are in `data.tokenizers` and `data.sentencepiece_tokenizer`."""

import json
import pathlib
import typing

import tensorflow as tf

from keras_transformer.atomic import write_json
from keras_transformer.constants import END_ID, PAD_ID, RESERVED_TOKENS, UNK_ID
from keras_transformer.data.normalization import normalize

KINDS = ("sentencepiece", "wordpiece", "character")
# SentencePiece's two algorithms (Kudo 2018; Sennrich et al. 2016).
SENTENCEPIECE_MODELS = ("unigram", "bpe")
# Tokenizers learn from at most this many sentences (a seeded sample of a bigger corpus).
DEFAULT_SAMPLE_SIZE = 1_000_000


class Tokenizer(tf.Module):
    """Common behaviour: vocabulary, reserved-token handling, saving and loading."""

    kind = None
    # kind -> the class that reads it (each subclass registers itself)
    _kinds: typing.ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind is not None:
            Tokenizer._kinds[cls.kind] = cls

    def __init__(self, vocabulary, lower_case=False, name=None):
        super().__init__(name=name)
        vocabulary = list(vocabulary)
        if vocabulary[: len(RESERVED_TOKENS)] != RESERVED_TOKENS:
            raise ValueError(
                f"A vocabulary must start with the reserved tokens {RESERVED_TOKENS}; it starts "
                f"with {vocabulary[:4]}."
            )
        self.vocabulary = vocabulary
        self.lower_case = bool(lower_case)
        self._vocabulary_tensor = tf.constant(vocabulary)

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def _normalize(self, texts):
        return normalize(texts, self.lower_case)

    @staticmethod
    def _strip(ids):
        """Ragged ids up to the first [END], without [PAD], [START] and [END] ([UNK] stays).
        Accepts dense ids (0-padded) or ragged ids."""
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(tf.convert_to_tensor(ids), padding=PAD_ID)
        ids = tf.cast(ids, tf.int32)
        before_end = tf.equal(tf.cumsum(tf.cast(tf.equal(ids, END_ID), tf.int32), axis=1), 0)
        keep = tf.logical_and(before_end, tf.logical_or(ids >= END_ID + 1, ids == UNK_ID))
        return tf.ragged.boolean_mask(ids, keep)

    def id_to_token(self, ids):
        """Token strings of ids (no joining), e.g. for attention-plot axes."""
        return tf.gather(self._vocabulary_tensor, ids)

    def to_dict(self):
        return {"kind": self.kind, "lower_case": self.lower_case, "vocabulary": self.vocabulary}

    def save(self, path):
        """Writes the tokenizer as JSON (atomically)."""
        path = pathlib.Path(path)
        write_json(path, self.to_dict(), indent=1)

    @staticmethod
    def load(path):
        """Loads a tokenizer written by `save`."""
        path = pathlib.Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No tokenizer file at {path}.")
        return Tokenizer.from_dict(json.loads(path.read_text()))

    @staticmethod
    def from_dict(values):
        """The tokenizer described by `to_dict()`'s output."""
        kind = values.get("kind")
        if kind not in Tokenizer._kinds:
            raise ValueError(f"Unknown tokenizer kind {kind!r}; choose one of {KINDS}.")
        return Tokenizer._kinds[kind].from_dict(values)
