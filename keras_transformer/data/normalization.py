"""The one text normalisation of the package, the same when a tokenizer is learnt and used.

`normalize` runs in the TensorFlow graph (so a SavedModel carries it); `normalize_texts` runs
the very same graph function on Python strings, which is what the tokenizer learners see. There
is no second, Python-only path that could disagree with it (Python's `str.lower()` and the
NFKC case folding of tensorflow-text differ on `ß` and on final `ς`, for example).

The rule:

1. Unicode NFKC (compatibility characters become their plain form: full-width letters,
   ligatures, decomposed accents composed), or NFKC case folding when `lower_case`.
2. Every run of whitespace or Unicode space separators (tab, U+00A0 no-break space, U+202F
   narrow no-break space that French puts before `! ? : ;`, U+3000 ideographic space, line and
   paragraph separators...) becomes one ASCII space.
3. Spaces at both ends are removed.
"""

import tensorflow as tf
import tensorflow_text as tf_text

# RE2's \s is ASCII only ([\t\n\f\r ]); \p{Z} adds every Unicode space, line and paragraph
# separator; the rest are the other characters Python's str.split() treats as whitespace.
_SPACES = r"[\s\p{Z}\x{0B}\x{1C}-\x{1F}\x{85}]+"


def normalize(texts, lower_case=False):
    """Normalised strings of a string tensor of any shape (in-graph).

    Args:
        texts: a `tf.string` tensor, or anything convertible to one.
        lower_case: bool. NFKC case folding instead of NFKC. Defaults to `False`.

    Returns:
        A `tf.string` tensor of the same shape.

    Example:

    >>> [t.decode() for t in normalize(["Va\\u202f!", "Cafe\\u0301\\u3000 au  lait "]).numpy()]
    ['Va !', 'Café au lait']
    """
    texts = tf.convert_to_tensor(texts, dtype=tf.string)
    texts = tf_text.case_fold_utf8(texts) if lower_case else tf_text.normalize_utf8(texts, "NFKC")
    return tf.strings.strip(tf.strings.regex_replace(texts, _SPACES, " "))


@tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
def _normalize_cased(texts):
    return normalize(texts)


@tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
def _normalize_folded(texts):
    return normalize(texts, lower_case=True)


def normalize_texts(texts, lower_case=False, chunk_size=8192):
    """`normalize` on a list of Python strings, through the same graph ops.

    Example:

    >>> normalize_texts(["STRASSE\\u00a0ΣΑΣ", "Straße"], lower_case=True)
    ['strasse σασ', 'strasse']
    """
    function = _normalize_folded if lower_case else _normalize_cased
    texts = list(texts)
    normalized = []
    for start in range(0, len(texts), chunk_size):
        chunk = tf.constant(texts[start : start + chunk_size], tf.string)
        normalized += [t.decode("utf-8") for t in function(chunk).numpy()]
    return normalized
