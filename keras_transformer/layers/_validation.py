"""Deprecated location, kept while imports move: use `keras_transformer.layers.validation`."""

from keras_transformer.layers.validation import *  # noqa: F403
