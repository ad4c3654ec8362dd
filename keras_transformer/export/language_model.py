"""SavedModel export of a language model: prompts in, prompts continued out, cached
decoding inside the graph.

Like the translator's export, it needs only `tensorflow` and `tensorflow_text` to load:

    import tensorflow as tf, tensorflow_text  # noqa: F401
    model = tf.saved_model.load(EXPORT_DIR)
    model.generate(tf.constant(["The ", "Called when"]))                # tf.string [batch]
    model.signatures["serving_default"](prompt=tf.constant([...]))      # text, new_tokens
"""

import json

import tensorflow as tf

from keras_transformer.constants import START_ID
from keras_transformer.decoding.search import STRATEGIES, check_sampling
from keras_transformer.decoding.steps import language_model_step
from keras_transformer.export.saved_model import check_export_dir, save_staged
from keras_transformer.layers.validation import check_non_negative_int, check_positive_int

_PROMPT = tf.TensorSpec([None], tf.string, name="prompt")

# The options each strategy takes (what `decode` passes on to it).
_STRATEGY_OPTIONS = {
    "greedy": ("min_length", "no_repeat_ngram_size"),
    "beam": ("beam_width", "alpha", "min_length", "no_repeat_ngram_size"),
    "sample": ("temperature", "top_k", "top_p", "seed", "min_length", "no_repeat_ngram_size"),
}


