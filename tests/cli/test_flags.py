"""Every numeric flag of every command is checked where it is parsed: a value outside the
flag's range (or not a number) exits 2 with argparse's `argument --flag: must be ...;
received '...'`, before any run is opened or anything trained. The search space of `tune` and
the library functions the flags feed refuse bad values the same way."""

import argparse
import dataclasses

import pytest

from keras_transformer import cli, tasks
from keras_transformer.cli import arguments as cli_types
from keras_transformer.cli import flags as cli_flags
from keras_transformer.cli.arguments import Number
from keras_transformer.evaluation.evaluate import evaluate_run
from keras_transformer.training import TrainConfig
from keras_transformer.tuning.space import parse_space

# The fewest arguments each command parses with: paths that do not exist, as parsing fails
# (or, for a value in range, stops) before any is opened.
REQUIRED = {
    "info": [],
    "train": ["--out", "{tmp}/run"],
    "tune": ["--out", "{tmp}/tune"],
    "evaluate": ["{tmp}/no-run"],
    "translate": ["{tmp}/no-run"],
    "generate": ["{tmp}/no-run"],
    "classify": ["{tmp}/no-run"],
    "export": ["{tmp}/no-run", "{tmp}/no-export"],
}
VALUES = ("0", "-1", "abc")


def _commands(parser):
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return subparsers.choices


def _is_numeric(action):
    return isinstance(action.type, Number) or action.type in (int, float)


def _numeric_flags():
    """`(command, flag, action)` for every numeric option of every command."""
    flags = []
    for command, subparser in _commands(cli.build_parser()).items():
        for action in subparser._actions:
            if action.option_strings and _is_numeric(action):
                flags.append((command, action.option_strings[0], action))
    return flags


NUMERIC_FLAGS = _numeric_flags()


def _argv(command, flag, value, tmp_path):
    required = [word.format(tmp=tmp_path) for word in REQUIRED[command]]
    return [command, *required, f"{flag}={value}"]


def _in_range(converter, text):
    try:
        value = converter.kind(text)
    except ValueError:
        return False
    return converter.contains(value)


def test_every_command_and_its_numeric_flags_are_covered():
    commands = set(_commands(cli.build_parser()))
    assert commands == set(REQUIRED), "a new command: give REQUIRED its arguments"
    found = {(command, flag) for command, flag, _ in NUMERIC_FLAGS}
    for expected in [("evaluate", "--limit"), ("evaluate", "--batch-size"),
                     ("translate", "--top-p"), ("generate", "--max-new-tokens"),
                     ("classify", "--batch-size"), ("export", "--max-length-b"),
                     ("tune", "--max-trials"), ("train", "--hidden-dim"),
                     ("train", "--label-smoothing"), ("tune", "--warmup-steps")]:  # fmt: skip
        assert expected in found
    assert len(found) > 90


def test_every_numeric_flag_has_a_checked_type():
    bare = [f"{command} {flag}" for command, flag, action in NUMERIC_FLAGS
            if not isinstance(action.type, Number)]  # fmt: skip
    assert not bare, f"flags with a bare int/float type (use cli.arguments): {bare}"
    main_numbers = [a.dest for a in cli.build_parser()._actions if _is_numeric(a)]
    assert not main_numbers


@pytest.mark.parametrize("cls", [TrainConfig, *(t.config_class for t in tasks.all_tasks())])
def test_every_numeric_dataclass_field_has_a_flag_with_its_range(cls):
    commands = _commands(cli.build_parser())
    for field in dataclasses.fields(cls):
        kind = cli_flags.field_type(field)
        if kind not in (int, float) or field.name in cli_flags.MANUAL:
            continue
        flag = "--" + field.name.replace("_", "-")
        for command in ("train", "tune"):
            (action,) = [a for a in commands[command]._actions if flag in a.option_strings]
            assert action.type is cli_types.FIELD_TYPES[field.name], (command, flag)
            assert action.type.kind is kind, (command, flag)


@pytest.mark.parametrize(
    "command, flag, action",
    NUMERIC_FLAGS,
    ids=[f"{command}{flag}" for command, flag, _ in NUMERIC_FLAGS],
)
def test_each_numeric_flag_refuses_values_outside_its_range(command, flag, action, tmp_path,
                                                            capsys):  # fmt: skip
    if not isinstance(action.type, Number):
        pytest.fail(f"{command} {flag} has a bare {action.type.__name__} type")
    for value in VALUES:
        argv = _argv(command, flag, value, tmp_path)
        if _in_range(action.type, value):
            # In range: it parses (main() would go on to open the run or train).
            args, extra = cli.build_parser().parse_known_args(argv)
            assert not extra
            assert getattr(args, action.dest) == action.type.kind(value)
            continue
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2, argv
        captured = capsys.readouterr()
        error = captured.err
        assert f"keras-transformer {command}: error: argument {flag}" in error, error
        assert f"must be {action.type.description}; received '{value}'" in error, error
        assert "Traceback" not in error and "no-run" not in error and not captured.out


