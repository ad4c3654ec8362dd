"""SavedModel export: raw strings in, translations out, cached decoding inside the graph.

The SavedModel needs only `tensorflow` and `tensorflow_text` to load (tensorflow-text
registers the tokenizer ops); it holds the tokenizers, the trained weights and the compiled
decoding loop:

    import tensorflow as tf, tensorflow_text  # noqa: F401
    translator = tf.saved_model.load(EXPORT_DIR)
    translator.translate(tf.constant(["jeudi 4 mars 2021"]))          # tf.string [batch]
    translator.signatures["serving_default"](text=tf.constant([...]))  # translation, tokens
    translator.logits(encoder_ids, decoder_ids)                        # teacher-forced scoring
"""

import warnings

import tensorflow as tf

from keras_transformer.decoding.options import TRANSLATION_DEFAULTS, resolve
from keras_transformer.export.staging import save_staged, track_used_variables, write_vocabulary
from keras_transformer.export.target import check_export_dir
from keras_transformer.predictors import load_predictor

_TEXT = tf.TensorSpec([None], tf.string, name="text")
_IDS = tf.TensorSpec([None, None], tf.int32)


class ExportedTranslator(tf.Module):
    """The object written to the SavedModel. Its attributes (model, tokenizers, vocabulary
    assets) are tracked, so their variables, lookup tables and files are saved with it."""

    def __init__(self, translator, options, vocabulary_files):
        super().__init__(name="translator")
        self.model = translator.model
        self.source_tokenizer = translator.source_tokenizer
        self.target_tokenizer = translator.target_tokenizer
        self.vocabulary_files = [tf.saved_model.Asset(str(path)) for path in vocabulary_files]
        self._translator = translator
        # The decoding loop (XLA-compiled when options.jit_compile), called on the token ids.
        self._search = translator.search_function(options)

    def _tokens(self, text):
        return self._search(self._translator.source_ids(text)).ids

    def track_used_variables(self):
        """Tracks the raw variables its functions use (`staging.track_used_variables`)."""
        track_used_variables(self, (self.translate, self.serve, self.logits))

    @tf.function(input_signature=[_TEXT])
    def translate(self, text):
        """Translations of a batch of strings, `tf.string [batch]`."""
        return self.target_tokenizer.detokenize(self._tokens(text))

    @tf.function(input_signature=[_TEXT])
    def serve(self, text):
        tokens = self._tokens(text)
        return {"translation": self.target_tokenizer.detokenize(tokens), "tokens": tokens}

    @tf.function(input_signature=[_IDS, _IDS])
    def logits(self, encoder_inputs, decoder_inputs):
        """Teacher-forced float32 logits `(batch, target_length, vocabulary)`."""
        return self.model(
            {"encoder_inputs": encoder_inputs, "decoder_inputs": decoder_inputs}, training=False
        )


def export_saved_model(run_dir, export_dir, options=None, overwrite=False, **changes):
    """Exports a trained run directory as a SavedModel that translates strings.

    Args:
        run_dir: a run directory with a trained `model.keras`.
        export_dir: where to write the SavedModel. Written to a temporary sibling directory,
            then renamed, so a failed export leaves nothing half-written.
        options: `DecodingOptions` the export decodes with: beam search or greedy (default:
            `TRANSLATION_DEFAULTS`, the paper's beam search, output lengths relative to the
            source). `jit_compile` compiles the decoding loop with XLA.
        overwrite: bool. Replace an earlier export in `export_dir`. Defaults to `False`.
        **changes: `DecodingOptions` fields replacing those of `options` (e.g.
            `beam_width=2`). `greedy=True` (the spelling before `options`, deprecated) is
            `strategy="greedy"`.

    Returns:
        The export directory (`pathlib.Path`).

    Raises:
        FileNotFoundError: the run directory holds no trained model.
        FileExistsError: `export_dir` exists and `overwrite` is False.
        ValueError: a sampling strategy (a translation export searches), or an option the
            strategy does not take.
    """
    if "greedy" in changes:
        warnings.warn(
            'export_saved_model(greedy=True) is deprecated; pass strategy="greedy" or '
            'options=DecodingOptions(strategy="greedy").',
            DeprecationWarning,
            stacklevel=2,
        )
        if changes.pop("greedy"):
            changes["strategy"] = "greedy"
    options = resolve(options, changes, TRANSLATION_DEFAULTS)
    if options.strategy == "sample":
        raise ValueError(
            "A translation export decodes with beam search or greedily; received "
            "strategy='sample'. Drop the sampling options (--sample, --top-k, --top-p, "
            "--temperature)."
        )
    export_dir = check_export_dir(export_dir, overwrite)
    translator = load_predictor(run_dir)

    def build(staging):
        (staging / "vocabularies").mkdir()
        vocabularies = [
            write_vocabulary(getattr(translator, f"{side}_tokenizer"),
                             staging / "vocabularies" / f"{side}_vocabulary.txt")
            for side in ("source", "target")
        ]  # fmt: skip
        module = ExportedTranslator(translator, options, vocabularies)
        module.track_used_variables()
        return module, {"serving_default": module.serve}

    return save_staged(export_dir, build, overwrite=overwrite, run_dir=run_dir)
