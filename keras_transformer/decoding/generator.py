"""`Generator`: prompts in, continued text out, with a trained `LanguageModel`, its tokenizer
and the same search code as translation (over `steps.language_model_step`)."""

import collections

import numpy as np
import tensorflow as tf

from keras_transformer.constants import START_ID
from keras_transformer.decoding.search import STRATEGIES, decode
from keras_transformer.decoding.steps import language_model_step
from keras_transformer.layers._validation import check_positive_int

# How `keras-transformer generate` and `evaluate` continue text unless told otherwise: nucleus
# sampling (Holtzman et al. 2020) at temperature 0.8, seeded; greedy decoding of a language
# model loops.
GENERATION_DEFAULTS = dict(strategy="sample", top_p=0.9, temperature=0.8, seed=0)


class Generator:
    """Continues prompts with cached decoding, one compiled graph per option set and prompt
    length (prompts are grouped by their length in tokens, so none is padded).

    Args:
        model: a trained `LanguageModel`.
        tokenizer: its tokenizer.

    `generate(prompts, max_new_tokens=64, strategy="greedy", ...)` returns each prompt
    followed by its continuation, cut before the first of `stop` strings found in the
    continuation. Strategy options: `beam_width`, `alpha` (beam), `temperature`, `top_k`,
    `top_p`, `seed` (sample), `min_length`, `no_repeat_ngram_size`.
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

    def _function(self, strategy, jit_compile, options):
        key = (strategy, jit_compile, tuple(sorted(options.items())))
        if key not in self._functions:

            def search(ids, max_new_tokens):
                return decode(language_model_step, self.model, ids, max_new_tokens, strategy,
                              **options)  # fmt: skip

            self._functions[key] = tf.function(search, jit_compile=jit_compile,
                                               reduce_retracing=True)  # fmt: skip
        return self._functions[key]

    def generate(self, prompts, max_new_tokens=64, strategy="greedy", stop=(),
                 jit_compile=True, **options):  # fmt: skip
        """The prompts continued (a list of str, in order)."""
        check_positive_int(max_new_tokens, "max_new_tokens")
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {tuple(STRATEGIES)}; received {strategy!r}.")
        prompts = list(prompts)
        rows = self.prompt_ids(prompts)
        by_length = collections.defaultdict(list)
        for index, row in enumerate(rows):
            by_length[len(row)].append(index)
        texts = [None] * len(prompts)
        for length, indices in by_length.items():
            new = min(max_new_tokens, self.model.sequence_length - length + 1)
            ids = tf.constant(np.stack([rows[i] for i in indices]))
            # A python int keeps the loop length static for XLA (one graph per value).
            result = self._function(strategy, jit_compile, options)(ids, new)
            full = tf.concat([ids[:, 1:], result.ids], axis=1)
            for i, text in zip(indices, self.tokenizer.detokenize(full).numpy(), strict=True):
                texts[i] = text.decode("utf-8")
        return [_cut(prompt, text, stop) for prompt, text in zip(prompts, texts, strict=True)]


def _cut(prompt, text, stop):
    """`text` ending before the first stop string found after the prompt's length."""
    start = min(len(prompt), len(text))
    ends = [text.find(s, start) for s in stop if s]
    ends = [e for e in ends if e >= 0]
    return text[: min(ends)] if ends else text
