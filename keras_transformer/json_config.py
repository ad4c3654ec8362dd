"""`JsonConfig`: what the configuration dataclasses share (copies, dicts, atomic JSON), and
`json_text_or_path`, the one reader of "JSON text or the path of a JSON file" arguments."""

import dataclasses
import json
import os
import pathlib

from keras_transformer.atomic import write_text


def json_text_or_path(value, what):
    """The JSON object given as text (starting with `{`) or as the path of a JSON file.

    Args:
        value: str or path-like. JSON text, or the path of a file that holds it.
        what: str. What the JSON describes (e.g. `"TransformerConfig"`), named in errors.

    Returns:
        dict, the parsed object.

    Raises:
        FileNotFoundError: `value` is neither JSON text nor the path of a file.
        ValueError: the text is not valid JSON, or not a JSON object.

    Example:

    >>> json_text_or_path('{"num_layers": 2}', "search space")
    {'num_layers': 2}
    """
    is_path = isinstance(value, os.PathLike)
    text = os.fspath(value) if is_path else str(value)
    source = "the text"
    if is_path or not text.lstrip().startswith("{"):
        path = pathlib.Path(text)
        if not path.is_file():
            raise FileNotFoundError(
                f"No {what} JSON file at {path}; pass the path of a JSON file, or JSON text "
                "that starts with '{'."
            )
        text, source = path.read_text(), str(path)
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"The {what} in {source} is not valid JSON ({error}); received {_shown(text)}. "
            "Fix the JSON (double-quoted names, no trailing commas)."
        ) from None
    if not isinstance(values, dict):
        raise ValueError(
            f"The {what} in {source} must be a JSON object ({{...}}); received {_shown(text)}."
        )
    return values


def _shown(text, limit=80):
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


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
            write_text(path, text)
        return text

    @classmethod
    def from_json(cls, text_or_path):
        """From JSON text or from the path of a JSON file."""
        return cls.from_dict(json_text_or_path(text_or_path, cls.__name__))
