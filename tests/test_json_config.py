"""`JsonConfig` (copies, dicts, atomic JSON files) and `json_text_or_path`."""

import dataclasses
import json

import pytest

from keras_transformer.json_config import JsonConfig, json_text_or_path


@dataclasses.dataclass(frozen=True)
class Settings(JsonConfig):
    name: str = "run"
    size: int = 3
    rates: tuple = (0.1, 0.2)
    note: object = None

    def __post_init__(self):
        if self.size <= 0:
            raise ValueError(f"size must be positive; received size={self.size}.")


def test_json_text_round_trip():
    settings = Settings(name="é", size=5, rates=(0.5,))
    text = settings.to_json()
    assert json.loads(text) == {"name": "é", "note": None, "rates": [0.5], "size": 5}
    assert text.endswith("\n") and list(json.loads(text)) == sorted(json.loads(text))
    # JSON has no tuples: the list comes back as a list, equal in value.
    assert Settings.from_json(text).to_dict() == {**settings.to_dict(), "rates": [0.5]}


def test_file_round_trip_through_str_and_path(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings(size=7)
    assert settings.to_json(path) == path.read_text()
    assert Settings.from_json(path).size == Settings.from_json(str(path)).size == 7


def test_atomic_write_leaves_only_the_file(tmp_path):
    path = tmp_path / "settings.json"
    Settings(size=1).to_json(path)
    Settings(size=2).to_json(path)
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]
    assert Settings.from_json(path).size == 2


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    Settings(size=1).to_json(path)
    before = path.read_text()
    with pytest.raises(TypeError):  # not JSON-serializable: fails before anything is written
        Settings(note={1, 2}).to_json(path)

    def disk_full(source, target):  # the temporary file is written; the rename fails
        raise OSError("No space left on device")

    monkeypatch.setattr("os.replace", disk_full)  # (pathlib's replace calls it too)
    with pytest.raises(OSError, match="No space left"):
        Settings(size=2).to_json(path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_replace_and_from_dict_validate_again():
    settings = Settings()
    assert settings.replace(size=4).size == 4 and settings.size == 3
    with pytest.raises(ValueError, match="received size=0"):
        settings.replace(size=0)
    with pytest.raises(ValueError, match="received size=-1"):
        Settings.from_dict({"size": -1})


def test_unknown_keys_are_named():
    with pytest.raises(ValueError, match=r"Unknown Settings field\(s\) \['colour', 'sise'\]"):
        Settings.from_dict({"sise": 2, "colour": "red", "size": 1})
    with pytest.raises(ValueError, match=r"the fields are \['name', 'note', 'rates', 'size'\]"):
        Settings.from_json('{"sise": 2}')


def test_json_text_or_path_reads_text_and_files(tmp_path):
    assert json_text_or_path(' \n{"a": [1, 2]}', "spec") == {"a": [1, 2]}
    path = tmp_path / "spec.json"
    path.write_text('{"a": 1}')
    assert json_text_or_path(path, "spec") == json_text_or_path(str(path), "spec") == {"a": 1}


def test_json_text_or_path_errors_name_what_and_the_value(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError, match=f"No search space JSON file at {missing}"):
        json_text_or_path(str(missing), "search space")
    with pytest.raises(ValueError, match=r"space in the text is not valid JSON .*'\{a: 1\}'"):
        json_text_or_path("{a: 1}", "search space")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"list\.json must be a JSON object .*'\[1, 2\]'"):
        json_text_or_path(tmp_path / "list.json", "search space")
    with pytest.raises(ValueError, match=r"'\{x{76}\.\.\.'"):  # long text is shortened
        json_text_or_path("{" + "x" * 200, "spec")
