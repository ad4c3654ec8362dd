"""SentencePiece subwords (Kudo & Richardson 2018): learnt with the `sentencepiece` package,
run in the graph by tensorflow-text's `SentencepieceTokenizer`."""

import base64
import contextlib
import json
import logging
import os
import pathlib
import subprocess
import sys

import tensorflow as tf
import tensorflow_text as tf_text

from keras_transformer.constants import END_ID, PAD_ID, RESERVED_TOKENS, START_ID, UNK_ID
from keras_transformer.data.normalization import normalize_texts
from keras_transformer.data.tokenizer import SENTENCEPIECE_MODELS, Tokenizer

logger = logging.getLogger("keras_transformer")

# Scripts with more distinct characters than this (Japanese, Chinese) keep the characters that
# cover 99.95 % of the text as pieces; rarer ones are spelt in UTF-8 bytes (byte fallback).
_MANY_CHARACTERS = 1000
# Sentences normalised at a time while writing the learner's input.
_CHUNK = 50_000


def _write(stream, data):
    """Writes to the learner's stdin; a learner that died early (its error is on its stderr)
    leaves the pipe closed, which is reported with that error, not as a broken pipe."""
    with contextlib.suppress(BrokenPipeError):
        stream.write(data)


def _send_texts(stream, texts, lower_case):
    """Writes the normalised, non-empty `texts` to `stream` one per line ("\\n" inside a
    text becomes a space); returns their count and their number of distinct characters."""
    # Normalised in chunks straight into the learner: a million sentences are not held twice,
    # as raw and as normalised text.
    count, characters = 0, set()
    for start in range(0, len(texts), _CHUNK):
        chunk = [t for t in normalize_texts(texts[start : start + _CHUNK], lower_case) if t]
        for text in chunk:
            characters.update(text)
        _write(stream, "".join(t.replace("\n", " ") + "\n" for t in chunk).encode("utf-8"))
        count += len(chunk)
    return count, len(characters)


