"""Streamed language-model documents and classifier examples (`data.example_streaming`): the
split of translation's rule, equal to the in-memory split, shards, gzip and globs, the
sample's labels, save and load, changed files."""

import collections
import gzip
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer.constants import END_ID, START_ID
from keras_transformer.data import example_streaming
from keras_transformer.data.corpus import ExampleSplits, StreamedExampleSplits, split_examples
from keras_transformer.data.example_streaming import ExampleStream, stream_examples
from keras_transformer.data.files import scan_files
from keras_transformer.data.labelled import (
    label_vocabulary,
    load_labelled,
    make_classification_dataset,
    read_labelled,
)
from keras_transformer.data.streaming import SplitRule
from keras_transformer.data.text import load_documents, make_block_dataset, read_documents
from keras_transformer.data.tokenizers import CharacterTokenizer

# Odd characters the JSON key escapes, or the readers strip, or that end lines elsewhere.
ODD = ['"', "\\", "\x01", "\x0b", "\x85", "\u2028", "\xa0", "é"]
DOCUMENTS = [f"Doc {i}{ODD[i % len(ODD)]} {'x' * (i % 7)}".strip() for i in range(240)]
LABELS = ["neg", "neu", "pos"]
EXAMPLES = [(f"text {i % 150}{ODD[i % len(ODD)]}", LABELS[i % 3]) for i in range(300)]
EXAMPLES[7] = ("a lone one", "rare")  # one example of its label


def _write(path, text):
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def documents(tmp_path):
    """Documents in a file of lines (with a byte order mark), and paragraphs (CRLF, blank
    lines of spaces) in a gzip'd one; a glob names both."""
    _write(tmp_path / "a.txt", "\ufeff" + "".join(f"{d}\n" for d in DOCUMENTS[:150]))
    paragraphs = "".join(f"{d}\r\nits second line\r\n \r\n\r\n" for d in DOCUMENTS[150:])
    _write(tmp_path / "b.txt.gz", paragraphs + "last\nparagraph")
    return str(tmp_path / "*.txt*")


@pytest.fixture
def labelled(tmp_path):
    """The examples in two files, the second gzip'd, with a blank line."""
    lines = [f"{text}\t{label}\n" for text, label in EXAMPLES]
    first = _write(tmp_path / "a.tsv", "".join(lines[:120]) + "  \n")
    second = _write(tmp_path / "b.tsv.gz", "".join(lines[120:]))
    return [first, second]


def test_the_streamed_documents_are_split_as_in_memory(documents):
    held = load_documents(documents, 0.2, 0.1, seed=3)
    streamed = load_documents(documents, 0.2, 0.1, seed=3, stream=True, sample_size=40)
    assert not held.streamed and streamed.streamed
    assert isinstance(streamed, StreamedExampleSplits) and isinstance(streamed, ExampleSplits)
    assert streamed.train.paragraphs == (False, True)
    assert streamed.validation == held.validation and streamed.test == held.test
    assert held.validation and held.test
    assert streamed.train.head(1000) == held.train  # corpus order
    assert len(streamed.train) == len(held.train)
    assert streamed.train.characters == sum(len(d) for d in held.train)
    assert "last\nparagraph" in held.train + held.validation + held.test
    assert 0 < len(streamed.sample) < len(held.train) and set(streamed.sample) <= set(held.train)


def test_the_split_is_translations_rule_on_the_json_key(documents, labelled):
    """The key `split_examples` hashes, computed in the graph, under `SplitRule`."""
    rule = SplitRule(0.25, 0.25, seed=7)
    for corpus, load, key in (
        (documents, load_documents, lambda d: d),
        (labelled, load_labelled, lambda e: list(e[:-1])),
    ):
        splits = load(corpus, 0.25, 0.25, seed=7, stream=True)
        assert splits.rule == rule
        named = {0: splits.train.head(1000), 1: splits.validation, 2: splits.test}
        for split, examples in named.items():
            keys = [json.dumps(key(e), ensure_ascii=False) for e in examples]
            assert rule.assign(tf.constant(keys)).numpy().tolist() == [split] * len(keys)
    texts = [" a\t", 'q"\\', "\x00\x1f", "é\u2028"]
    got = tf.strings.join(example_streaming.json_parts(tf.constant(texts))).numpy()
    assert [g.decode() for g in got] == [json.dumps(t, ensure_ascii=False) for t in texts]


def test_the_streamed_examples_are_split_as_in_memory(labelled):
    held = load_labelled(labelled, 0.2, 0.2, seed=1)
    streamed = load_labelled(labelled, 0.2, 0.2, seed=1, stream=True)
    assert streamed.validation == held.validation and streamed.test == held.test
    assert streamed.train.head(1000) == held.train
    train, validation, test = split_examples(
        read_labelled(labelled), 0.2, 0.2, seed=1, key=lambda example: example[:-1]
    )
    assert (held.train, held.validation, held.test) == (train, validation, test)
    texts = [{e[0] for e in split} for split in (held.train, held.validation, held.test)]
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])


