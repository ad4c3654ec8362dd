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

import json
import pathlib
import shutil

import tensorflow as tf

from keras_transformer.atomic import temporary_path
from keras_transformer.decoding import DecodingOptions
from keras_transformer.export.target import check_export_dir, mark_export, remove_stale_staging
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
        """Tracks the raw `tf.Variable`s the functions capture (as Keras' ExportArchive
        does): without this, TF1-style loaders (`saved_model_cli run`, TF Serving) cannot
        find the Keras 3 variables."""
        functions = (self.translate, self.serve, self.logits)
        used = {}
        for function in functions:
            for variable in function.get_concrete_function().variables:
                used[id(variable)] = variable
        self._all_variables = list(used.values())

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


def _vocabulary_files(translator, directory):
    paths = []
    for side in ("source", "target"):
        path = pathlib.Path(directory) / f"{side}_vocabulary.txt"
        tokens = getattr(translator, f"{side}_tokenizer").vocabulary
        path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tokens))
        paths.append(path)
    return paths


def export_saved_model(run_dir, export_dir, beam_width=4, alpha=0.6, greedy=False,
                       max_length=None, max_length_a=1.5, max_length_b=10, jit_compile=True,
                       overwrite=False, no_repeat_ngram_size=None):  # fmt: skip
    """Exports a trained run directory as a SavedModel that translates strings.

    Decoding is that of `DecodingOptions`: beam search by default, with output lengths
    relative to the source.

    Args:
        run_dir: a run directory with a trained `model.keras`.
        export_dir: where to write the SavedModel. Written to a temporary sibling directory,
            then renamed, so a failed export leaves nothing half-written.
        beam_width: int. Beam search with this many beams. Defaults to `4` (the paper).
        alpha: float. Beam length penalty. Defaults to `0.6`.
        greedy: bool. Greedy decoding instead of beam search. Defaults to `False`.
        max_length: int or None. Most tokens generated (a cap); None = the model's
            `sequence_length`.
        max_length_a, max_length_b: a sentence of `n` source tokens makes at most
            `ceil(a * n) + b` tokens. Default to `1.5` and `10`.
        jit_compile: bool. Compile the decoding loop with XLA. Defaults to `True`.
        overwrite: bool. Replace an existing `export_dir`. Defaults to `False`.

    Returns:
        The export directory (`pathlib.Path`).

    Raises:
        FileNotFoundError: the run directory holds no trained model.
        FileExistsError: `export_dir` exists and `overwrite` is False.
    """
    export_dir = check_export_dir(export_dir, overwrite)
    options = DecodingOptions(
        strategy="greedy" if greedy else "beam",
        beam_width=beam_width,
        alpha=alpha,
        max_length=max_length,
        max_length_a=max_length_a,
        max_length_b=max_length_b,
        no_repeat_ngram_size=no_repeat_ngram_size,
        jit_compile=jit_compile,
    )
    translator = load_predictor(run_dir)

    def build(staging):
        (staging / "vocabularies").mkdir()
        vocabularies = _vocabulary_files(translator, staging / "vocabularies")
        module = ExportedTranslator(translator, options, vocabularies)
        module.track_used_variables()
        return module, {"serving_default": module.serve}

    return save_staged(export_dir, build, overwrite=overwrite, run_dir=run_dir)


def save_staged(export_dir, build, overwrite=False, run_dir=None):
    """Writes a SavedModel to a hidden sibling of `export_dir`, then renames it, so a
    failed export leaves nothing half-written (and an existing `export_dir` untouched).

    Args:
        export_dir: str or path. Where the SavedModel ends up.
        build: `build(staging) -> (module, signatures)`: makes the `tf.Module` to save and
            its signatures dict; `staging` (a `pathlib.Path`, removed afterwards) may hold
            the files its assets point to (they are copied into the SavedModel).
        overwrite: bool. Replace an earlier export in `export_dir` (only that: see
            `check_export_dir`). Defaults to `False`.
        run_dir: the run exported, recorded in the export's `EXPORT_MARKER`.

    Returns:
        The export directory (`pathlib.Path`).

    Raises:
        FileExistsError: `export_dir` exists and `overwrite` is False, or it is not an
            earlier export.
    """
    export_dir = check_export_dir(export_dir, overwrite)
    export_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(export_dir)
    staging = temporary_path(export_dir)
    try:
        staging.mkdir()
        module, signatures = build(staging)
        tf.saved_model.save(module, str(staging / "model"), signatures=signatures)
        mark_export(staging / "model", run_dir, "saved_model")
        check_export_dir(export_dir, overwrite)  # again: it may have appeared since
        if export_dir.exists():
            (staging / "model").rename(staging / "new")
            export_dir.rename(staging / "model")  # the old export: removed with the staging
            (staging / "new").rename(export_dir)
        else:
            (staging / "model").rename(export_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return export_dir
