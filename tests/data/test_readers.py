"""Every reader of the user's text files (`read_tsv`, `read_labelled`, `read_documents`)
decodes alike (`data.files.decode_text`): a UTF-8 byte order mark dropped, CRLF read as LF,
only "\\n" ending a line, and a bad byte or an encoded lone surrogate named by its line."""

import gzip
import re

import pytest

from keras_transformer.data.files import decode_text
from keras_transformer.data.labelled import read_labelled
from keras_transformer.data.text import read_documents
from keras_transformer.data.tsv import read_tsv

TSV = "Go.\tVa !\nHi.\tSalut !\nI'm\u2028cold.\tJ'ai froid.\n"
LABELLED = "Great film.\tpositive\nDull,\u2028dull.\tnegative\n"
LINES = "One line.\nAnother\u2028line with a separator.\nA third, with\ta tab.\n"
PARAGRAPHS = "A paragraph\nin two lines.\n\nAnother\u2028one.\n  \nThe last\none.\n"


def _write_both(directory, name, text):
    """The LF, BOM-less file and its CRLF twin with a BOM."""
    plain, windows = directory / f"{name}.txt", directory / f"{name}-crlf.txt"
    plain.write_bytes(text.encode("utf-8"))
    windows.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    return str(plain), str(windows)


def test_crlf_and_a_bom_read_as_lf_without_bom_by_every_reader(tmp_path):
    plain, windows = _write_both(tmp_path, "tsv", TSV)
    assert read_tsv(windows).pairs == read_tsv(plain).pairs
    assert read_tsv(plain).pairs[-1] == ("I'm\u2028cold.", "J'ai froid.")

    plain, windows = _write_both(tmp_path, "labelled", LABELLED)
    assert read_labelled(windows) == read_labelled(plain)
    assert read_labelled(plain) == [("Great film.", "positive"), ("Dull,\u2028dull.", "negative")]

    plain, windows = _write_both(tmp_path, "lines", LINES)
    assert read_documents(windows) == read_documents(plain)
    assert read_documents(plain) == [
        "One line.",
        "Another\u2028line with a separator.",
        "A third, with\ta tab.",
    ]

    plain, windows = _write_both(tmp_path, "paragraphs", PARAGRAPHS)
    assert read_documents(windows) == read_documents(plain)
    assert read_documents(plain) == [
        "A paragraph\nin two lines.",
        "Another\u2028one.",
        "The last\none.",
    ]


def test_gzipped_crlf_documents_with_a_bom(tmp_path):
    with gzip.open(tmp_path / "docs.txt.gz", "wb") as f:
        f.write(b"\xef\xbb\xbfFirst.\r\nSecond.\r\n")
    assert read_documents(str(tmp_path / "docs.txt.gz")) == ["First.", "Second."]


@pytest.mark.parametrize("separator", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2029"])
def test_only_newline_ends_a_line(tmp_path, separator):
    path = tmp_path / "docs.txt"
    path.write_bytes(f"a{separator}b\nc\n".encode())
    assert read_documents(str(path)) == [f"a{separator}b", "c"]
    path.write_bytes(f"a{separator}b\tx\nc\ty\n".encode())
    assert read_labelled(str(path)) == [(f"a{separator}b", "x"), ("c", "y")]
    assert read_tsv(path).pairs == [(f"a{separator}b", "x"), ("c", "y")]


def test_only_the_leading_bom_is_dropped(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_bytes("\ufeffFirst.\nSecond\ufeff.\n".encode())
    assert read_documents(str(path)) == ["First.", "Second\ufeff."]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"First.\n\xed\xa0\x80 a lone surrogate, encoded\n", 2),
        (b"First.\r\nSecond.\r\nCaf\xe9 in latin-1\r\n", 3),
        (b"\xef\xbb\xbfFirst.\nends inside a character \xe2\x82", 2),
    ],
)
def test_bad_utf8_is_named_by_its_line_by_every_reader(tmp_path, data, line):
    path = tmp_path / "bad.txt"
    path.write_bytes(data.replace(b".", b".\tlabel"))
    for read in (read_documents, read_labelled, read_tsv):
        with pytest.raises(
            ValueError, match=rf"^{re.escape(str(path))}:{line}: not valid UTF-8 \(byte 0x"
        ):
            read(str(path))


def test_decode_text():
    assert decode_text("x", b"\xef\xbb\xbfa\r\nb") == "a\r\nb"
    assert decode_text("x", "\ufeff\ufeffa".encode()) == "\ufeffa"  # one mark, then text
    with pytest.raises(ValueError, match=r"^x:1: not valid UTF-8 \(byte 0xed at byte 2 "):
        decode_text("x", b"a\xed\xb2\x80")
