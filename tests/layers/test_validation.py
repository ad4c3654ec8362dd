"""`keras_transformer.layers.validation`, the public argument checks: what `__all__` names,
the errors, and the private `_validation` module kept as a re-export of it."""

import ast
import inspect

import pytest

from keras_transformer.layers import _validation, validation

PUBLIC = {
    "check_fraction",
    "check_non_negative_int",
    "check_positive_float",
    "check_positive_int",
    "check_rate",
    "head_dim_for",
}


def test_the_public_names_are_documented_functions():
    assert "public" in validation.__doc__.lower()
    assert set(validation.__all__) == PUBLIC
    for name in validation.__all__:
        function = getattr(validation, name)
        assert callable(function) and function.__doc__, name


def test_the_public_module_imports_nothing():
    # Plain Python: importing it from another package costs nothing and pulls in no backend.
    tree = ast.parse(inspect.getsource(validation))
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def test_the_private_module_re_exports_the_same_functions():
    for name in PUBLIC:
        assert getattr(_validation, name) is getattr(validation, name)


@pytest.mark.parametrize(
    "call, result",
    [
        (lambda: validation.check_positive_int(3, "num_layers"), 3),
        (lambda: validation.check_positive_int(None, "n", allow_none=True), None),
        (lambda: validation.check_non_negative_int(0, "seed"), 0),
        (lambda: validation.check_fraction(0, "dropout"), 0.0),
        (lambda: validation.check_rate(0.25, "dropout"), 0.25),
        (lambda: validation.check_positive_float(2, "epsilon"), 2.0),
        (lambda: validation.head_dim_for(12, 3, None, "Attention"), 4),
        (lambda: validation.head_dim_for(12, 5, 7, "Attention"), 7),
    ],
)
def test_accepted_values_are_returned(call, result):
    value = call()
    assert value == result and type(value) is type(result)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: validation.check_positive_int(True, "num_layers"), "num_layers=True"),
        (lambda: validation.check_positive_int(0, "num_layers", example=6), "num_layers=6"),
        (lambda: validation.check_non_negative_int(-1, "seed"), "a non-negative integer"),
        (lambda: validation.check_fraction(1.0, "dropout", allow_none=True), "None or in"),
        (lambda: validation.check_rate(-0.1, "dropout"), "is a dropout rate"),
        (lambda: validation.check_positive_float(float("nan"), "epsilon"), "positive number"),
        (lambda: validation.head_dim_for(10, 4, None, "Attention"), "1, 2, 5, 10"),
        (lambda: validation.head_dim_for(None, 4, None, "Attention"), "Pass `key_dim`"),
    ],
)
def test_refused_values_are_errors_naming_the_value_and_the_fix(call, message):
    with pytest.raises(ValueError, match=message):
        call()
