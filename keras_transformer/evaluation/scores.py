"""Corpus scores of translations: BLEU and chrF (sacrebleu), exact match."""

import sacrebleu


def exact_match(hypotheses, references):
    """Share of hypotheses equal to their reference (after stripping surrounding spaces)."""
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses but {len(references)} references; they must pair up."
        )
    if not references:
        return 0.0
    hits = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references, strict=True))
    return hits / len(references)


def corpus_scores(hypotheses, references):
    """`{"bleu", "chrf", "exact_match"}` of a corpus, BLEU and chrF on sacrebleu's 0-100 scale.

    Example:

    >>> scores = corpus_scores(["2021-03-04", "1999-12-01"], ["2021-03-04", "1999-12-31"])
    >>> scores["exact_match"], round(scores["chrf"], 1) > 50
    (0.5, True)
    """
    exact = exact_match(hypotheses, references)
    return {
        "bleu": sacrebleu.corpus_bleu(hypotheses, [references]).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, [references]).score,
        "exact_match": exact,
    }