def test_the_sample_holds_every_label_and_the_counts_are_the_whole_splits(labelled):
    streamed = load_labelled(labelled, 0.1, 0.1, stream=True, sample_size=10)
    held = load_labelled(labelled, 0.1, 0.1)
    counts = collections.Counter(label for _, label in held.train)
    assert streamed.train.label_counts == dict(sorted(counts.items()))
    assert streamed.label_counts["rare"] == 1
    assert len(streamed.sample) < 30
    assert label_vocabulary(streamed.sample) == sorted(counts) == [*LABELS, "rare"]


def test_sentence_pairs_stream(tmp_path):
    lines = "".join(f"first {i}\tsecond {i % 5}\t{LABELS[i % 2]}\n" for i in range(60))
    path = _write(tmp_path / "pairs.tsv", lines)
    held = load_labelled(path, 0.2, 0.2)
    streamed = load_labelled(path, 0.2, 0.2, stream=True)
    assert streamed.train.columns == 3
    assert streamed.train.head(100) == held.train and streamed.test == held.test
    tokenizer = CharacterTokenizer.learn([t for e in held.train for t in e[:2]])
    batch, class_ids = next(iter(make_classification_dataset(
        streamed.train, tokenizer, LABELS[:2], 16, 8, shuffle=False
    )))  # fmt: skip
    assert set(batch) == {"token_ids", "segment_ids"} and class_ids.shape == (8,)


def test_malformed_lines_are_named_or_skipped(tmp_path):
    path = _write(tmp_path / "bad.tsv", "good\tpos\nno tab\nthree\tcolumns\there\n\tneg\nok\tneg\n")
    with pytest.raises(ValueError, match=r"bad.tsv:2: no label column") as raised:
        load_labelled(path, 0.0, 0.0, stream=True)
    message = str(raised.value)
    assert "bad.tsv:3: 3 columns where the first line has 2" in message
    assert "bad.tsv:4: an empty field" in message and message.startswith("3 malformed")
    streamed = load_labelled(path, 0.0, 0.0, stream=True, skip_malformed=True)
    assert streamed.train.head(10) == [("good", "pos"), ("ok", "neg")]
    empty = _write(tmp_path / "empty.txt", "\n  \n")
    with pytest.raises(ValueError, match="holds no text"):
        load_documents(empty, stream=True)


def test_two_shards_partition_the_training_examples(documents, labelled):
    for corpus, load in ((documents, load_documents), (labelled, load_labelled)):
        stream = load(corpus, 0.1, 0.1, stream=True).train
        everything = list(stream_examples(stream).as_numpy_iterator())
        shards = [list(stream_examples(stream, shard=(2, i)).as_numpy_iterator())
                  for i in range(2)]  # fmt: skip
        assert all(shards) and sum(map(len, shards)) == len(everything) == len(stream)
        key = tuple if stream.kind == "labelled" else bytes
        merged = collections.Counter(key(e) for shard in shards for e in shard)
        assert merged == collections.Counter(key(e) for e in everything)


def test_the_block_dataset_streams_every_document_once_per_pass(documents):
    streamed = load_documents(documents, 0.1, 0.1, stream=True)
    held = load_documents(documents, 0.1, 0.1)
    tokenizer = CharacterTokenizer.learn(read_documents(documents))
    in_order = make_block_dataset(streamed.train, tokenizer, 16, 4, shuffle=False)
    inputs = np.concatenate([x.numpy() for x, _ in in_order])
    labels = np.concatenate([y.numpy() for _, y in in_order])
    stream = []
    for document in held.train:
        stream += [START_ID, *tokenizer.tokenize([document]).numpy()[0], END_ID]
    blocks = len(stream) // 17
    np.testing.assert_array_equal(inputs, np.reshape(stream[: blocks * 17], [blocks, 17])[:, :-1])
    np.testing.assert_array_equal(labels, np.reshape(stream[: blocks * 17], [blocks, 17])[:, 1:])
    epoch = tf.Variable(0, dtype=tf.int64)
    shuffled = make_block_dataset(streamed.train, tokenizer, 16, 4, seed=2, epoch=epoch)
    first = np.concatenate([x.numpy() for x, _ in shuffled])
    assert sorted(map(tuple, first)) != list(map(tuple, first))  # some order, not the file's
    assert len(first) == blocks  # all the text, in another order
    again = np.concatenate([x.numpy() for x, _ in shuffled])
    np.testing.assert_array_equal(first, again)  # the same epoch, the same order
    epoch.assign(1)
    assert not np.array_equal(first, np.concatenate([x.numpy() for x, _ in shuffled]))
    halves = [make_block_dataset(streamed.train, tokenizer, 16, 4, shard=(2, i)) for i in (0, 1)]
    assert 0 < sum(x.shape[0] for half in halves for x, _ in half) <= blocks


