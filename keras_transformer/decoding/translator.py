"""`Translator`: strings in, strings out, with a trained model, its tokenizers and a strategy."""

import dataclasses

import tensorflow as tf

from keras_transformer.constants import END_ID, PAD_ID, START_ID
from keras_transformer.decoding.search import STRATEGIES, decode
from keras_transformer.decoding.steps import cached_step, uncached_step
from keras_transformer.layers._validation import check_non_negative_int, check_positive_int


@dataclasses.dataclass(frozen=True)
class DecodingOptions:
    """How to generate. `strategy`: "beam" (the default, with the paper's `beam_width` 4
    and length penalty `alpha` 0.6), "greedy" or "sample" (`temperature`, `top_k`, `top_p`
    and `seed`).

    Output lengths are relative to the source: a sentence of `n` source tokens makes at most
    `ceil(max_length_a * n) + max_length_b` new tokens (`[END]` included), never more than
    `max_length` (None = no cap of its own) nor the model's `sequence_length`. A sentence
    that reaches its limit stops there without `[END]`. `min_length` forbids `[END]` before
    that many tokens. `no_repeat_ngram_size` forbids any token that would repeat an n-gram of
    that many tokens already in the output (0 allows repeats; None, the default: 3 with a
    subword tokenizer, 0 with characters). `jit_compile`
    compiles the decoding loop with XLA (faster per token, see the README; one compilation per
    batch shape, sources are padded to multiples of 8 to keep shapes few)."""

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
    min_length: int = 0
    # Never repeat an n-gram of this many tokens in one output (0 = allowed; None = 3 for
    # subword tokenizers, 0 for characters, where "2002-02-02" repeats a 3-gram rightly).
    no_repeat_ngram_size: int | None = None
    jit_compile: bool = True

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"strategy must be one of {tuple(STRATEGIES)}; received {self.strategy!r}."
            )
        check_positive_int(self.beam_width, "beam_width")
        check_positive_int(self.max_length, "max_length", allow_none=True)
        check_non_negative_int(self.no_repeat_ngram_size, "no_repeat_ngram_size", allow_none=True)
        if self.max_length_a < 0 or self.max_length_b < 0:
            raise ValueError(
                "max_length_a and max_length_b must not be negative; received "
                f"{self.max_length_a}, {self.max_length_b}."
            )