class ExportedLanguageModel(tf.Module):
    """The object written to a language model's SavedModel: the model, its tokenizer and
    its vocabulary file (an asset) are tracked, so their variables, lookup tables and files
    are saved with it.

    `generate(prompts)` returns each prompt followed by its continuation: the text
    `keras_transformer.decoding.Generator(model, tokenizer).generate(prompts,
    max_new_tokens, strategy, **options)` returns in-process (no stop strings: cut the
    continuation on the client). A prompt of `n` tokens (`[START]` included) gets at most
    `min(max_new_tokens, sequence_length - n + 1)` new tokens, `[END]` included. A prompt
    as long as the model (`n >= sequence_length`, which `Generator` refuses) leaves no
    position to generate in: it comes back unchanged, with `new_tokens` 0, rather than
    failing the whole batch.

    The prompts of a batch may have different lengths: each is continued alone (a batch
    of 1, inside `tf.map_fn`), so none is padded. With `strategy="sample"` the draws are
    therefore those of `Generator.generate` on that prompt alone (in-process, prompts of
    equal length are sampled together).

    With `jit_compile=True` the search over one prompt is compiled with XLA once per
    prompt length (in tokens), when a prompt of that length is first served: the number of
    new tokens and the cache size are functions of the prompt's shape, which XLA resolves at
    compile time. The tokenization, the loop over prompts and the detokenization run
    outside XLA.

    Args:
        model: a trained `LanguageModel`.
        tokenizer: its tokenizer.
        vocabulary_file: path of the tokenizer's vocabulary (one JSON string a line), saved
            as an asset.
        max_new_tokens: int. Most new tokens per prompt, `[END]` included.
        strategy: `"greedy"`, `"beam"` or `"sample"`.
        jit_compile: bool. Compile each prompt's search with XLA.
        **options: the strategy's options, as `keras_transformer.decoding.decode` takes
            them.
    """

    def __init__(self, model, tokenizer, vocabulary_file, max_new_tokens=64, strategy="greedy",
                 jit_compile=True, **options):  # fmt: skip
        super().__init__(name="language_model")
        self.model = model
        self.tokenizer = tokenizer
        self.vocabulary_file = tf.saved_model.Asset(str(vocabulary_file))
        self._sequence_length = model.sequence_length
        search = STRATEGIES[strategy]
        repeat = options.get("beam_width", 4) if strategy == "beam" else 1

        def continue_prompt(prompt_ids):
            # (1, n) ids, [START] first -> min(max_new_tokens, sequence_length - n + 1) new ids.
            new = tf.minimum(max_new_tokens, self._sequence_length - tf.shape(prompt_ids)[1] + 1)
            step_fn, cache = language_model_step(model, prompt_ids, new, repeat)
            return search(step_fn, cache, tf.fill([1], new), new, **options)

        self._continue = tf.function(
            continue_prompt,
            input_signature=[tf.TensorSpec([1, None], tf.int32)],
            jit_compile=jit_compile,
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
        """Tracks the raw `tf.Variable`s the functions capture (as Keras' ExportArchive
        does): without this, TF1-style loaders (`saved_model_cli run`, TF Serving) cannot
        find the Keras 3 variables."""
        used = {}
        for function in (self.generate, self.serve):
            for variable in function.get_concrete_function().variables:
                used[id(variable)] = variable
        self._all_variables = list(used.values())

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


def check_generation_options(strategy, options, vocabulary_size):
    """Raises ValueError for an unknown strategy, an option the strategy does not take or
    an out-of-range value, naming the value and the fix."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {tuple(STRATEGIES)}; received {strategy!r}.")
    unknown = sorted(set(options) - set(_STRATEGY_OPTIONS[strategy]))
    if unknown:
        raise ValueError(
            f"strategy={strategy!r} takes the options {_STRATEGY_OPTIONS[strategy]}; received "
            f"{unknown}. Remove them or choose the strategy they belong to."
        )
    if "beam_width" in options:
        check_positive_int(options["beam_width"], "beam_width")
    for name in ("min_length", "no_repeat_ngram_size", "seed"):
        if name in options:
            check_non_negative_int(options[name], name)
    if strategy == "sample":
        top_k = options.get("top_k", 0)
        check_sampling(options.get("temperature", 1.0), top_k, options.get("top_p", 1.0))
        if top_k > vocabulary_size:
            raise ValueError(
                f"top_k={top_k} is more than the {vocabulary_size} tokens of the vocabulary; "
                f"use at most {vocabulary_size} (0 turns the filter off)."
            )


def write_vocabulary(tokenizer, path):
    """Writes `tokenizer`'s vocabulary to `path`, one JSON string a line (the asset the
    exports carry); returns `path`."""
    path.write_text(
        "".join(json.dumps(token, ensure_ascii=False) + "\n" for token in tokenizer.vocabulary),
        encoding="utf-8",
    )
    return path


def export_language_model(model, tokenizer, export_dir, max_new_tokens=64, strategy="greedy",
                          overwrite=False, jit_compile=True, **options):  # fmt: skip
    """Exports a language model as a SavedModel that continues prompts.

    The export loads with only `tensorflow` and `tensorflow_text`; see
    `ExportedLanguageModel` for what its `generate` function and `serving_default`
    signature (input `prompt`, outputs `text` and `new_tokens`) return.

    Args:
        model: a trained `LanguageModel`.
        tokenizer: its tokenizer.
        export_dir: where to write the SavedModel. Written to a temporary sibling directory,
            then renamed, so a failed export leaves nothing half-written.
        max_new_tokens: int. Most new tokens per prompt (`[END]` included), never past the
            model's `sequence_length`. Defaults to `64`.
        strategy: `"greedy"` (the default), `"beam"` or `"sample"`.
        overwrite: bool. Replace an existing `export_dir`. Defaults to `False`.
        jit_compile: bool. Compile each prompt's search with XLA (once per prompt length,
            when first served). Defaults to `True`.
        **options: the strategy's options: `beam_width`, `alpha` (beam); `temperature`,
            `top_k`, `top_p`, `seed` (sample); `min_length`, `no_repeat_ngram_size` (all).

    Returns:
        The export directory (`pathlib.Path`).

    Raises:
        FileExistsError: `export_dir` exists and `overwrite` is False.
        TypeError: `model` is not a `LanguageModel`.
        ValueError: an unknown strategy, an option the strategy does not take, an
            out-of-range option, or a tokenizer with more tokens than the model.
    """
    from keras_transformer.models.language_model import LanguageModel

    export_dir = check_export_dir(export_dir, overwrite)
    if not isinstance(model, LanguageModel):
        raise TypeError(
            f"export_language_model exports a LanguageModel; received {type(model).__name__}. "
            "Export a translation Transformer with export_saved_model and a Classifier with "
            "export_classifier."
        )
    check_positive_int(max_new_tokens, "max_new_tokens")
    check_tokenizer_size(tokenizer, model)
    check_generation_options(strategy, options, tokenizer.vocabulary_size)

    def build(staging):
        vocabulary = write_vocabulary(tokenizer, staging / "vocabulary.txt")
        module = ExportedLanguageModel(
            model, tokenizer, vocabulary, max_new_tokens, strategy, jit_compile, **options
        )
        module.track_used_variables()
        return module, {"serving_default": module.serve}

    return save_staged(export_dir, build, overwrite=overwrite)


def check_tokenizer_size(tokenizer, model):
    """Raises ValueError when `tokenizer` makes ids the model has no embedding for."""
    model_size = model.config.vocabulary_size
    if tokenizer.vocabulary_size > model_size:
        raise ValueError(
            f"The tokenizer has {tokenizer.vocabulary_size} tokens but the model only "
            f"{model_size}; pass the tokenizer the model was trained with."
        )
