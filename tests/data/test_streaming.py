"""Streamed corpora: files and globs, gzip, one scan, the hash split in the graph, shards,
fingerprints, token-based batches."""

import collections
import gzip
import os

import numpy as np
import pytest

from keras_transformer.data.corpus import load_corpus
from keras_transformer.data.files import (
    Fingerprint,
    TruncatedGzipError,
    check_unchanged,
    resolve_files,
    scan_files,
)
from keras_transformer.data.pipeline import make_dataset, token_batch_sizes
from keras_transformer.data.streaming import SplitRule, TrainStream, stream_pairs, survey
from keras_transformer.data.tokenizers import CharacterTokenizer
from keras_transformer.data.tsv import split_pairs

# 460 pairs with repeated sources (several translations of one sentence), odd lengths.
PAIRS = [
    (f"source {i % 230} {'x' * (i % 17)}".strip(), f"target {i} {'y' * (i % 23)}".strip())
    for i in range(460)
]


def _write(path, pairs, compress=False):
    text = "".join(f"{s}\t{t}\n" for s, t in pairs)
    if compress:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def two_files(tmp_path):
    """The pairs in two files, the second gzip'd, plus a blank line."""
    first = _write(tmp_path / "a.tsv", PAIRS[:200])
    with open(first, "a", encoding="utf-8") as f:
        f.write("  \n")
    second = _write(tmp_path / "b.tsv.gz", PAIRS[200:], compress=True)
    return [first, second]


def _stream(files, rule):
    result = survey(files, rule)
    return TrainStream(tuple(files), (), rule, result.train_pairs, 461), result


def test_a_glob_names_its_files_sorted_and_an_empty_glob_is_a_clear_error(tmp_path, two_files):
    assert resolve_files(str(tmp_path / "*.tsv*")) == sorted(two_files)
    assert resolve_files(two_files[::-1]) == two_files[::-1]
    with pytest.raises(FileNotFoundError, match=r"matches no file"):
        resolve_files(str(tmp_path / "*.csv"))
    with pytest.raises(IsADirectoryError, match=r"\*\.tsv"):
        resolve_files(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="neither the built-in"):
        resolve_files(str(tmp_path / "missing.tsv"))


def test_scan_counts_lines_of_plain_and_gzip_files(two_files):
    assert scan_files(two_files).lines == (201, 260)


def test_a_truncated_gzip_names_its_byte_offset(tmp_path):
    whole = _write(tmp_path / "c.tsv.gz", PAIRS * 20, compress=True)
    with open(whole, "rb") as f:
        data = f.read()
    cut = tmp_path / "cut.tsv.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedGzipError, match=rf"stops at byte {len(data) // 2} "):
        scan_files([str(cut)])
    with pytest.raises(TruncatedGzipError, match="truncated"):
        load_corpus(str(cut))


def test_scan_names_the_line_of_a_bad_byte(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"a\tb\nc\td\n\xe9t\xe9\tsummer\n")
    with pytest.raises(ValueError, match=r"latin1.tsv:3: not valid UTF-8"):
        scan_files([str(path)])


def test_the_streamed_split_is_the_held_split(two_files):
    """One rule: a pass over the files gives the same three splits as `split_pairs`."""
    rule = SplitRule(0.2, 0.1, seed=5)
    stream, result = _stream(two_files, rule)
    train, validation, test = split_pairs(PAIRS, 0.2, 0.1, seed=5)
    streamed = [(s.decode(), t.decode()) for s, t in stream_pairs(stream).as_numpy_iterator()]
    assert collections.Counter(streamed) == collections.Counter(train)
    assert result.train_pairs == len(train)
    assert sorted(result.validation) == sorted(validation)
    assert sorted(result.test) == sorted(test)
    sources = [{s for s, _ in split} for split in (train, validation, test)]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    assert validation and test


def test_shards_partition_the_training_pairs(two_files):
    stream, _ = _stream(two_files, SplitRule(0.1, 0.1))
    everything = list(stream_pairs(stream).as_numpy_iterator())
    shards = [list(stream_pairs(stream, shard=(3, i)).as_numpy_iterator()) for i in range(3)]
    assert all(shards) and sum(map(len, shards)) == len(everything)
    merged = collections.Counter(pair for shard in shards for pair in shard)
    assert merged == collections.Counter(everything)


def test_the_tokenizer_sample_is_bounded_seeded_and_from_the_training_split(two_files):
    rule = SplitRule(0.1, 0.1, seed=2)
    first = survey(two_files, rule, sample_pairs=100, train_lines=370)
    again = survey(two_files, rule, sample_pairs=100, train_lines=370)
    assert first.sample == again.sample
    assert 60 <= len(first.sample) <= 140
    held = {s for s, _ in first.validation + first.test}
    assert not {s for s, _ in first.sample} & held


def test_malformed_lines_are_reported_with_file_and_line(tmp_path):
    path = _write(tmp_path / "bad.tsv", PAIRS[:50])
    with open(path, "a", encoding="utf-8") as f:
        f.write("no tab here\nsource only\t \n")
    result = survey([path], SplitRule(0.0, 0.0))
    assert result.malformed == 2
    assert result.first_malformed == [
        f"{path}:51: no tab separating source and target",
        f"{path}:52: an empty side",
    ]


def test_a_changed_file_is_named(tmp_path):
    path = _write(tmp_path / "a.tsv", PAIRS[:10])
    fingerprint = Fingerprint.of(path)
    check_unchanged([fingerprint])
    with open(path, "a", encoding="utf-8") as f:
        f.write("new\tline\n")
    assert fingerprint.resized()
    with pytest.raises(ValueError, match=r"a\.tsv changed size"):
        check_unchanged([fingerprint])
    os.remove(path)
    with pytest.raises(ValueError, match="no longer exists"):
        check_unchanged([fingerprint])


def test_token_batches_hold_about_the_tokens_asked_for(two_files):
    source = CharacterTokenizer.learn([s for s, _ in PAIRS])
    target = CharacterTokenizer.learn([t for _, t in PAIRS])
    stream, _ = _stream(two_files, SplitRule(0.0, 0.0))
    batches = list(make_dataset(stream, source, target, 40, batch_tokens=256, seed=1))
    seen = 0
    for inputs, labels in batches:
        length = max(inputs["encoder_inputs"].shape[1], labels.shape[1])
        assert labels.shape[0] * length <= 256
        seen += labels.shape[0]
    assert seen == len(stream)
    sizes = [labels.shape[0] for _, labels in batches]
    assert max(sizes) > 2 * min(sizes)  # short pairs come many to a batch
    assert token_batch_sizes(256, [9, 17], 40) == [32, 16, 6]


def test_a_small_corpus_is_held_and_a_large_one_streamed(tmp_path, monkeypatch, two_files):
    held = load_corpus(two_files)
    assert not held.streamed and len(held.train) + len(held.validation) + len(held.test) == 460
    monkeypatch.setattr("keras_transformer.data.corpus.STREAM_ABOVE_LINES", 100)
    streamed = load_corpus(two_files, sample_pairs=50)
    assert streamed.streamed and len(streamed.train) == len(held.train)
    assert sorted(streamed.validation) == sorted(held.validation)
    assert 0 < len(streamed.sample) < len(held.train)
    streamed.save(tmp_path / "splits")
    assert sorted(os.listdir(tmp_path / "splits")) == ["corpus.json"]
    loaded = type(streamed).load(tmp_path / "splits")
    assert loaded.streamed and sorted(loaded.test) == sorted(held.test)
    np.testing.assert_equal(len(loaded.train), len(held.train))