def test_the_message_names_the_flag_the_range_and_the_value(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", str(tmp_path / "run"), "--limit", "-1"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "keras-transformer evaluate: error: argument --limit: must be a positive integer; "
        "received '-1'"
    )
    with pytest.raises(SystemExit):
        cli.main(["translate", str(tmp_path / "run"), "x", "--batch-size", "0"])
    assert "argument --batch-size: must be a positive integer; received '0'" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        cli.main(["train", "--out", str(tmp_path / "run"), "--dropout", "1"])
    assert "argument --dropout: must be a number in [0, 1); received '1'" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "converter, good, bad",
    [
        (cli_types.positive_int, ["1", "+7", "64"], ["0", "-1", "1.5", "1e3", "", "abc"]),
        (cli_types.non_negative_int, ["0", "3"], ["-1", "0.5", "x"]),
        (cli_types.seed, ["0", "2147483647"], ["-1", "2147483648"]),
        (cli_types.positive_float, ["1e-9", "2", "0.5"], ["0", "-0.1", "nan", "inf", "x"]),
        (cli_types.non_negative_float, ["0", "1.5"], ["-1e-9", "inf"]),
        (cli_types.finite_float, ["-0.5", "0", "2"], ["nan", "-inf", "a"]),
        (cli_types.probability, ["1", "0.9", "1e-6"], ["0", "1.01", "-0.5"]),
        (cli_types.fraction, ["0", "0.1", "0.999"], ["1", "-0.1", "nan"]),
    ],
)
def test_converters(converter, good, bad):
    for text in good:
        assert converter(text) == converter.kind(text)
        assert isinstance(converter(text), converter.kind)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match=r"must be .*; received"):
            converter(text)


def test_a_numeric_field_without_a_range_is_a_clear_error():
    with pytest.raises(TypeError, match="'new_size' has no flag range: add it to FIELD_TYPES"):
        cli_types.field_type("new_size", int)
    with pytest.raises(TypeError, match="'dropout' has no flag range"):
        cli_types.field_type("dropout", int)  # a float field's range is not an int's


# `tune --space`: every entry's candidates are checked, with the entry, the value and the range.
@pytest.mark.parametrize(
    "spec, message",
    [
        ({"batch_size": 0}, "'batch_size' takes integers >= 1; received 0."),
        ({"hidden_dim": [0]}, "'hidden_dim' takes integers >= 1; received 0."),
        ({"num_heads": [0]}, "'num_heads' takes integers >= 1; received 0."),
        ({"num_heads": [2, -4]}, r"'num_heads' takes integers >= 1; received -4 \(in \[2, -4\]\)"),
        ({"num_layers": ["x"]}, "'num_layers' takes integers >= 1; received 'x'."),
        ({"num_layers": [2.0]}, "'num_layers' takes integers >= 1; received 2.0."),
        ({"intermediate_dim": True}, "'intermediate_dim' takes integers >= 1; received True."),
        ({"warmup_steps": -5}, "'warmup_steps' takes integers >= 1; received -5."),
        ({"dropout": [2]}, r"'dropout' takes numbers in \[0, 1\); received 2."),
        ({"dropout": [0.1, 1.0]}, r"'dropout' takes numbers in \[0, 1\); received 1.0"),
        ({"label_smoothing": "0.1"}, r"'label_smoothing' takes numbers in \[0, 1\); received"),
        ({"learning_rate_scale": [0]}, "'learning_rate_scale' takes numbers > 0; received 0."),
        ({"normalize_first": [1]}, "'normalize_first' takes true or false; received 1."),
        ({"dropout": {"min": "a", "max": 0.3, "step": 0.1}}, "a range's 'min' must be a number"),
        ({"num_layers": {"min": 1, "max": [4]}}, "a range's 'max' must be a number"),
        ({"dropout": {"min": 0, "max": 0.3, "step": "x"}}, "a range's 'step' must be a number"),
        ({"dropout": {"min": 0, "max": 0.3, "step": -0.1}}, "needs a positive 'step'"),
        ({"num_layers": {"min": 1, "max": 2, "step": 0.5}}, "received 1.5"),
        ({"dropout": {"min": 0, "max": 0.5, "step": 1e-9}}, "spans more than 100000 values"),
    ],
)
def test_search_space_entries_are_checked(spec, message):
    with pytest.raises(ValueError, match="Search space entry .*" + message):
        parse_space(spec)


def test_valid_search_spaces_still_parse():
    space = parse_space({"dropout": {"min": 0, "max": 0.2, "step": 0.1}, "num_layers": 3,
                         "learning_rate_scale": [0.5, 1], "normalize_first": True,
                         "warmup_steps": {"min": 500, "max": 4000, "step": 500}})  # fmt: skip
    assert space["dropout"] == [0.0, 0.1, 0.2] and space["num_layers"] == [3]
    assert space["learning_rate_scale"] == [0.5, 1.0] and space["normalize_first"] == [True]
    assert space["warmup_steps"][0] == 500 and space["warmup_steps"][-1] == 4000


def test_tune_reports_a_bad_space_entry_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "tune"
    assert cli.main(["tune", "--out", str(out), "--space", '{"batch_size": 0}']) == 2
    error = capsys.readouterr().err
    assert error.strip() == (
        "keras-transformer tune: error: Search space entry 'batch_size' takes integers >= 1; "
        "received 0."
    )
    assert not out.exists()


# The library functions the flags feed refuse the same values, naming them.
def test_evaluate_run_refuses_a_bad_limit_or_batch_size(tmp_path):
    with pytest.raises(ValueError, match=r"`limit` must be None or a positive integer.*limit=-1"):
        evaluate_run(tmp_path / "no-run", limit=-1)
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer.*=0"):
        evaluate_run(tmp_path / "no-run", batch_size=0)


def test_translator_refuses_a_bad_batch_size():
    from keras_transformer.decoding import Translator

    translator = Translator.__new__(Translator)  # the check comes before the model is used
    for bad in (0, -1, 2.5, None):
        with pytest.raises(ValueError, match=f"`batch_size` must be a positive integer.*{bad}"):
            translator.translate(["x"], batch_size=bad)


def test_text_classifier_refuses_a_bad_batch_size():
    from keras_transformer.prediction import TextClassifier

    classifier = TextClassifier.__new__(TextClassifier)
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer.*=-1"):
        classifier.predict(["x"], batch_size=-1)