def test_the_classification_dataset_reads_the_stream(labelled):
    streamed = load_labelled(labelled, 0.1, 0.1, stream=True)
    held = load_labelled(labelled, 0.1, 0.1)
    labels = label_vocabulary(streamed.sample)
    tokenizer = CharacterTokenizer.learn([e[0] for e in held.train])
    dataset = make_classification_dataset(streamed.train, tokenizer, labels, 24, 16, seed=1)
    class_ids = np.concatenate([y.numpy() for _, y in dataset])
    expected = [labels.index(label) for _, label in held.train]
    assert sorted(class_ids.tolist()) == sorted(expected)
    with pytest.raises(ValueError, match=r"\['rare'\] are not among"):
        make_classification_dataset(streamed.train, tokenizer, LABELS, 24, 16)
    known = make_classification_dataset(streamed.train, tokenizer, LABELS, 24, 16,
                                        known_only=True, shard=(2, 1))  # fmt: skip
    seen = np.concatenate([y.numpy() for _, y in known])
    assert 0 < len(seen) < len(expected) and set(seen.tolist()) <= {0, 1, 2}


def test_a_small_corpus_is_held_and_a_large_one_streamed(documents, labelled, monkeypatch):
    assert not load_documents(documents).streamed
    assert not load_labelled(labelled).streamed
    monkeypatch.setattr("keras_transformer.data.corpus.STREAM_ABOVE_LINES", 100)
    assert load_documents(documents).streamed and load_labelled(labelled).streamed
    assert not load_labelled(labelled, stream=False).streamed
    held = load_documents("python-docs", stream=True)  # built in: never streamed
    assert not held.streamed and len(held.validation) > 0


def test_streamed_splits_round_trip_and_reopen(tmp_path, labelled):
    streamed = load_labelled(labelled, 0.2, 0.1, seed=4, stream=True)
    streamed.save(tmp_path / "splits")
    names = sorted(os.listdir(tmp_path / "splits"))
    assert names == ["corpus.json", "sample.jsonl", "test.jsonl", "validation.jsonl"]
    loaded = ExampleSplits.load(tmp_path / "splits")
    assert isinstance(loaded, StreamedExampleSplits) and loaded.streamed
    assert loaded.train == streamed.train and loaded.rule == streamed.rule
    assert loaded.validation == streamed.validation and loaded.test == streamed.test
    assert loaded.sample == streamed.sample  # small: kept whole
    assert loaded.train.head(1000) == streamed.train.head(1000)
    recorded = json.loads((tmp_path / "splits" / "corpus.json").read_text())
    assert recorded["kind"] == "labelled" and recorded["examples"] == len(streamed.train)


def test_a_saved_sample_keeps_every_label(tmp_path, labelled, monkeypatch):
    monkeypatch.setattr(StreamedExampleSplits, "SAVED_SAMPLE", 5)
    streamed = load_labelled(labelled, 0.0, 0.0, stream=True)
    streamed.save(tmp_path / "splits")
    loaded = ExampleSplits.load(tmp_path / "splits")
    assert len(loaded.sample) < len(streamed.sample)
    assert label_vocabulary(loaded.sample) == [*LABELS, "rare"]


def test_check_unchanged_names_a_changed_file(tmp_path, documents):
    streamed = load_documents(documents, stream=True)
    streamed.train.check_unchanged()
    streamed.save(tmp_path / "splits")
    with open(tmp_path / "a.txt", "a", encoding="utf-8") as f:
        f.write("one more document\n")
    with pytest.raises(ValueError, match=r"a\.txt changed size"):
        streamed.train.check_unchanged("the run")
    with pytest.raises(ValueError, match=r"a\.txt changed size"):
        ExampleSplits.load(tmp_path / "splits").train.head(3)


def test_paragraphs_cut_by_a_batch_boundary_are_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(example_streaming, "_LINE_BATCH", 2)
    text = "one\ntwo\nthree\n\nfour\n\n\n\nfive\nsix\n \t\nseven"
    path = _write(tmp_path / "p.txt", text)
    stream = ExampleStream("documents", (path,), (), SplitRule(0.0, 0.0), 4, 12, (True,))
    got = [d.decode() for d in stream_examples(stream).as_numpy_iterator()]
    assert got == ["one\ntwo\nthree", "four", "five\nsix", "seven"]
    assert got == read_documents(path)


def test_a_paragraph_break_across_read_chunks_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr("keras_transformer.data.files._CHUNK", 4)
    lines = _write(tmp_path / "lines.txt", "abcdefg\nhij \r\nklm\n \t")
    broken = _write(tmp_path / "broken.txt", "abcdefg\n \t \r\nklm\n")
    assert scan_files([lines, broken], paragraphs=True).paragraphs == (False, True)
    assert [len(read_documents(path)) for path in (lines, broken)] == [3, 2]


def test_the_columns_are_the_first_non_blank_lines_after_a_byte_order_mark(tmp_path):
    path = _write(tmp_path / "bom.tsv", "\ufeff \t\r\nx\ty\tz\nu\tv\tw\n")
    streamed = load_labelled(path, 0.0, 0.0, stream=True)
    assert streamed.train.columns == 3
    assert streamed.train.head(5) == read_labelled(path) == [("x", "y", "z"), ("u", "v", "w")]