class Translator:
    """Translates batches of strings with cached decoding compiled into one graph per option set.

    Sources are tokenized and truncated to the model's `sequence_length` (longer inputs lose
    their end); an empty string is a sequence of padding, which decodes like any other.

    Args:
        model: a trained `Transformer`.
        source_tokenizer, target_tokenizer: the run's tokenizers.
        step: the step maker (`decoding.steps`): `cached_step` (the default), or
            `uncached_step`, the oracle that re-runs the whole model at each step (tests and
            benchmarks).
    """

    def __init__(self, model, source_tokenizer, target_tokenizer, step=cached_step):
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.step = step
        self.sequence_length = model.sequence_length
        self._functions = {}

    @classmethod
    def from_run(cls, run_dir, step=cached_step):
        """The model and tokenizers of a run directory (see `keras_transformer.run.Run`)."""
        from keras_transformer.run import Run

        return Run(run_dir).translator(step=step)  # it needs only the model and tokenizers

    def source_ids(self, texts):
        """Dense int32 ids `(batch, length)`, truncated to `sequence_length`, at least one
        column (an all-empty batch is one column of padding). `texts`: a list of str or a
        string tensor `[batch]` (also inside a graph)."""
        if not tf.is_tensor(texts):
            texts = tf.constant(list(texts), tf.string)
        ids = self.source_tokenizer.tokenize(texts)
        ids = ids[:, : self.sequence_length].to_tensor(default_value=PAD_ID)
        # Pad to a multiple of 8 (at least 8): few distinct shapes for XLA, and padding does
        # not change the result; never wider than `sequence_length`, the positions the model
        # has (a learned table has no row past it).
        length = tf.shape(ids)[1]
        width = tf.minimum(tf.maximum(8 * ((length + 7) // 8), 8), self.sequence_length)
        return tf.pad(ids, [[0, 0], [0, tf.maximum(width, length) - length]])

    def search_function(self, options):
        """The compiled `ids -> SearchResult` function of `options` (made once)."""
        key = dataclasses.astuple(options)
        if key not in self._functions:
            vocabulary = self.target_tokenizer.vocabulary_size
            if options.strategy == "sample" and options.top_k > vocabulary:
                raise ValueError(
                    f"top_k={options.top_k} is more than the {vocabulary} tokens of the target "
                    f"vocabulary; use at most {vocabulary} (0 turns the filter off)."
                )
            arguments = dict(
                max_length=min(options.max_length or self.sequence_length, self.sequence_length),
                max_length_a=options.max_length_a,
                max_length_b=options.max_length_b,
                strategy=options.strategy,
                min_length=options.min_length,
                no_repeat_ngram_size=self.no_repeat_ngram_size(options),
            )
            if options.strategy == "beam":
                arguments.update(beam_width=options.beam_width, alpha=options.alpha)
            elif options.strategy == "sample":
                arguments.update(temperature=options.temperature, top_k=options.top_k,
                                 top_p=options.top_p, seed=options.seed)  # fmt: skip

            def search(ids):
                return decode(self.step, self.model, ids, **arguments)

            self._functions[key] = tf.function(
                search,
                input_signature=[tf.TensorSpec([None, None], tf.int32)],
                # The uncached oracle slices a growing prefix: dynamic shapes, no XLA.
                jit_compile=options.jit_compile and self.step is not uncached_step,
            )
        return self._functions[key]

    def no_repeat_ngram_size(self, options):
        """The n-gram size `options` bans repeating (resolving None for the tokenizer)."""
        if options.no_repeat_ngram_size is not None:
            return options.no_repeat_ngram_size
        return 0 if self.target_tokenizer.kind == "character" else 3

    def strings_function(self, options):
        """The compiled `strings [batch] -> translations [batch]` function of `options`:
        tokenization, decoding and detokenization in one graph (what the export serves)."""
        key = ("strings", *dataclasses.astuple(options))
        if key not in self._functions:
            search = self.search_function(options)

            def translate(texts):
                return self.target_tokenizer.detokenize(search(self.source_ids(texts)).ids)

            self._functions[key] = tf.function(
                translate, input_signature=[tf.TensorSpec([None], tf.string)]
            )
        return self._functions[key]

    def generate(self, source_ids, options=None, **kwargs):
        """A `SearchResult`: token ids `(batch, length)` (0 after `[END]`; `length` the
        longest limit the padded source width allows), their lengths and scores `(batch,)`."""
        options = options or DecodingOptions(**kwargs)
        return self.search_function(options)(tf.cast(source_ids, tf.int32))

    def translate(self, texts, options=None, batch_size=64, progress=None, **kwargs):
        """Translations of `texts` (a list of strings), in order.

        Args:
            texts: list of str.
            options: `DecodingOptions`, or pass its fields as keyword arguments.
            batch_size: int. Sentences decoded together. Defaults to `64`.
            progress: optional `keras.utils.Progbar`-like object with `add(n)`.
        """
        check_positive_int(batch_size, "batch_size")
        options = options or DecodingOptions(**kwargs)
        strings_function = self.strings_function(options)
        texts = list(texts)
        translations = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            output = strings_function(tf.constant(batch, tf.string)).numpy()
            translations += [t.decode("utf-8") for t in output]
            if progress is not None:
                progress.add(len(batch))
        return translations

    def cross_attention(self, text, options=None, **kwargs):
        """Decodes `text` and returns what its last decoder block attended to.

        Returns:
            `(translation, source_tokens, target_tokens, weights)`: weights
            `(heads, target_length, source_length)`, row i for the token produced at step i.
        """
        if self.step is not cached_step:
            raise ValueError("Attention weights need the cached decoder (step=cached_step).")
        source_ids = self.source_ids([text])
        tokens = self.generate(source_ids, options or DecodingOptions(**kwargs)).ids
        produced = [int(t) for t in tokens[0].numpy()]
        length = produced.index(END_ID) + 1 if END_ID in produced else len(produced)
        produced = produced[:length]
        prefix = tf.constant([[START_ID] + produced[:-1]], tf.int32)
        encoder_outputs, source_mask = self.model.encode(source_ids)
        cache = self.model.initial_cache(encoder_outputs, length)
        step = self.model.decode_step(prefix, 0, cache, source_mask, return_attention_scores=True)
        scores = step["cross_attention"]
        source = [i for i in source_ids[0].numpy().tolist() if i != PAD_ID]
        weights = tf.cast(scores[-1][0], tf.float32).numpy()[:, :, : len(source)]

        translation = self.target_tokenizer.detokenize(tokens[:1]).numpy()[0].decode("utf-8")
        source_tokens = [
            t.decode("utf-8") for t in self.source_tokenizer.id_to_token(source).numpy()
        ]
        target_tokens = [
            t.decode("utf-8") for t in self.target_tokenizer.id_to_token(produced).numpy()
        ]
        return translation, source_tokens, target_tokens, weights
