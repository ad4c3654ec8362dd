import logging
import re

import pytest

from keras_transformer.data.tsv import TsvCorpus, read_tsv, split_pairs, write_tsv


def _write(path, text):
    path.write_bytes(text.encode("utf-8"))
    return path


def test_reads_pairs_ignoring_extra_columns_bom_and_crlf(tmp_path):
    path = _write(
        tmp_path / "fra.txt",
        "\ufeffGo.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM)\r\n"
        "  Hi. \t Salut !\r\n"
        "\r\n"
        "I'm cold.\tJ'ai froid.\n",
    )
    corpus = read_tsv(path)
    assert isinstance(corpus, TsvCorpus)
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !"), ("I'm cold.", "J'ai froid.")]
    assert corpus.skipped == []
    assert corpus.path == str(path)


def test_blank_lines_are_not_malformed(tmp_path):
    path = _write(tmp_path / "c.tsv", "\n  \na\tb\n\t\n\n")
    assert read_tsv(path).pairs == [("a", "b")]


MALFORMED = "a\tb\nno tab here\nc\td\n\tonly target\nonly source\t  \ne\tf\n"


def test_malformed_lines_raise_with_file_and_line_numbers(tmp_path):
    path = _write(tmp_path / "corpus.tsv", MALFORMED)
    with pytest.raises(ValueError) as info:
        read_tsv(path)
    message = str(info.value)
    assert f"{path}:2: no tab separating source and target" in message
    assert f"{path}:4: empty source" in message
    assert f"{path}:5: empty target" in message
    assert f"{path}:1:" not in message and f"{path}:3:" not in message
    assert "3 malformed line(s)" in message
    assert "skip_malformed=True" in message and "--skip-malformed" in message


def test_error_lists_only_the_first_five(tmp_path):
    path = _write(tmp_path / "c.tsv", "a\tb\n" + "bad\n" * 8)
    with pytest.raises(ValueError, match="8 malformed") as info:
        read_tsv(path)
    listed = re.findall(rf"{re.escape(str(path))}:(\d+):", str(info.value))
    assert listed == ["2", "3", "4", "5", "6"]
    assert "and 3 more" in str(info.value)


def test_malformed_lines_skipped_with_warning(tmp_path, caplog):
    path = _write(tmp_path / "corpus.tsv", MALFORMED)
    with caplog.at_level(logging.WARNING, logger="keras_transformer"):
        corpus = read_tsv(path, skip_malformed=True)
    assert corpus.pairs == [("a", "b"), ("c", "d"), ("e", "f")]
    assert [n for n, _ in corpus.skipped] == [2, 4, 5]
    assert corpus.skipped[1] == (4, "empty source")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "skipped 3 malformed line(s)" in warnings[0].getMessage()
    assert str(path) in warnings[0].getMessage()


def test_empty_file_raises(tmp_path):
    path = _write(tmp_path / "empty.tsv", "")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        read_tsv(path)


def test_only_malformed_lines_under_skip_raises(tmp_path):
    path = _write(tmp_path / "bad.tsv", "no tab\n\tb\n")
    with pytest.raises(ValueError, match=r"no 'source<TAB>target' pair found \(2 malformed"):
        read_tsv(path, skip_malformed=True)


def test_missing_file_and_directory(tmp_path):
    missing = tmp_path / "nope.tsv"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))) as info:
        read_tsv(missing)
    assert "source<TAB>target" in str(info.value)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        read_tsv(tmp_path)


def test_latin1_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("Hi.\tSalut !\nCoffee.\tCafé.\n".encode("latin-1"))
    with pytest.raises(ValueError) as info:
        read_tsv(path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: not valid UTF-8")
    assert "byte 0xe9" in message and "iconv" in message


def test_bad_byte_line_counts_after_bom(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_bytes(b"\xef\xbb\xbfa\tb\nc\td\n\xff\tx\n")
    with pytest.raises(ValueError, match=r":3: not valid UTF-8 \(byte 0xff at byte 1 "):
        read_tsv(path)


def test_write_read_round_trip_non_ascii(tmp_path):
    pairs = [("Café ?", "咖啡？"), ("Привет.", "Bonjour."), ("naïve 🙂", "ナイーブ")]
    path = tmp_path / "out.tsv"
    write_tsv(pairs, path)
    assert read_tsv(path).pairs == pairs
    write_tsv(pairs[:1], path)  # replaces the existing file
    assert read_tsv(path).pairs == pairs[:1]
    assert [p.name for p in tmp_path.iterdir()] == ["out.tsv"]  # no temporary left behind


@pytest.mark.parametrize("pair", [("a\tb", "c"), ("a", "b\nc"), ("  ", "c")])
def test_write_rejects_unreadable_pairs(tmp_path, pair):
    path = tmp_path / "out.tsv"
    with pytest.raises(ValueError, match="pair 1"):
        write_tsv([("ok", "ok"), pair], path)
    assert list(tmp_path.iterdir()) == []


def _pairs(n, translations=1):
    return [(f"sentence {i}", f"phrase {i} v{k}") for i in range(n) for k in range(translations)]


def test_split_is_deterministic_and_seeded():
    pairs = _pairs(200)
    assert split_pairs(pairs, seed=3) == split_pairs(list(pairs), seed=3)
    assert split_pairs(pairs, seed=3) != split_pairs(pairs, seed=4)


def test_split_keeps_sources_disjoint_and_order():
    pairs = _pairs(300, translations=3)
    train, validation, test = split_pairs(pairs, 0.2, 0.2, seed=1)
    sources = [{s for s, _ in split} for split in (train, validation, test)]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    assert sorted(train + validation + test) == sorted(pairs)
    for split in (train, validation, test):
        assert split == [p for p in pairs if p in set(split)]  # original order kept


def test_split_fractions_roughly_respected():
    train, validation, test = split_pairs(_pairs(1000), 0.1, 0.2)
    assert len(train) + len(validation) + len(test) == 1000
    assert 60 <= len(validation) <= 140
    assert 150 <= len(test) <= 250
    assert split_pairs(_pairs(50), 0.0, 0.0) == (_pairs(50), [], [])


@pytest.mark.parametrize("fractions", [(-0.1, 0.1), (0.1, 1.0), (0.5, 0.5), (float("nan"), 0.1)])
def test_split_rejects_invalid_fractions(fractions):
    with pytest.raises(ValueError, match="fraction") as info:
        split_pairs(_pairs(10), *fractions)
    assert repr(fractions[0]) in str(info.value)


def test_split_with_empty_train_raises():
    with pytest.raises(ValueError, match="training set would be empty"):
        split_pairs([], 0.1, 0.1)
    with pytest.raises(ValueError, match="training set would be empty"):
        split_pairs([("only", "one")] * 3, 0.0, 0.999)
