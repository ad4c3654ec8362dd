"""Fast generation with a key/value cache: greedy, beam search, top-k / top-p sampling."""

from keras_transformer.decoding.parts import Seq2SeqParts, UncachedParts
from keras_transformer.decoding.search import beam_search, greedy_search, length_penalty, sample
from keras_transformer.decoding.translator import DecodingOptions, Translator

__all__ = [
    "DecodingOptions",
    "Seq2SeqParts",
    "Translator",
    "UncachedParts",
    "beam_search",
    "greedy_search",
    "length_penalty",
    "sample",
]
