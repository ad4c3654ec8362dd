"""`JsonConfig`: what the configuration dataclasses share (copies, dicts, atomic JSON)."""

import dataclasses
import json
import pathlib


class JsonConfig:
    """Mixin for frozen dataclasses: `replace`, `to_dict`/`from_dict`, `to_json`/`from_json`
    (JSON text or a file path; files are written atomically)."""

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(
                f"Unknown {cls.__name__} field(s) {unknown}; the fields are {sorted(fields)}."
            )
        return cls(**values)

    def to_json(self, path=None):
        """JSON text; also written to `path` (atomically) when given."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        if path is not None:
            path = pathlib.Path(path)
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text(text)
            temporary.replace(path)
        return text

    @classmethod
    def from_json(cls, text_or_path):
        """From JSON text or from the path of a JSON file."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            path = pathlib.Path(text)
            if not path.is_file():
                raise FileNotFoundError(f"No {cls.__name__} JSON file at {path}.")
            text = path.read_text()
        return cls.from_dict(json.loads(text))
