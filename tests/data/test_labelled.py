"""Labelled text for classifiers (`keras_transformer.data.labelled`) and the JSON-lines
splits of the language-model and classifier runs (`data.corpus.ExampleSplits`)."""

import gzip

import numpy as np
import pytest

from keras_transformer.constants import END_ID, START_ID
from keras_transformer.data.corpus import ExampleSplits, split_examples
from keras_transformer.data.labelled import (
    balanced_class_weight,
    class_counts,
    encode_texts,
    label_vocabulary,
    make_classification_dataset,
    read_labelled,
)
from keras_transformer.data.tokenizers import CharacterTokenizer

TOKENIZER = CharacterTokenizer.learn(["abcdef xyz"])


def test_reads_single_texts_and_pairs_from_plain_and_gzip_files(tmp_path):
    (tmp_path / "a.tsv").write_text("\ufeffGreat film.\tpositive\n\n Dull. \tnegative\r\n", "utf-8")
    with gzip.open(tmp_path / "b.tsv.gz", "wt", encoding="utf-8") as f:
        f.write("Fine.\tneutral\n")
    examples = read_labelled([str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv.gz")])
    assert examples == [("Great film.", "positive"), ("Dull.", "negative"), ("Fine.", "neutral")]
    (tmp_path / "pairs.tsv").write_text("a cat\ta dog\tdifferent\n", "utf-8")
    assert read_labelled(str(tmp_path / "pairs.tsv")) == [("a cat", "a dog", "different")]


def test_malformed_lines_name_file_and_line_or_are_skipped(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("good\tx\nno label\nthree\tcolumns\there\n\ty\nalso good\ty\n", "utf-8")
    with pytest.raises(ValueError) as error:
        read_labelled(str(path))
    message = str(error.value)
    assert "3 malformed line(s)" in message and "--skip-malformed" in message
    assert "bad.tsv:2: no label column" in message
    assert "bad.tsv:3: 3 columns where the first line has 2" in message
    assert "bad.tsv:4: an empty field" in message
    assert read_labelled(str(path), skip_malformed=True) == [("good", "x"), ("also good", "y")]
    with pytest.raises(FileNotFoundError):
        read_labelled(str(tmp_path / "missing.tsv"))


def test_labels_counts_and_balanced_weights():
    examples = [("a", "x")] * 6 + [("b", "y")] * 2 + [("c", "z")]
    labels = label_vocabulary(examples)
    assert labels == ["x", "y", "z"] and class_counts(examples, labels) == {"x": 6, "y": 2, "z": 1}
    weights = balanced_class_weight(examples, labels)
    # Each class then weighs as much as the others: weight * count is the same for all.
    assert {round(weights[i] * c, 9) for i, c in enumerate((6, 2, 1))} == {3.0}
    with pytest.raises(ValueError, match="at least two labels"):
        label_vocabulary([("a", "x"), ("b", "x")])


def test_encoding_puts_start_first_truncates_and_marks_segments():
    ids = encode_texts(TOKENIZER, np.array(["abc", "abcdefabcdef"]), 5).numpy()
    assert ids.shape == (2, 5) and (ids[:, 0] == START_ID).all()
    assert (ids[0, 4:] == 0).all() and (ids[1] != 0).all()  # padded; truncated to 5
    pair = encode_texts(TOKENIZER, np.array(["ab"]), 8, np.array(["xyz"]))
    tokens, segments = pair["token_ids"].numpy()[0], pair["segment_ids"].numpy()[0]
    assert tokens[0] == START_ID and tokens[3] == END_ID
    assert segments.tolist() == [0, 0, 0, 0, 1, 1, 1]


def test_dataset_batches_class_ids_and_refuses_unknown_labels():
    examples = [("abc", "x"), ("de", "y"), ("f", "x")]
    batches = list(make_classification_dataset(examples, TOKENIZER, ["x", "y"], 8, 2,
                                               shuffle=False))  # fmt: skip
    assert [b[1].numpy().tolist() for b in batches] == [[0, 1], [0]]
    with pytest.raises(ValueError, match=r"Labels \['z'\] are not among the run's labels"):
        make_classification_dataset([("a", "z")], TOKENIZER, ["x", "y"], 8, 2)
    kept = make_classification_dataset([("a", "z"), ("b", "y")], TOKENIZER, ["x", "y"], 8, 2,
                                       known_only=True)  # fmt: skip
    assert [b[1].numpy().tolist() for b in kept] == [[1]]


def test_example_splits_round_trip_any_text(tmp_path):
    splits = ExampleSplits(["a\nb\tc", "d"], ["e"], [])
    splits.save(tmp_path / "splits")
    assert ExampleSplits.load(tmp_path / "splits") == splits
    labelled = ExampleSplits([("a", "b", "x")], [("c", "y")], [("d", "x")])
    labelled.save(tmp_path / "labelled")
    assert ExampleSplits.load(tmp_path / "labelled") == labelled


def test_split_examples_keeps_equal_texts_together():
    examples = [(f"text {i % 50}", "x" if i % 3 else "y") for i in range(300)]
    train, validation, test = split_examples(examples, 0.2, 0.2, seed=1, key=lambda e: e[0])
    assert len(train) + len(validation) + len(test) == 300
    texts = [{t for t, _ in split} for split in (train, validation, test)]
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])
    assert split_examples(examples, 0.2, 0.2, seed=1, key=lambda e: e[0])[1] == validation
