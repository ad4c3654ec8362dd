"""Fast generation with a key/value cache: beam search (the default), greedy, top-k / top-p
sampling over a step function; output lengths relative to the source."""

from keras_transformer.requirements import require_tensorflow

require_tensorflow("keras_transformer.decoding")

from keras_transformer.decoding.generator import Generator
from keras_transformer.decoding.search import (
    BeamState,
    SearchResult,
    beam_search,
    decode,
    greedy_search,
    length_penalty,
    output_limits,
    sample,
)
from keras_transformer.decoding.steps import cached_step, language_model_step, uncached_step
from keras_transformer.decoding.translator import DecodingOptions, Translator

__all__ = [
    "BeamState",
    "DecodingOptions",
    "Generator",
    "SearchResult",
    "Translator",
    "beam_search",
    "cached_step",
    "decode",
    "greedy_search",
    "language_model_step",
    "length_penalty",
    "output_limits",
    "sample",
    "uncached_step",
]
