"""Export, one signature for every task and format (`export(run, directory, format,
options)`): SavedModels that take and return strings (a translator, a language model, a
classifier), and the bare `.keras` model."""

from keras_transformer.requirements import require_tensorflow

require_tensorflow("keras_transformer.export")

from keras_transformer.export.classifier import ExportedClassifier, export_classifier
from keras_transformer.export.keras_file import export_keras, load_keras
from keras_transformer.export.language_model import ExportedLanguageModel, export_language_model
from keras_transformer.export.run_export import EXPORT_FORMATS, export
from keras_transformer.export.saved_model import ExportedTranslator, export_saved_model

__all__ = [
    "EXPORT_FORMATS",
    "ExportedClassifier",
    "ExportedLanguageModel",
    "ExportedTranslator",
    "export",
    "export_classifier",
    "export_keras",
    "export_language_model",
    "export_saved_model",
    "load_keras",
]
