"""What the export tests' loader scripts start with: a fresh interpreter in which
keras_transformer cannot be imported, with only tensorflow and tensorflow_text."""

PREAMBLE = """
import importlib.abc, json, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "keras_transformer":
            raise ImportError("keras_transformer must not be needed to load the export")

sys.meta_path.insert(0, Block())
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tokenizer ops)
"""
