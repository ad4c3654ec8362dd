"""`keras_transformer.atomic`: a file appears whole or not at all."""

import json

import pytest

from keras_transformer.atomic import atomic_path, write_json, write_text


def test_the_target_appears_only_when_the_writer_returns(tmp_path):
    target = tmp_path / "model.weights.h5"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith(".weights.h5")
        temporary.write_bytes(b"new")
        assert not target.exists()
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["model.weights.h5"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "run.json"
    write_json(target, {"status": "finished"})
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("disk full")
    assert json.loads(target.read_text()) == {"status": "finished"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_text_is_utf8_with_unix_line_ends(tmp_path):
    write_text(tmp_path / "notes.txt", "été\n日本\n")
    assert (tmp_path / "notes.txt").read_bytes() == "été\n日本\n".encode()
    write_json(tmp_path / "v.json", {"word": "été"})
    assert "été" in (tmp_path / "v.json").read_text(encoding="utf-8")
