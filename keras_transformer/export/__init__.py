"""Export: a SavedModel that takes strings and returns strings, and the bare `.keras` model."""

from keras_transformer.export.keras_file import export_keras, load_keras
from keras_transformer.export.saved_model import ExportedTranslator, export_saved_model

EXPORT_FORMATS = ("saved_model", "keras")

__all__ = [
    "EXPORT_FORMATS",
    "ExportedTranslator",
    "export_keras",
    "export_saved_model",
    "load_keras",
]
