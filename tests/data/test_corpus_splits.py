"""The JSON-lines splits of the language-model and classifier runs (`data.corpus.ExampleSplits`):
any text written is read back, by this reader and by any other that splits on "\\n"."""

import json

import pytest

from keras_transformer.data.corpus import ExampleSplits

# Every character some reader takes for a line end, and others that tempt a reader to strip.
BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
OTHERS = ["\x00", "\t", "\ufeff", " ", "\x1f", '"', "\\", "\\u2028", "\U0001f600"]


def _texts():
    texts = []
    for c in BREAKS + OTHERS:
        texts += [f"a{c}b", f"{c}start", f"end{c}", c, f"{c}{c}"]
    texts += ["\ufeffBOM first", "a BOM\ufeffinside", "".join(BREAKS + OTHERS), ""]
    return texts


@pytest.mark.parametrize("kind", ["documents", "pairs", "triples"])
def test_every_line_break_and_odd_character_round_trips(tmp_path, kind):
    texts = _texts()
    if kind == "documents":
        examples = texts
    elif kind == "pairs":
        examples = [(text, label) for text, label in zip(texts, texts[::-1], strict=True)]
    else:
        examples = [(t, t[::-1] or "x", f"label{t}") for t in texts]
    splits = ExampleSplits(examples, examples[::-1], examples[:3])
    splits.save(tmp_path / "splits")
    loaded = ExampleSplits.load(tmp_path / "splits")
    assert loaded == splits
    for name in ("train", "validation", "test"):
        assert all(
            type(e) is type(o)
            for e, o in zip(getattr(loaded, name), getattr(splits, name), strict=True)
        )
        data = (tmp_path / "splits" / f"{name}.jsonl").read_bytes()
        # One example a line for any reader: no raw character a line reader would cut at.
        assert len(data.decode("utf-8").splitlines()) == len(getattr(splits, name))
        assert data.count(b"\n") == len(getattr(splits, name))
        assert not any(c.encode() in data for c in BREAKS if c != "\n")


def test_runs_written_before_the_escapes_still_load(tmp_path):
    """The old writer left U+2028, U+2029 and U+0085 raw inside the JSON strings."""
    directory = tmp_path / "splits"
    directory.mkdir()
    examples = {
        "train": ["one\u2028two", "three\x85four\u2029"],
        "validation": ["five"],
        "test": [],
    }
    for name, values in examples.items():
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in values)
        (directory / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    assert "\u2028" in (directory / "train.jsonl").read_text(encoding="utf-8")
    assert ExampleSplits.load(directory) == ExampleSplits(**examples)


def test_a_lone_surrogate_is_refused_naming_the_split_and_example(tmp_path):
    splits = ExampleSplits(["fine"], ["fine", ("also fine", "x"), ("bad \udc80", "x")], [])
    with pytest.raises(ValueError, match=r"validation split's example 2 holds a lone surrogate"):
        splits.save(tmp_path / "splits")
    assert not (tmp_path / "splits" / "train.jsonl").exists()  # nothing written


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ('"one"\n"tw', 2),  # truncated: the last line cut short
        ('"one"\n["a", "b"]\n["c", \n', 3),
        ('"one"\n\n"two"\n', 2),  # an empty line is no example
        ('"one"\n12\n', 2),  # JSON, but no example
        ('"one"\n["a"]\n', 2),
    ],
)
def test_a_damaged_split_file_names_its_line(tmp_path, content, line):
    directory = tmp_path / "splits"
    ExampleSplits(["a"], ["b"], ["c"]).save(directory)
    (directory / "validation.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        ExampleSplits.load(directory)
    message = str(info.value)
    assert message.startswith(f"{directory / 'validation.jsonl'}:{line}: ")
    assert "damaged; train again with --overwrite" in message


def test_invalid_utf8_and_a_missing_file(tmp_path):
    directory = tmp_path / "splits"
    ExampleSplits(["a"], ["b"], ["c"]).save(directory)
    (directory / "test.jsonl").write_bytes(b'"c"\n"\xe2\x80"\n')
    with pytest.raises(ValueError, match=r"test.jsonl:2: not valid UTF-8; the run's split file"):
        ExampleSplits.load(directory)
    (directory / "test.jsonl").unlink()
    with pytest.raises(FileNotFoundError, match="No test split"):
        ExampleSplits.load(directory)


def test_a_file_without_its_last_newline_or_with_crlf_still_loads(tmp_path):
    directory = tmp_path / "splits"
    ExampleSplits(["a"], ["b"], ["c"]).save(directory)
    (directory / "train.jsonl").write_bytes(b'"a"\r\n["b", "x"]')
    assert ExampleSplits.load(directory).train == ["a", ("b", "x")]
