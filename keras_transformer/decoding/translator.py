"""`Translator`: strings in, strings out, with a trained model, its tokenizers and a strategy.

Tokenization is tensorflow-text's, on the host; the search runs on the active Keras backend
(`decoding.search`, compiled by `decoding.compiled.compile_search`). Under TensorFlow the
tokenization, search and detokenization are one graph (`strings_function`, what the
SavedModel export serves); under JAX and PyTorch the token ids cross over as NumPy arrays.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_transformer.constants import END_ID, PAD_ID, START_ID
from keras_transformer.decoding.compiled import compile_search
from keras_transformer.decoding.options import DecodingOptions, resolve
from keras_transformer.decoding.search import decode
from keras_transformer.decoding.steps import cached_step, uncached_step
from keras_transformer.layers.validation import check_positive_int

__all__ = ["DecodingOptions", "Translator"]


def _tensorflow():
    return keras.backend.backend() == "tensorflow"


class Translator:
    """Translates batches of strings with cached decoding compiled once per option set.

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

        run = Run(run_dir)
        model = run.load_model()  # FileNotFoundError without one
        return cls(model, run.source_tokenizer, run.target_tokenizer, step=step)

    def source_ids(self, texts):
        """Dense int32 ids `(batch, length)` (a `tf.Tensor`), truncated to `sequence_length`,
        at least one column (an all-empty batch is one column of padding). `texts`: a list of
        str or a string tensor `[batch]` (also inside a graph)."""
        if not tf.is_tensor(texts):
            texts = tf.constant(list(texts), tf.string)
        ids = self.source_tokenizer.tokenize(texts)
        ids = ids[:, : self.sequence_length].to_tensor(default_value=PAD_ID)
        # Pad to a multiple of 8 (at least 8): few distinct shapes for XLA, and padding does
        # not change the result; never wider than `sequence_length`, the positions the model
        # has (a learned table has no row past it).
        length = tf.shape(ids)[1]
        width = tf.minimum(tf.maximum(8 * ((length + 7) // 8), 8), self.sequence_length)
        return tf.cast(tf.pad(ids, [[0, 0], [0, tf.maximum(width, length) - length]]), tf.int32)

    def search_function(self, options):
        """The compiled `ids -> SearchResult` function of `options` (made once), on the
        active backend (`compile_search`)."""
        key = dataclasses.astuple(options)
        if key not in self._functions:
            options.check_vocabulary(self.target_tokenizer.vocabulary_size)
            arguments = dict(
                max_length=min(options.max_length or self.sequence_length, self.sequence_length),
                max_length_a=options.max_length_a,
                max_length_b=options.max_length_b,
                strategy=options.strategy,
                **options.search_arguments(self.no_repeat_ngram_size(options)),
            )

            def search(ids):
                return decode(self.step, self.model, ids, **arguments)

            signature = [tf.TensorSpec([None, None], tf.int32)] if _tensorflow() else None
            self._functions[key] = compile_search(
                search,
                # The uncached oracle slices a growing prefix: dynamic shapes, no XLA.
                options.jit_compile and self.step is not uncached_step,
                model=self.model,
                input_signature=signature,
            )
        return self._functions[key]

    def no_repeat_ngram_size(self, options):
        """The n-gram size `options` bans repeating (resolving None for the tokenizer)."""
        if options.no_repeat_ngram_size is not None:
            return options.no_repeat_ngram_size
        return 0 if self.target_tokenizer.kind == "character" else 3

    def strings_function(self, options):
        """TensorFlow backend only: the compiled `strings [batch] -> translations [batch]`
        function of `options`: tokenization, decoding and detokenization in one graph (what
        the export serves)."""
        if not _tensorflow():
            raise ValueError(
                "Translator.strings_function is one TensorFlow graph (what the SavedModel "
                f"export serves); the {keras.backend.backend()} backend is active. Use "
                "Translator.translate, or set KERAS_BACKEND=tensorflow."
            )
        key = ("strings", *dataclasses.astuple(options))
        if key not in self._functions:
            search = self.search_function(options)

            def translate(texts):
                return self.target_tokenizer.detokenize(search(self.source_ids(texts)).ids)

            self._functions[key] = tf.function(
                translate, input_signature=[tf.TensorSpec([None], tf.string)], autograph=False
            )
        return self._functions[key]

    def generate(self, source_ids, options=None, **kwargs):
        """A `SearchResult` (the backend's tensors): token ids `(batch, length)` (0 after
        `[END]`; `length` the longest limit the padded source width allows), their lengths
        and scores `(batch,)`. `source_ids`: int ids `(batch, width)`, any array."""
        options = resolve(options, kwargs)
        if _tensorflow():
            ids = tf.cast(source_ids, tf.int32)
        else:
            ids = ops.convert_to_tensor(np.asarray(source_ids, "int32"))
        return self.search_function(options)(ids)

    def _translate_batch(self, options):
        """`list of str -> translations (bytes)` for `options`."""
        if _tensorflow():
            strings_function = self.strings_function(options)
            return lambda batch: strings_function(tf.constant(batch, tf.string)).numpy()
        search = self.search_function(options)

        def translate(batch):
            ids = ops.convert_to_tensor(self.source_ids(batch).numpy())
            tokens = ops.convert_to_numpy(search(ids).ids)
            return self.target_tokenizer.detokenize(tf.constant(tokens)).numpy()

        return translate

    def translate(self, texts, options=None, batch_size=64, progress=None, **kwargs):
        """Translations of `texts` (a list of strings), in order.

        Args:
            texts: list of str.
            options: `DecodingOptions`; keyword arguments replace its fields (or make one).
            batch_size: int. Sentences decoded together. Defaults to `64`.
            progress: optional `keras.utils.Progbar`-like object with `add(n)`.
        """
        check_positive_int(batch_size, "batch_size")
        translate_batch = self._translate_batch(resolve(options, kwargs))
        texts = list(texts)
        translations = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            translations += [t.decode("utf-8") for t in translate_batch(batch)]
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
        source_ids = self.source_ids([text]).numpy()
        tokens = ops.convert_to_numpy(self.generate(source_ids, resolve(options, kwargs)).ids)
        produced = [int(t) for t in tokens[0]]
        length = produced.index(END_ID) + 1 if END_ID in produced else len(produced)
        produced = produced[:length]
        prefix = np.array([[START_ID] + produced[:-1]], "int32")
        encoder_outputs, source_mask = self.model.encode(source_ids)
        cache = self.model.initial_cache(encoder_outputs, length)
        step = self.model.decode_step(prefix, 0, cache, source_mask, return_attention_scores=True)
        scores = step["cross_attention"]
        source = [i for i in source_ids[0].tolist() if i != PAD_ID]
        weights = ops.convert_to_numpy(ops.cast(scores[-1][0], "float32"))[:, :, : len(source)]

        translation = self.target_tokenizer.detokenize(tf.constant(tokens[:1]))
        translation = translation.numpy()[0].decode("utf-8")
        source_tokens = [
            t.decode("utf-8") for t in self.source_tokenizer.id_to_token(source).numpy()
        ]
        target_tokens = [
            t.decode("utf-8") for t in self.target_tokenizer.id_to_token(produced).numpy()
        ]
        return translation, source_tokens, target_tokens, weights
