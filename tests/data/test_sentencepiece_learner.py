"""The SentencePiece learner runs in a process of its own that gets the texts on its stdin and
gives the model back on its stdout: no copy of the user's text is written to the temporary
directory, and a killed training leaves neither a file nor an orphan learner."""

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest
import sentencepiece
from sentencepiece import sentencepiece_model_pb2

from keras_transformer.data.normalization import normalize_texts
from keras_transformer.data.sentencepiece_tokenizer import SentencePieceTokenizer

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"
# Normalisation makes every line or paragraph separator a space; a NUL stays.
TEXTS = [
    "Il fait beau.\u2028Il pleut.",
    "J'ai faim.\rQui est là ?",
    "Une page\x0cune autre\x85et\u2029la fin.",
    "Deux\nlignes.",
    "Un NUL\x00dedans.",
    "",
] * 20


def _pieces(model):
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model)
    return proto


def _sentences():
    lines = (FIXTURES / "european-generated.tsv").read_text(encoding="utf-8").splitlines()
    return [side for line in lines for side in line.split("\t")[:2]] + TEXTS


def test_the_model_is_the_one_learnt_from_a_file(tmp_path):
    """The texts the learner reads from its stdin are those a file of one normalised text a
    line gives the trainer: the same BPE pieces (deterministic) in the same order."""
    texts = _sentences()
    tokenizer = SentencePieceTokenizer.learn(texts, vocabulary_size=500, model_type="bpe")
    spec = _pieces(tokenizer.model).trainer_spec
    lines = [t.replace("\n", " ") for t in normalize_texts(texts) if t]
    assert any("\x00" in line for line in lines)
    with open(tmp_path / "texts.txt", "w", encoding="utf-8", newline="\n") as f:
        f.writelines(line + "\n" for line in lines)
    with open(tmp_path / "model", "wb") as model:
        sentencepiece.SentencePieceTrainer.train(
            input=str(tmp_path / "texts.txt"), model_writer=model, model_type="bpe",
            vocab_size=spec.vocab_size, hard_vocab_limit=False,
            character_coverage=spec.character_coverage, byte_fallback=True,
            normalization_rule_name="nfkc", pad_id=0, unk_id=1, bos_id=2, eos_id=3,
            pad_piece="[PAD]", unk_piece="[UNK]", bos_piece="[START]", eos_piece="[END]",
            max_sentence_length=1 << 16, num_threads=2, minloglevel=2,
        )  # fmt: skip
    from_file = _pieces((tmp_path / "model").read_bytes())
    assert [p.piece for p in _pieces(tokenizer.model).pieces] == [p.piece for p in from_file.pieces]
    assert spec.input_sentence_size == from_file.trainer_spec.input_sentence_size


def test_round_trip_and_size_of_a_unigram_model():
    tokenizer = SentencePieceTokenizer.learn(_sentences(), vocabulary_size=400)
    assert len(tokenizer.vocabulary) == 400
    sentences = ["Il fait beau.", "Qui est là ?", "Une\u2028page."]
    ids = tokenizer.tokenize(sentences)
    assert [t.decode() for t in tokenizer.detokenize(ids).numpy()] == normalize_texts(sentences)


def test_learning_writes_nothing_to_the_temporary_directory(tmp_path, monkeypatch):
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    monkeypatch.setenv("TMPDIR", str(private))  # the learner's too
    before = sorted(os.listdir(tempfile.gettempdir()))
    SentencePieceTokenizer.learn(TEXTS, vocabulary_size=300)
    new = set(os.listdir(tempfile.gettempdir())) - set(before)
    assert not [n for n in new if n.startswith("sentencepiece-")]
    # Nothing at all but what TensorFlow's autograph may write when it first converts a function.
    assert not [n for n in new if not n.startswith("__autograph_generated_file")]


def test_empty_texts_and_a_failing_learner_are_clear_errors():
    with pytest.raises(ValueError, match="from empty texts"):
        SentencePieceTokenizer.learn(["", " \n "], vocabulary_size=300)
    with pytest.raises(ValueError, match=r"could not learn 100 pieces from 100 sentences .*\(.+\)"):
        SentencePieceTokenizer.learn(TEXTS, vocabulary_size=100, model_type="bpe")


_DRIVER = textwrap.dedent(
    """
    import random
    from keras_transformer.data.sentencepiece_tokenizer import SentencePieceTokenizer

    rng = random.Random(0)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9)))
             for _ in range(5000)]
    texts = [" ".join(rng.choices(words, k=12)) for _ in range(40000)]
    SentencePieceTokenizer.learn(texts, vocabulary_size=8000)
    print("learnt")
    """
)


def _children(pid):
    """The processes whose parent is `pid`."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _learning(pid):
    """Whether `pid` is a learner that has read all its input (its stdin is /dev/null)."""
    try:
        command = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
        return b"_sentencepiece_learner.py" in command and (
            os.readlink(f"/proc/{pid}/fd/0") == os.devnull
        )
    except OSError:
        return False


def _alive(pid):
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_a_killed_training_leaves_no_learner_and_no_file(tmp_path):
    private = tmp_path / "tmp"
    private.mkdir()
    environment = {**os.environ, "TMPDIR": str(private), "TF_CPP_MIN_LOG_LEVEL": "3"}
    driver = subprocess.Popen(
        [sys.executable, "-c", _DRIVER], env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        learner, deadline = None, time.monotonic() + 120
        while learner is None and driver.poll() is None and time.monotonic() < deadline:
            learner = next((c for c in _children(driver.pid) if _learning(c)), None)
            time.sleep(0.02)
        assert learner is not None, "the learner was not seen training"
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        assert driver.stdout.read() == b""  # killed before it learnt
        deadline = time.monotonic() + 10
        while _alive(learner) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(learner), "the learner outlived the training that started it"
        assert not [n for n in os.listdir(private) if n.startswith("sentencepiece-")]
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
