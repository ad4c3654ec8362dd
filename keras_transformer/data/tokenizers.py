"""Tokenizers built on tensorflow-text: character level and WordPiece, learnt from data.

Both are `tf.Module`s whose `tokenize` (strings -> ragged int32 ids) and `detokenize` (ids ->
strings) run in the TensorFlow graph, so a SavedModel can carry them. Reserved ids are the
same for every tokenizer: `[PAD]=0, [UNK]=1, [START]=2, [END]=3`. `tokenize` adds no
`[START]`/`[END]`; `detokenize` stops at the first `[END]` and drops reserved tokens.
"""

import collections
import json
import pathlib

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib

RESERVED_TOKENS = ["[PAD]", "[UNK]", "[START]", "[END]"]
PAD_ID, UNK_ID, START_ID, END_ID = range(4)
KINDS = ("character", "wordpiece")


class Tokenizer(tf.Module):
    """Common behaviour: vocabulary, reserved-token handling, saving and loading."""

    kind = None

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
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        return tf_text.case_fold_utf8(texts) if self.lower_case else texts

    @staticmethod
    def _strip(ids):
        """Ragged ids up to the first [END], reserved tokens removed. Accepts dense ids
        (0-padded) or ragged ids."""
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(tf.convert_to_tensor(ids), padding=PAD_ID)
        ids = tf.cast(ids, tf.int32)
        before_end = tf.equal(tf.cumsum(tf.cast(tf.equal(ids, END_ID), tf.int32), axis=1), 0)
        keep = tf.logical_and(before_end, ids >= len(RESERVED_TOKENS))
        return tf.ragged.boolean_mask(ids, keep)

    def id_to_token(self, ids):
        """Token strings of ids (no joining), e.g. for attention-plot axes."""
        return tf.gather(self._vocabulary_tensor, ids)

    def to_dict(self):
        return {"kind": self.kind, "lower_case": self.lower_case, "vocabulary": self.vocabulary}

    def save(self, path):
        """Writes the tokenizer as JSON (atomically)."""
        path = pathlib.Path(path)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1))
        temporary.replace(path)

    @staticmethod
    def load(path):
        """Loads a tokenizer written by `save`."""
        path = pathlib.Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No tokenizer file at {path}.")
        values = json.loads(path.read_text())
        return make_tokenizer(values["kind"], values["vocabulary"], values["lower_case"])


class CharacterTokenizer(Tokenizer):
    """One token per Unicode character (tensorflow-text's `UnicodeCharTokenizer`).

    Example:

    >>> tokenizer = CharacterTokenizer.learn(["2021-03-04", "4 mars 2021"])
    >>> ids = tokenizer.tokenize(["2021-03-04"])
    >>> [t.decode() for t in tokenizer.detokenize(ids).numpy()]
    ['2021-03-04']
    """

    kind = "character"

    def __init__(self, vocabulary, lower_case=False, name=None):
        super().__init__(vocabulary, lower_case, name)
        characters = self.vocabulary[len(RESERVED_TOKENS) :]
        if any(len(c) != 1 for c in characters):
            raise ValueError("A character vocabulary holds single characters after the reserved.")
        codepoints = [ord(c) for c in characters]
        ids = list(range(len(RESERVED_TOKENS), len(self.vocabulary)))
        self._splitter = tf_text.UnicodeCharTokenizer()
        self._to_id = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(codepoints or [-2], tf.int32), tf.constant(ids or [UNK_ID], tf.int32)
            ),
            default_value=UNK_ID,
        )
        # id -> code point; reserved ids map to 0 and are removed before joining.
        self._to_codepoint = tf.constant([0] * len(RESERVED_TOKENS) + codepoints, tf.int32)

    @classmethod
    def learn(cls, texts, max_vocabulary_size=None, lower_case=False):
        """Vocabulary of the characters of `texts`, most frequent first."""
        counts = collections.Counter()
        for text in texts:
            counts.update(text.lower() if lower_case else text)
        limit = None if max_vocabulary_size is None else max_vocabulary_size - len(RESERVED_TOKENS)
        characters = sorted(counts, key=lambda c: (-counts[c], c))[:limit]
        return cls(RESERVED_TOKENS + characters, lower_case=lower_case)

    def tokenize(self, texts):
        codepoints = self._splitter.tokenize(self._normalize(texts))
        return codepoints.with_flat_values(self._to_id.lookup(codepoints.flat_values))

    def detokenize(self, ids):
        ids = self._strip(ids)
        return self._splitter.detokenize(tf.gather(self._to_codepoint, ids))


