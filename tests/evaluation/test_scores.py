"""Corpus scores (`keras_transformer.evaluation.scores`): BLEU and chrF, several references,
the BLEU tokenization choice, exact match, loop rate."""

import pytest

from keras_transformer.evaluation import corpus_scores, group_references, is_looping
from keras_transformer.evaluation.scores import (
    BLEU_TOKENIZATIONS,
    choose_bleu_tokenize,
    exact_match,
    loop_rate,
)


@pytest.mark.parametrize(
    "texts, expected",
    [
        (["私は学生です。", "猫が好きです。"], "char"),  # Japanese
        (["我是学生。"], "char"),  # Chinese
        (["ฉันเป็นนักเรียน"], "char"),  # Thai
        (["I am a student.", "Je suis étudiant."], "13a"),
        (["Я студент."], "13a"),  # Cyrillic is written with spaces
        (["私は学生です。", "I am a student, she is a teacher, and we are friends."], "13a"),
        ([], "13a"),
        (["123 - 456 !"], "13a"),  # no letters at all
    ],
)
def test_choose_bleu_tokenize(texts, expected):
    chosen = choose_bleu_tokenize(texts)
    assert chosen == expected and chosen in BLEU_TOKENIZATIONS


def test_exact_match_ignores_surrounding_spaces_and_takes_any_reference():
    assert exact_match([" 2021-03-04\n", "b"], ["2021-03-04", ["a", "b "]]) == 1.0
    assert exact_match(["a", "x"], [["a"], ["b", "c"]]) == 0.5
    assert exact_match([], []) == 0.0


def test_loop_rate_is_the_share_of_looping_hypotheses():
    assert loop_rate(["été été été", "Il a dit : non, non.", "aaaaaa", "ok"]) == 0.5
    assert loop_rate([]) == 0.0


def test_scores_of_perfect_and_wrong_translations():
    perfect = corpus_scores(["2021-03-04", "1999-12-31"], ["2021-03-04", "1999-12-31"])
    assert perfect == {
        "bleu": pytest.approx(100.0),
        "chrf": pytest.approx(100.0),
        "exact_match": 1.0,
        "loop_rate": 0.0,
    }
    wrong = corpus_scores(["abc", "def"], ["2021-03-04", "1999-12-31"])
    assert wrong["exact_match"] == 0.0 and wrong["chrf"] < 10
    with pytest.raises(ValueError, match="pair up"):
        exact_match(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="bleu_tokenize must be one of"):
        corpus_scores(["a"], ["a"], bleu_tokenize="words")


def test_several_references_per_source():
    pairs = [("Hi.", "Salut !"), ("Go.", "Va !"), ("Hi.", "Bonjour !")]
    sources, references = group_references(pairs)
    assert sources == ["Hi.", "Go."] and references == [["Salut !", "Bonjour !"], ["Va !"]]
    hypotheses = ["Bonjour !", "Va !"]
    assert corpus_scores(hypotheses, references)["exact_match"] == 1.0
    one_reference = corpus_scores(hypotheses, [refs[0] for refs in references])
    assert corpus_scores(hypotheses, references)["chrf"] > one_reference["chrf"]
    # Japanese scored by characters: one wrong character of six is not a zero.
    japanese = corpus_scores(["私は学生です"], [["私は先生です"]], bleu_tokenize="char")
    assert 0 < japanese["bleu"] < 100


def test_loops_are_detected():
    looping = ["Il a fait de la compppppppu", "été été été", "Nous devons recompompompomp"]
    fine = ["Il a dit : non, non.", "Aaah !", "2021-03-04", "私は学生です。"]
    assert all(map(is_looping, looping)) and not any(map(is_looping, fine))
