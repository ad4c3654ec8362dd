"""Corpus scores of translations: BLEU and chrF (sacrebleu), exact match, loops.

References may be one string per hypothesis or a list of strings (every translation of the
source in the corpus: multi-reference BLEU and chrF, as sacrebleu computes them).
"""

import re
import unicodedata

import sacrebleu

# sacrebleu's BLEU tokenizations users may pick; "char" fits scripts written without spaces.
BLEU_TOKENIZATIONS = ("13a", "intl", "char", "zh", "ja-mecab", "ko-mecab", "none")
# Scripts written without spaces between words.
_SPACELESS_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR")
_WORD_LOOP = re.compile(r"(?:^|\s)(\S+)(?:\s+\1){2}(?=\s|$)")  # a word 3 times in a row
_CHARACTER_LOOP = re.compile(r"(\S)\1{4}")  # a character 5 times in a row
_PIECE_LOOP = re.compile(r"(\S{2,8}?)\1{3}")  # 2-8 characters 4 times in a row


def _reference_lists(references):
    return [[r] if isinstance(r, str) else list(r) for r in references]


def exact_match(hypotheses, references):
    """Share of hypotheses equal to (one of) their reference(s), surrounding spaces aside."""
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses but {len(references)} references; they must pair up."
        )
    if not references:
        return 0.0
    hits = sum(
        h.strip() in {r.strip() for r in refs}
        for h, refs in zip(hypotheses, _reference_lists(references), strict=True)
    )
    return hits / len(references)


def is_looping(text):
    """True when a word occurs three times in a row, a character five times in a row, or a
    piece of 2-8 characters four times in a row: the signature of a model stuck in a loop
    ("été été été", "compppppp", "recompompompomp").

    >>> is_looping("Nous devons recompompompomp"), is_looping("Il a dit : non, non.")
    (True, False)
    """
    return any(p.search(text) for p in (_WORD_LOOP, _CHARACTER_LOOP, _PIECE_LOOP))


def loop_rate(hypotheses):
    """Share of hypotheses that loop (`is_looping`)."""
    return sum(map(is_looping, hypotheses)) / len(hypotheses) if hypotheses else 0.0


def choose_bleu_tokenize(texts):
    """`"char"` when most letters of `texts` are from a script written without spaces
    (Japanese, Chinese, Thai...), else sacrebleu's default `"13a"`.

    >>> choose_bleu_tokenize(["私は学生です。"]), choose_bleu_tokenize(["I am a student."])
    ('char', '13a')
    """
    letters = spaceless = 0
    for text in texts[:2000]:
        for character in text:
            if character.isalpha():
                letters += 1
                name = unicodedata.name(character, "")
                spaceless += name.startswith(_SPACELESS_SCRIPTS)
    return "char" if letters and spaceless / letters > 0.5 else "13a"


def corpus_scores(hypotheses, references, bleu_tokenize="13a"):
    """BLEU and chrF (sacrebleu, 0-100), exact match and loop rate of a corpus.

    Args:
        hypotheses: list of str.
        references: one str, or a list of str (all references), per hypothesis.
        bleu_tokenize: sacrebleu's BLEU tokenization (`BLEU_TOKENIZATIONS`). Defaults to
            `"13a"`.

    Example:

    >>> scores = corpus_scores(["2021-03-04", "1999-12-01"], ["2021-03-04", "1999-12-31"])
    >>> scores["exact_match"], round(scores["chrf"], 1) > 50
    (0.5, True)
    >>> hypothesis = "the cat sat on the mat"
    >>> round(corpus_scores([hypothesis], [["a cat was on a mat", hypothesis]])["bleu"], 1)
    100.0
    """
    if bleu_tokenize not in BLEU_TOKENIZATIONS:
        raise ValueError(
            f"bleu_tokenize must be one of {BLEU_TOKENIZATIONS}; received {bleu_tokenize!r}."
        )
    exact = exact_match(hypotheses, references)
    lists = _reference_lists(references)
    streams = max((len(refs) for refs in lists), default=1)
    # sacrebleu takes reference streams; a missing reference is None.
    padded = [[refs[i] if i < len(refs) else None for refs in lists] for i in range(streams)]
    return {
        "bleu": sacrebleu.corpus_bleu(hypotheses, padded, tokenize=bleu_tokenize).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, padded).score,
        "exact_match": exact,
        "loop_rate": loop_rate(hypotheses),
    }


def group_references(pairs):
    """`(sources, references)`: each distinct source once (first-seen order) with the list of
    all its targets in `pairs`."""
    grouped = {}
    for source, target in pairs:
        grouped.setdefault(source, []).append(target)
    return list(grouped), list(grouped.values())