class WordPieceTokenizer(Tokenizer):
    """WordPiece over whitespace-separated words (tensorflow-text's `FastWordpieceTokenizer`).

    Words are split on whitespace only, so punctuation stays attached as suffix pieces
    (`"world!"` -> `world ##!`) and detokenization gives back the text with its whitespace
    normalized to single spaces. The vocabulary is learnt with tensorflow-text's WordPiece
    vocabulary learner, and every character seen also gets its `##` suffix form so that no
    seen word becomes `[UNK]`.

    Example:

    >>> tokenizer = WordPieceTokenizer.learn(["the cat sat.", "the cat ran!"] * 20, 60)
    >>> [t.decode() for t in tokenizer.detokenize(tokenizer.tokenize(["the  cat ran."])).numpy()]
    ['the cat ran.']
    """

    kind = "wordpiece"

    def __init__(self, vocabulary, lower_case=False, name=None):
        super().__init__(vocabulary, lower_case, name)
        self._splitter = tf_text.WhitespaceTokenizer()
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            self.vocabulary,
            token_out_type=tf.int32,
            unknown_token="[UNK]",
            no_pretokenization=True,
            support_detokenization=True,
        )

    @classmethod
    def learn(cls, texts, vocabulary_size=8000, lower_case=False):
        """Learns a vocabulary of at most `vocabulary_size` tokens from `texts`."""
        words = collections.Counter()
        for text in texts:
            words.update((text.lower() if lower_case else text).split())
        if not words:
            raise ValueError("Cannot learn a WordPiece vocabulary from empty texts.")
        vocabulary = wordpiece_tokenizer_learner_lib.learn(
            sorted(words.items()),
            vocab_size=vocabulary_size,
            reserved_tokens=RESERVED_TOKENS,
            lower_thresh=1,
        )
        known = set(vocabulary)
        characters = sorted({c for word in words for c in word})
        vocabulary += [t for c in characters for t in (c, "##" + c) if t not in known]
        return cls(vocabulary, lower_case=lower_case)

    def tokenize(self, texts):
        words = self._splitter.tokenize(self._normalize(texts))
        return self._wordpiece.tokenize(words).merge_dims(1, 2)

    def detokenize(self, ids):
        return self._wordpiece.detokenize(self._strip(ids))


def make_tokenizer(kind, vocabulary, lower_case=False):
    """A tokenizer of `kind` ("character" or "wordpiece") over a given vocabulary."""
    classes = {"character": CharacterTokenizer, "wordpiece": WordPieceTokenizer}
    if kind not in classes:
        raise ValueError(f"Unknown tokenizer kind {kind!r}; choose one of {KINDS}.")
    return classes[kind](vocabulary, lower_case=lower_case)


def learn_tokenizer(kind, texts, vocabulary_size=8000, lower_case=False):
    """Learns a tokenizer of `kind` from `texts` (the training split only)."""
    if kind == "character":
        return CharacterTokenizer.learn(texts, vocabulary_size, lower_case)
    if kind == "wordpiece":
        return WordPieceTokenizer.learn(texts, vocabulary_size, lower_case)
    raise ValueError(f"Unknown tokenizer kind {kind!r}; choose one of {KINDS}.")
