"""SavedModel export of a language model: prompts in, prompts continued out, cached
decoding inside the graph.

Like the translator's export, it needs only `tensorflow` and `tensorflow_text` to load:

    import tensorflow as tf, tensorflow_text  # noqa: F401
    model = tf.saved_model.load(EXPORT_DIR)
    model.generate(tf.constant(["The ", "Called when"]))                # tf.string [batch]
    model.signatures["serving_default"](prompt=tf.constant([...]))      # text, new_tokens
"""

import tensorflow as tf

from keras_transformer.constants import START_ID
from keras_transformer.decoding.options import GENERATION_DEFAULTS, resolve
from keras_transformer.decoding.search import STRATEGIES
from keras_transformer.decoding.steps import language_model_step
from keras_transformer.export.staging import (
    check_tokenizer_size,
    save_staged,
    track_used_variables,
    write_vocabulary,
)
from keras_transformer.export.target import check_export_dir

_PROMPT = tf.TensorSpec([None], tf.string, name="prompt")


class ExportedLanguageModel(tf.Module):
    """The object written to a language model's SavedModel: the model, its tokenizer and
    its vocabulary file (an asset) are tracked, so their variables, lookup tables and files
    are saved with it.

    `generate(prompts)` returns each prompt followed by its continuation: the text
    `keras_transformer.decoding.Generator(model, tokenizer).generate(prompts, options)`
    returns in-process (no stop strings: cut the
    continuation on the client). A prompt of `n` tokens (`[START]` included) gets at most
    `min(max_new_tokens, sequence_length - n + 1)` new tokens, `[END]` included. A prompt
    as long as the model (`n >= sequence_length`, which `Generator` refuses) leaves no
    position to generate in: it comes back unchanged, with `new_tokens` 0, rather than
    failing the whole batch.

    The prompts of a batch may have different lengths: each is continued alone (a batch
    of 1, inside `tf.map_fn`), so none is padded. With `strategy="sample"` the draws are
    therefore those of `Generator.generate` on that prompt alone (in-process, prompts of
    equal length are sampled together).

    With `options.jit_compile` the search over one prompt is compiled with XLA once per
    prompt length (in tokens), when a prompt of that length is first served: the number of
    new tokens and the cache size are functions of the prompt's shape, which XLA resolves at
    compile time. The tokenization, the loop over prompts and the detokenization run
    outside XLA.

    Args:
        model: a trained `LanguageModel`.
        tokenizer: its tokenizer.
        vocabulary_file: path of the tokenizer's vocabulary (one JSON string a line), saved
            as an asset.
        options: `DecodingOptions`: the strategy and its options, `max_new_tokens` (most
            new tokens per prompt, `[END]` included) and `jit_compile`.
    """

    def __init__(self, model, tokenizer, vocabulary_file, options=GENERATION_DEFAULTS):
        super().__init__(name="language_model")
        self.model = model
        self.tokenizer = tokenizer
        self.vocabulary_file = tf.saved_model.Asset(str(vocabulary_file))
        self._sequence_length = model.sequence_length
        search = STRATEGIES[options.strategy]
        arguments = options.search_arguments()
        repeat = options.beam_width if options.strategy == "beam" else 1
        max_new_tokens = options.max_new_tokens

        def continue_prompt(prompt_ids):
            # (1, n) ids, [START] first -> min(max_new_tokens, sequence_length - n + 1) new ids.
            new = tf.minimum(max_new_tokens, self._sequence_length - tf.shape(prompt_ids)[1] + 1)
            step_fn, cache = language_model_step(model, prompt_ids, new, repeat)
            return search(step_fn, cache, tf.fill([1], new), new, **arguments)

        self._continue = tf.function(
            continue_prompt,
            input_signature=[tf.TensorSpec([1, None], tf.int32)],
            jit_compile=options.jit_compile,
        )

    def _generate(self, prompts):
        """`(texts [batch], new_tokens [batch])`."""
        token_ids = tf.cast(self.tokenizer.tokenize(prompts), tf.int32)

        def one(index):
            prompt_ids = tf.concat([[START_ID], token_ids[index]], axis=0)[None, :]

            def unchanged():
                return prompts[index], tf.constant(0)

            def continued():
                result = self._continue(prompt_ids)
                full = tf.concat([prompt_ids[:, 1:], result.ids], axis=1)
                return self.tokenizer.detokenize(full)[0], result.lengths[0]

            too_long = tf.shape(prompt_ids)[1] >= self._sequence_length
            return tf.cond(too_long, unchanged, continued)

        return tf.map_fn(
            one,
            tf.range(tf.shape(prompts)[0]),
            fn_output_signature=(tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32)),
        )

    def track_used_variables(self):
        """Tracks the raw variables its functions use (`staging.track_used_variables`)."""
        track_used_variables(self, (self.generate, self.serve))

    @tf.function(input_signature=[_PROMPT])
    def generate(self, prompt):
        """Each prompt followed by its continuation, `tf.string [batch]`."""
        return self._generate(prompt)[0]

    @tf.function(input_signature=[_PROMPT])
    def serve(self, prompt):
        """`{"text": tf.string [batch], "new_tokens": int32 [batch]}`: the continued
        prompts and the tokens generated for each (`[END]` included; 0 for a prompt as long
        as the model, returned unchanged)."""
        text, new_tokens = self._generate(prompt)
        return {"text": text, "new_tokens": new_tokens}


