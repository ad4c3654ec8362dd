"""Plain text for language models: documents and blocks of tokens."""

import numpy as np
import pytest

from keras_transformer.constants import END_ID, START_ID
from keras_transformer.data.text import make_block_dataset, python_docs_documents, read_documents
from keras_transformer.data.tokenizers import CharacterTokenizer


def test_the_built_in_corpus_is_pythons_documentation():
    documents = python_docs_documents()
    assert len(documents) > 1000 and all(d == d.strip() and d for d in documents)
    assert any("__getattr__" in d for d in documents)
    assert read_documents("python-docs") == documents  # fixed order


def test_files_are_split_into_lines_or_paragraphs(tmp_path):
    (tmp_path / "lines.txt").write_text("First.\n\nSecond,\non two lines.\n", encoding="utf-8")
    (tmp_path / "more.txt").write_text("Une ligne.\nUne autre.\n", encoding="utf-8")
    assert read_documents(str(tmp_path / "lines.txt")) == ["First.", "Second,\non two lines."]
    assert read_documents(str(tmp_path / "*.txt"))[-2:] == ["Une ligne.", "Une autre."]
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no text"):
        read_documents(str(tmp_path / "empty.txt"))
    with pytest.raises(FileNotFoundError):
        read_documents(str(tmp_path / "missing.txt"))


def test_blocks_are_the_framed_stream_shifted_by_one():
    documents = ["abc", "de", "fghij"]
    tokenizer = CharacterTokenizer.learn(documents)
    batches = list(make_block_dataset(documents, tokenizer, 4, 2, shuffle=False))
    inputs = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    stream = []
    for document in documents:
        stream += [START_ID, *tokenizer.tokenize([document]).numpy()[0], END_ID]
    assert inputs.shape == (len(stream) // 5, 4)
    for i, (x, y) in enumerate(zip(inputs, labels, strict=True)):
        np.testing.assert_array_equal(x, stream[5 * i : 5 * i + 4])
        np.testing.assert_array_equal(y, stream[5 * i + 1 : 5 * i + 5])
    with pytest.raises(ValueError, match="fewer than one block"):
        make_block_dataset(documents, tokenizer, 64, 2)
