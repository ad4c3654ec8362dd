"""`DecodingOptions`: the one vocabulary of how to decode, used by the command line's flags,
`Translator`, `Generator`, every export and `tune`."""

import dataclasses

from keras_transformer.layers.validation import (
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
)

# The decoding strategies and the options each takes beyond the shared ones.
STRATEGY_OPTIONS = {
    "greedy": (),
    "beam": ("beam_width", "alpha"),
    "sample": ("temperature", "top_k", "top_p", "seed"),
}
# Options every strategy takes.
SHARED_OPTIONS = ("min_length", "no_repeat_ngram_size")


@dataclasses.dataclass(frozen=True)
class DecodingOptions:
    """How to decode. `strategy`: "beam" (the default, with the paper's `beam_width` 4 and
    length penalty `alpha` 0.6), "greedy" or "sample" (`temperature`, `top_k`, `top_p` and
    `seed`).

    Translation's output lengths are relative to the source: a sentence of `n` source tokens
    makes at most `ceil(max_length_a * n) + max_length_b` new tokens (`[END]` included),
    never more than `max_length` (None = no cap of its own) nor the model's
    `sequence_length`. A sentence that reaches its limit stops there without `[END]`. A
    language model continues a prompt by at most `max_new_tokens`, cut before the first of
    the `stop` strings. `min_length` forbids `[END]` before that many tokens.
    `no_repeat_ngram_size` forbids any token that would repeat an n-gram of that many tokens
    already in the output (0 allows repeats; None, the default: for translation 3 with a
    subword tokenizer, 0 with characters; for a language model 0). `jit_compile` compiles
    the decoding loop with the backend's compiler (`decoding.compiled.compile_search`).

    Example:

    >>> DecodingOptions().strategy, GENERATION_DEFAULTS.describe()
    ('beam', 'nucleus sampling, top-p 0.9, temperature 0.8, seed 0')
    """

    strategy: str = "beam"
    beam_width: int = 4
    alpha: float = 0.6
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    max_length: int | None = None
    max_length_a: float = 1.5
    max_length_b: int = 10
    max_new_tokens: int = 64
    min_length: int = 0
    # Never repeat an n-gram of this many tokens in one output (0 = allowed; None = 3 for
    # subword tokenizers, 0 for characters, where "2002-02-02" repeats a 3-gram rightly).
    no_repeat_ngram_size: int | None = None
    stop: tuple = ()
    jit_compile: bool = True

    def __post_init__(self):
        if self.strategy not in STRATEGY_OPTIONS:
            raise ValueError(
                f"strategy must be one of {tuple(STRATEGY_OPTIONS)}; received {self.strategy!r}."
            )
        check_positive_int(self.beam_width, "beam_width")
        check_positive_int(self.max_length, "max_length", allow_none=True)
        check_positive_int(self.max_new_tokens, "max_new_tokens")
        check_non_negative_int(self.min_length, "min_length")
        check_non_negative_int(self.no_repeat_ngram_size, "no_repeat_ngram_size", allow_none=True)
        check_non_negative_int(self.top_k, "top_k")
        check_non_negative_int(self.seed, "seed")
        check_positive_float(self.temperature, "temperature")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1]; received {self.top_p}.")
        if self.max_length_a < 0 or self.max_length_b < 0:
            raise ValueError(
                "max_length_a and max_length_b must not be negative; received "
                f"{self.max_length_a}, {self.max_length_b}."
            )
        if isinstance(self.stop, str):
            raise ValueError(
                f"stop is a sequence of strings; received the string {self.stop!r}: pass "
                f"({self.stop!r},)."
            )
        object.__setattr__(self, "stop", tuple(self.stop))

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def strategy_options(self):
        """The search's keyword options for this strategy (`decoding.search.decode`), the
        shared ones (`min_length`, `no_repeat_ngram_size`) left out."""
        return {name: getattr(self, name) for name in STRATEGY_OPTIONS[self.strategy]}

    def search_arguments(self, no_repeat_ngram_size=0):
        """The keyword options `decoding.search.decode` (or a strategy of
        `search.STRATEGIES`) gets: the strategy's and the shared ones, a
        `no_repeat_ngram_size` of None replaced by `no_repeat_ngram_size` (the predictor's
        default for its tokenizer)."""
        size = self.no_repeat_ngram_size
        return dict(
            self.strategy_options(),
            min_length=self.min_length,
            no_repeat_ngram_size=no_repeat_ngram_size if size is None else size,
        )

    def check_vocabulary(self, vocabulary_size):
        """Raises ValueError when sampling's `top_k` is more than the `vocabulary_size`
        tokens a model can produce."""
        if self.strategy == "sample" and self.top_k > vocabulary_size:
            raise ValueError(
                f"top_k={self.top_k} is more than the {vocabulary_size} tokens of the "
                f"vocabulary; use at most {vocabulary_size} (0 turns the filter off)."
            )

    def describe(self):
        """The strategy and its settings, in words (what the commands print)."""
        if self.strategy == "beam":
            return f"beam search, {self.beam_width} beams, alpha {self.alpha:g}"
        if self.strategy == "greedy":
            return "greedy decoding"
        kind = "nucleus sampling" if self.top_p < 1.0 else "sampling"
        parts = [kind]
        if self.top_k:
            parts.append(f"top-k {self.top_k}")
        if self.top_p < 1.0:
            parts.append(f"top-p {self.top_p:g}")
        parts += [f"temperature {self.temperature:g}", f"seed {self.seed}"]
        return ", ".join(parts)


def resolve(options=None, changes=None, default=None):
    """The `DecodingOptions` a call means: `options` (default: `default`, else
    `DecodingOptions()`) with the fields in `changes` (a dict of keyword arguments)
    replaced.

    Raises:
        TypeError: `options` is not a `DecodingOptions`, or `changes` names no field of it.
        ValueError: `changes` names an option of another strategy than the one resolved
            (e.g. `beam_width` for greedy decoding), which would be silently ignored.
    """
    options = options if options is not None else (default or DecodingOptions())
    if not isinstance(options, DecodingOptions):
        raise TypeError(
            f"options must be a DecodingOptions; received {type(options).__name__} "
            f"{options!r}. Pass the fields as keyword arguments instead."
        )
    if not changes:
        return options
    fields = {field.name for field in dataclasses.fields(DecodingOptions)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise TypeError(f"{unknown} are not DecodingOptions fields; they are {sorted(fields)}.")
    options = options.replace(**changes)
    other = sorted(set(changes) & _STRATEGY_ONLY - set(STRATEGY_OPTIONS[options.strategy]))
    if other:
        raise ValueError(
            f"strategy={options.strategy!r} takes the options "
            f"{STRATEGY_OPTIONS[options.strategy] + SHARED_OPTIONS}; received {other}. Remove "
            "them or choose the strategy they belong to."
        )
    return options


# The options only some strategy takes.
_STRATEGY_ONLY = {name for names in STRATEGY_OPTIONS.values() for name in names}


# How translation decodes unless told otherwise: the paper's beam search.
TRANSLATION_DEFAULTS = DecodingOptions()
# How a language model continues text unless told otherwise: nucleus sampling (Holtzman et
# al. 2020) at temperature 0.8, seeded; greedy decoding of a language model loops.
GENERATION_DEFAULTS = DecodingOptions(strategy="sample", top_p=0.9, temperature=0.8)
