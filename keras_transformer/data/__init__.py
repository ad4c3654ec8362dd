"""Reading and splitting parallel corpora."""

from keras_transformer.requirements import require_tensorflow

require_tensorflow("keras_transformer.data")
