"""Fast generation with a key/value cache: beam search (the default), greedy, top-k / top-p
sampling over a step function; output lengths relative to the source.

The searches (`search`), the step functions (`steps`), `DecodingOptions` (`options`) and
`compile_search` (`compiled`) are written with `keras.ops` and run on every Keras backend
without TensorFlow. `Translator` and `Generator` tokenize with tensorflow-text: they need
TensorFlow installed (any backend may run their search), and are imported when first used.
"""

from keras_transformer.decoding.compiled import compile_search
from keras_transformer.decoding.options import (
    GENERATION_DEFAULTS,
    TRANSLATION_DEFAULTS,
    DecodingOptions,
)
from keras_transformer.decoding.search import (
    STRATEGIES,
    BeamState,
    SearchResult,
    beam_search,
    check_sampling,
    decode,
    greedy_search,
    length_penalty,
    output_limits,
    sample,
)
from keras_transformer.decoding.steps import cached_step, language_model_step, uncached_step

# Built on tensorflow-text (the tokenizers): imported when first used.
_NEED_TENSORFLOW = {
    "Generator": "keras_transformer.decoding.generator",
    "Translator": "keras_transformer.decoding.translator",
}


def __getattr__(name):
    if name in _NEED_TENSORFLOW:
        import importlib

        from keras_transformer.requirements import require_tensorflow

        require_tensorflow(f"keras_transformer.decoding.{name}")
        return getattr(importlib.import_module(_NEED_TENSORFLOW[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "GENERATION_DEFAULTS",
    "STRATEGIES",
    "TRANSLATION_DEFAULTS",
    "BeamState",
    "DecodingOptions",
    "Generator",
    "SearchResult",
    "Translator",
    "beam_search",
    "cached_step",
    "check_sampling",
    "compile_search",
    "decode",
    "greedy_search",
    "language_model_step",
    "length_penalty",
    "output_limits",
    "sample",
    "uncached_step",
]