def export_language_model(model, tokenizer, export_dir, options=None, overwrite=False,
                          **changes):  # fmt: skip
    """Exports a language model as a SavedModel that continues prompts.

    The export loads with only `tensorflow` and `tensorflow_text`; see
    `ExportedLanguageModel` for what its `generate` function and `serving_default`
    signature (input `prompt`, outputs `text` and `new_tokens`) return.

    Args:
        model: a trained `LanguageModel`.
        tokenizer: its tokenizer.
        export_dir: where to write the SavedModel. Written to a temporary sibling directory,
            then renamed, so a failed export leaves nothing half-written.
        options: `DecodingOptions` (default: `GENERATION_DEFAULTS`, the nucleus sampling
            `keras-transformer generate` uses): the strategy and its options,
            `max_new_tokens` (most new tokens per prompt, `[END]` included, never past the
            model's `sequence_length`) and `jit_compile` (compile each prompt's search with
            XLA, once per prompt length, when first served). Its `stop` strings are not
            applied: cut the continuation on the client.
        overwrite: bool. Replace an earlier export in `export_dir`. Defaults to `False`.
        **changes: `DecodingOptions` fields replacing those of `options` (e.g.
            `strategy="greedy"`, `max_new_tokens=32`).

    Returns:
        The export directory (`pathlib.Path`).

    Raises:
        FileExistsError: `export_dir` exists and `overwrite` is False.
        TypeError: `model` is not a `LanguageModel`.
        ValueError: an unknown strategy, an option the strategy does not take, an
            out-of-range option, or a tokenizer with more tokens than the model.
    """
    from keras_transformer.models.language_model import LanguageModel

    options = resolve(options, changes, GENERATION_DEFAULTS)
    export_dir = check_export_dir(export_dir, overwrite)
    if not isinstance(model, LanguageModel):
        raise TypeError(
            f"export_language_model exports a LanguageModel; received {type(model).__name__}. "
            "Export a translation Transformer with export_saved_model and a Classifier with "
            "export_classifier."
        )
    check_tokenizer_size(tokenizer, model)
    options.check_vocabulary(tokenizer.vocabulary_size)

    def build(staging):
        vocabulary = write_vocabulary(tokenizer, staging / "vocabulary.txt")
        module = ExportedLanguageModel(model, tokenizer, vocabulary, options)
        module.track_used_variables()
        return module, {"serving_default": module.serve}

    return save_staged(export_dir, build, overwrite=overwrite)
