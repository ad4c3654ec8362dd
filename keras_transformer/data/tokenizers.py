"""Tokenizers learnt from data: SentencePiece, WordPiece and character level.

Every tokenizer is a `tf.Module` whose `tokenize` (strings -> ragged int32 ids) and
`detokenize` (ids -> strings) run in the TensorFlow graph, so a SavedModel can carry them.
Text goes through `keras_transformer.data.normalization.normalize` first, the same function
the learner saw. Reserved ids are the same for every tokenizer: `[PAD]=0, [UNK]=1,
[START]=2, [END]=3`. `tokenize` adds no `[START]`/`[END]`; `detokenize` stops at the first
`[END]` and drops `[PAD]`, `[START]` and `[END]`, but never an unknown piece: it stays
visible (`[UNK]` for WordPiece, U+FFFD for characters; SentencePiece avoids it with byte
fallback).
"""

import collections
import random

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib

from keras_transformer.constants import END_ID, PAD_ID, RESERVED_TOKENS, START_ID, UNK_ID
from keras_transformer.data.normalization import normalize_texts
from keras_transformer.data.sentencepiece_tokenizer import SentencePieceTokenizer
from keras_transformer.data.tokenizer import (
    DEFAULT_SAMPLE_SIZE,
    KINDS,
    SENTENCEPIECE_MODELS,
    Tokenizer,
)

__all__ = [
    "DEFAULT_SAMPLE_SIZE", "END_ID", "KINDS", "PAD_ID", "RESERVED_TOKENS", "SENTENCEPIECE_MODELS",
    "START_ID", "UNK_ID", "CharacterTokenizer", "SentencePieceTokenizer", "Tokenizer",
    "WordPieceTokenizer", "learn_tokenizer", "make_tokenizer", "sample_texts",
]  # fmt: skip


class CharacterTokenizer(Tokenizer):
    """One token per Unicode character (tensorflow-text's `UnicodeCharTokenizer`).

    A character never seen in training becomes `[UNK]`, which detokenizes to U+FFFD.

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
        # id -> code point; [UNK] shows as U+FFFD, the other reserved ids are removed first.
        reserved = [0, 0xFFFD, 0, 0]
        self._to_codepoint = tf.constant(reserved + codepoints, tf.int32)

    @classmethod
    def from_dict(cls, values):
        return cls(values["vocabulary"], lower_case=values["lower_case"])

    @classmethod
    def learn(cls, texts, max_vocabulary_size=None, lower_case=False):
        """Vocabulary of the characters of the normalised `texts`, most frequent first."""
        counts = collections.Counter()
        for text in normalize_texts(texts, lower_case):
            counts.update(text)
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

    Words are split on the spaces of the normalised text only, so punctuation stays attached
    as suffix pieces (`"world!"` -> `world ##!`) and detokenization gives back the normalised
    text. The vocabulary is learnt with tensorflow-text's WordPiece vocabulary learner, and
    every character seen also gets its `##` suffix form so that no seen word becomes `[UNK]`;
    a word with an unseen character becomes a visible `[UNK]`.

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
            max_bytes_per_word=1024,  # a Japanese sentence is one "word"
        )

    @classmethod
    def from_dict(cls, values):
        return cls(values["vocabulary"], lower_case=values["lower_case"])

    @classmethod
    def learn(cls, texts, vocabulary_size=8000, lower_case=False):
        """Learns a vocabulary of at most `vocabulary_size` tokens from `texts`."""
        words = collections.Counter()
        for text in normalize_texts(texts, lower_case):
            words.update(text.split(" "))
        words.pop("", None)
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


def _class_of(kind):
    classes = {
        "sentencepiece": SentencePieceTokenizer,
        "wordpiece": WordPieceTokenizer,
        "character": CharacterTokenizer,
    }
    if kind not in classes:
        raise ValueError(f"Unknown tokenizer kind {kind!r}; choose one of {KINDS}.")
    return classes[kind]


def make_tokenizer(kind, vocabulary, lower_case=False):
    """A WordPiece or character tokenizer over a given vocabulary."""
    if kind == "sentencepiece":
        raise ValueError("A SentencePiece tokenizer is made from its model: use Tokenizer.load.")
    return _class_of(kind)(vocabulary, lower_case=lower_case)


def sample_texts(texts, sample_size=DEFAULT_SAMPLE_SIZE, seed=0):
    """`texts` as a list, or a seeded sample of `sample_size` of them (in corpus order)."""
    texts = list(texts)
    if sample_size is None or len(texts) <= sample_size:
        return texts
    chosen = sorted(random.Random(seed).sample(range(len(texts)), sample_size))
    return [texts[i] for i in chosen]


def learn_tokenizer(
    kind,
    texts,
    vocabulary_size=8000,
    lower_case=False,
    model_type="unigram",
    sample_size=DEFAULT_SAMPLE_SIZE,
    seed=0,
):
    """Learns a tokenizer of `kind` from `texts` (the training split only).

    Args:
        kind: `"sentencepiece"`, `"wordpiece"` or `"character"`.
        texts: the sentences to learn from.
        vocabulary_size: int. Most tokens (a target, not exact, for SentencePiece).
        lower_case: bool. Case-fold the text when learning and when tokenizing.
        model_type: `"unigram"` or `"bpe"` (SentencePiece only).
        sample_size: int or None. Learn from a seeded sample of at most this many sentences.
        seed: int. The sample's seed.
    """
    _class_of(kind)  # an unknown kind fails before any work
    texts = sample_texts(texts, sample_size, seed)
    if kind == "sentencepiece":
        from keras_transformer.data.sentencepiece_tokenizer import SentencePieceTokenizer

        return SentencePieceTokenizer.learn(texts, vocabulary_size, lower_case, model_type)
    if kind == "wordpiece":
        return WordPieceTokenizer.learn(texts, vocabulary_size, lower_case)
    return CharacterTokenizer.learn(texts, vocabulary_size, lower_case)
