"""`Generator`: prompts in, continued text out, with a trained `LanguageModel`, its tokenizer
and the same search code as translation (over `steps.language_model_step`).

Tokenization is tensorflow-text's, on the host; the search runs on the active Keras backend
(`decoding.compiled.compile_search`), the token ids crossing over as NumPy arrays."""

import collections
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_transformer.constants import START_ID
from keras_transformer.decoding.compiled import compile_search
from keras_transformer.decoding.options import GENERATION_DEFAULTS, DecodingOptions, resolve
from keras_transformer.decoding.search import decode
from keras_transformer.decoding.steps import language_model_step

__all__ = ["GENERATION_DEFAULTS", "Generator"]  # GENERATION_DEFAULTS: `decoding.options`'

# The positional parameters `generate` took before `options` (kept for one release).
_LEGACY_POSITIONAL = ("max_new_tokens", "strategy", "stop", "jit_compile")


class Generator:
    """Continues prompts with cached decoding, one compiled search per option set and prompt
    length (prompts are grouped by their length in tokens, so none is padded).

    Args:
        model: a trained `LanguageModel`.
        tokenizer: its tokenizer.

    `generate(prompts, options)` returns each prompt followed by its continuation of at most
    `options.max_new_tokens` tokens, cut before the first of the `options.stop` strings
    found in the continuation; `options` is a `DecodingOptions` (keyword arguments replace
    its fields, or make one: strategy "greedy" unless given). `no_repeat_ngram_size=None`
    (the default) bans nothing here.
    """

    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer
        self._functions = {}

    def prompt_ids(self, prompts):
        """`[START]` and the tokens of each prompt (int32 arrays). Raises ValueError for a
        prompt that leaves the model no position to generate in."""
        ids = self.tokenizer.tokenize(tf.constant(list(prompts), tf.string))
        rows = [np.concatenate([[START_ID], row]).astype("int32") for row in ids.numpy()]
        for prompt, row in zip(prompts, rows, strict=True):
            if len(row) >= self.model.sequence_length:
                raise ValueError(
                    f"The prompt {prompt[:40]!r}... is {len(row)} tokens ([START] included), "
                    f"as long as the model's sequence_length={self.model.sequence_length}; "
                    "shorten it (the model has no position left to generate in)."
                )
        return rows

    def search_function(self, options):
        """The compiled `(prompt_ids, max_new_tokens) -> SearchResult` function of
        `options` (made once); `max_new_tokens` is a Python int, static for the compiler (one
        compilation per value and prompt length)."""
        search_options = options.search_arguments()
        key = (options.strategy, options.jit_compile, tuple(sorted(search_options.items())))
        if key not in self._functions:
            options.check_vocabulary(self.tokenizer.vocabulary_size)
            strategy = options.strategy

            def search(ids, max_new_tokens):
                return decode(language_model_step, self.model, ids, max_new_tokens, strategy,
                              **search_options)  # fmt: skip

            self._functions[key] = compile_search(
                search, options.jit_compile, model=self.model, static_argnums=(1,),
                reduce_retracing=True,
            )  # fmt: skip
        return self._functions[key]

    def generate(self, prompts, options=None, *legacy, **kwargs):
        """The prompts continued (a list of str, in order).

        Args:
            prompts: list of str.
            options: `DecodingOptions` (its `max_new_tokens`, `stop`, `jit_compile` and the
                strategy's options); keyword arguments replace its fields, or make one
                (strategy "greedy" unless given).

        The older form `generate(prompts, max_new_tokens, strategy, stop, jit_compile,
        **options)` still works (deprecated).
        """
        options = _options(options, legacy, kwargs)
        prompts = list(prompts)
        rows = self.prompt_ids(prompts)
        by_length = collections.defaultdict(list)
        for index, row in enumerate(rows):
            by_length[len(row)].append(index)
        search = self.search_function(options)
        texts = [None] * len(prompts)
        for length, indices in by_length.items():
            new = min(options.max_new_tokens, self.model.sequence_length - length + 1)
            ids = np.stack([rows[i] for i in indices])
            # A python int keeps the loop length static for XLA (one graph per value).
            tokens = ops.convert_to_numpy(search(_tensor(ids), new).ids)
            full = tf.constant(np.concatenate([ids[:, 1:], tokens], axis=1))
            for i, text in zip(indices, self.tokenizer.detokenize(full).numpy(), strict=True):
                texts[i] = text.decode("utf-8")
        return [_cut(prompt, text, options.stop)
                for prompt, text in zip(prompts, texts, strict=True)]  # fmt: skip


def _tensor(ids):
    """int32 ids as the active backend's tensor."""
    if keras.backend.backend() == "tensorflow":
        return tf.constant(ids, tf.int32)
    return ops.convert_to_tensor(ids, "int32")


def _options(options, legacy, kwargs):
    """The `DecodingOptions` of a `generate` call, old forms included."""
    if isinstance(options, DecodingOptions):
        if legacy:
            raise TypeError("generate takes the prompts and a DecodingOptions, then keywords.")
        return resolve(options, kwargs)
    positional = ([] if options is None else [options]) + list(legacy)
    if positional:
        if len(positional) > len(_LEGACY_POSITIONAL):
            raise TypeError(
                f"generate takes at most {len(_LEGACY_POSITIONAL)} positional options "
                f"{_LEGACY_POSITIONAL}; received {len(positional)}."
            )
        warnings.warn(
            "generate(prompts, max_new_tokens, strategy, ...) is deprecated; pass "
            "generate(prompts, DecodingOptions(...)) or keyword arguments.",
            DeprecationWarning,
            stacklevel=3,
        )
        for name, value in zip(_LEGACY_POSITIONAL, positional, strict=False):
            if name in kwargs:
                raise TypeError(f"generate got {name} twice (positionally and by keyword).")
            kwargs[name] = value
    return resolve(None, {"strategy": "greedy", **kwargs})


def _cut(prompt, text, stop):
    """`text` ending before the first stop string found after the prompt's length."""
    start = min(len(prompt), len(text))
    ends = [text.find(s, start) for s in stop if s]
    ends = [e for e in ends if e >= 0]
    return text[: min(ends)] if ends else text
