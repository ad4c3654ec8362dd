"""Fast generation with a key/value cache: beam search (the default), greedy, top-k / top-p
sampling; output lengths relative to the source."""

from keras_transformer.decoding.parts import Seq2SeqParts, UncachedParts
from keras_transformer.decoding.search import (
    beam_search,
    greedy_search,
    length_penalty,
    output_limits,
    sample,
)
from keras_transformer.decoding.translator import DecodingOptions, Translator

__all__ = [
    "DecodingOptions",
    "Seq2SeqParts",
    "Translator",
    "UncachedParts",
    "beam_search",
    "greedy_search",
    "length_penalty",
    "output_limits",
    "sample",
]