class SentencePieceTokenizer(Tokenizer):
    """Unigram or BPE subwords over raw text: no whitespace pre-splitting, so scripts written
    without spaces (Japanese, Chinese, Thai) get real subwords, and detokenization restores the
    normalised text exactly. Characters too rare for the vocabulary are spelt as UTF-8 byte
    pieces (byte fallback), so no input is ever unknown.

    The model (a serialized `ModelProto`) lives in the tokenizer file and in the SavedModel as
    a string constant: loading needs only tensorflow and tensorflow-text.

    Args:
        model: bytes. A SentencePiece model whose first four pieces are the reserved tokens.
        lower_case: bool. Case-fold the text first. Defaults to `False`.

    Example:

    >>> texts = ["Va\\u202f!", "Il fait beau.", "Il pleut.", "J'ai faim.", "Qui est là ?"] * 40
    >>> tokenizer = SentencePieceTokenizer.learn(texts, vocabulary_size=300)
    >>> ids = tokenizer.tokenize(["Il fait beau\\u00a0!"])
    >>> [t.decode() for t in tokenizer.detokenize(ids).numpy()]
    ['Il fait beau !']
    """

    kind = "sentencepiece"

    def __init__(self, model, lower_case=False, model_type="unigram", name=None):
        reader = tf_text.SentencepieceTokenizer(model=model, out_type=tf.int32)
        pieces = reader.id_to_string(tf.range(reader.vocab_size())).numpy()
        super().__init__([p.decode("utf-8") for p in pieces], lower_case, name)
        self.model = bytes(model)
        self.model_type = model_type

    def _sentencepiece(self):
        # tensorflow-text's SentencePiece model is a resource owned by the kernel of the op
        # that made it. Made eagerly, it dies when the eager kernel cache is cleared, which
        # `tf.random.set_seed` (and so `keras.utils.set_random_seed`) does; made inside the
        # graph of the functions below, it lives as long as they do and goes into SavedModels.
        return tf_text.SentencepieceTokenizer(model=self.model, out_type=tf.int32)

    @classmethod
    def learn(cls, texts, vocabulary_size=8000, lower_case=False, model_type="unigram"):
        """Learns a model of about `vocabulary_size` pieces from the normalised `texts`."""
        if model_type not in SENTENCEPIECE_MODELS:
            raise ValueError(
                f"model_type must be one of {SENTENCEPIECE_MODELS}; received {model_type!r}."
            )
        texts = texts if isinstance(texts, list) else list(texts)
        learner = pathlib.Path(__file__).with_name("_sentencepiece_learner.py")
        # No file: the texts go to the learner's stdin and the model comes back on its stdout,
        # so a killed training leaves no copy of the user's text in the temporary directory
        # (and the learner, which dies with this process, no orphan).
        process = subprocess.Popen(
            [sys.executable, str(learner), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            count, characters = _send_texts(process.stdin, texts, lower_case)
            if not count:
                raise ValueError("Cannot learn a SentencePiece model from empty texts.")
            options = dict(
                model_type=model_type,
                vocab_size=vocabulary_size,
                hard_vocab_limit=False,  # a small corpus may not support the size asked for
                character_coverage=0.9995 if characters > _MANY_CHARACTERS else 1.0,
                byte_fallback=True,
                # NFKC again: a no-op on our normalised text, but it keeps a character map in
                # the model, without which tensorflow-text logs a line per op it makes.
                normalization_rule_name="nfkc",
                pad_id=PAD_ID,
                unk_id=UNK_ID,
                bos_id=START_ID,
                eos_id=END_ID,
                pad_piece=RESERVED_TOKENS[PAD_ID],
                unk_piece=RESERVED_TOKENS[UNK_ID],
                bos_piece=RESERVED_TOKENS[START_ID],
                eos_piece=RESERVED_TOKENS[END_ID],
                max_sentence_length=1 << 16,
                num_threads=2,
                minloglevel=2,
            )
            # The texts end with an empty line (no text is empty), then the options.
            _write(process.stdin, b"\n" + json.dumps(options).encode("ascii") + b"\n")
            # The learner reads all its input before it writes: no pipe can fill up and block.
            output, errors = process.communicate()
        except BaseException:
            process.kill()
            process.communicate()
            raise
        header, _, model = output.partition(b"\n")
        try:
            header = json.loads(header)
        except ValueError:
            header = {}
        if process.returncode != 0 or len(model) != header.get("model_bytes"):
            reason = errors.decode("utf-8", "replace").strip()[-500:] or (
                f"the learner's exit status {process.returncode}, its output cut short"
            )
            raise ValueError(
                f"SentencePiece could not learn {vocabulary_size} pieces from {count} "
                f"sentences with {characters} distinct characters "
                f"({reason}). A vocabulary needs room for the 4 reserved "
                "tokens, 256 byte pieces and the characters: raise --max-vocabulary-size or "
                "use more text."
            )
        peak = header["peak_rss_bytes"]
        logger.debug("The SentencePiece learner's peak memory: %.2f GiB.", peak / 2**30)
        return cls(model, lower_case=lower_case, model_type=model_type)

    @classmethod
    def from_dict(cls, values):
        model = base64.b64decode(values["model"])
        return cls(model, values["lower_case"], values.get("model_type", "unigram"))

    def to_dict(self):
        return {
            **super().to_dict(),
            "model_type": self.model_type,
            "model": base64.b64encode(self.model).decode("ascii"),
        }

    def tokenize(self, texts):
        return self._tokenize(tf.reshape(self._normalize(texts), [-1]))

    def detokenize(self, ids):
        return self._detokenize(self._strip(ids))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def _tokenize(self, texts):
        return self._sentencepiece().tokenize(texts)

    @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.int32, ragged_rank=1)])
    def _detokenize(self, ids):
        return self._sentencepiece().detokenize(ids)
