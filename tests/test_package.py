"""The installed package: public API, console script, `python -m keras_transformer`, and the
layers' import graph."""

import ast
import pathlib
import shutil
import subprocess
import sys

import keras_transformer as kt

PUBLIC = {
    "PositionalEmbedding",
    "MultiHeadSelfAttention",
    "MultiHeadCrossAttention",
    "FeedForward",
    "EncoderBlock",
    "DecoderBlock",
    "positional_encoding",
    "create_padding_mask",
    "create_look_ahead_mask",
    "scaled_dot_product_attention",
}


def test_public_api_is_exported_at_the_top_level():
    assert set(kt.__all__) >= PUBLIC
    for name in PUBLIC:
        assert getattr(kt, name).__doc__, f"{name} has no docstring"


def _run(*command):
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_python_dash_m_prints_version():
    result = _run(sys.executable, "-m", "keras_transformer", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"keras-transformer {kt.__version__}"


def test_console_script_info_reports_the_stack():
    script = pathlib.Path(sys.executable).with_name("keras-transformer")
    if not script.exists():
        script = shutil.which("keras-transformer")
    assert script, "the keras-transformer console script is not installed"
    result = _run(str(script), "info")
    assert result.returncode == 0, result.stderr
    assert f"keras_transformer {kt.__version__}" in result.stdout
    assert "tensorflow 2.21" in result.stdout and "gpus: " in result.stdout


def test_no_command_prints_help_and_fails():
    result = _run(sys.executable, "-m", "keras_transformer")
    assert result.returncode == 2
    assert "usage: keras-transformer" in result.stdout


# What the layers' import graph may reach outside the package: Keras, NumPy, the stdlib.
LAYERS_MAY_IMPORT = {"keras", "numpy", *sys.stdlib_module_names}
TENSORFLOW_ROOTS = {"tensorflow", "tf_keras", "tensorflow_text"}
PACKAGE_DIRECTORY = pathlib.Path(kt.__file__).parent


def _source_of(module):
    """The file of package module `module` (`keras_transformer.x.y`), or None."""
    relative = PACKAGE_DIRECTORY.joinpath(*module.split(".")[1:])
    for path in (relative / "__init__.py", relative.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _imports_of(module):
    """The absolute names every import statement of `module` names (at module level, in
    functions, under `try`), with `from package import submodule` as the submodule too."""
    path = _source_of(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from . import x`, `from ..y import z`
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            yield base
            for alias in node.names:
                if _source_of(f"{base}.{alias.name}") is not None:
                    yield f"{base}.{alias.name}"


def _parents(module):
    """The packages an import of `module` runs first, below the top-level `keras_transformer`
    (the public API, which imports everything on purpose)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def _layers_import_chains():
    """`{third-party module: the chain of imports from a layers module to it}` for every
    module the layers reach by import statements, followed through the package."""
    start = sorted(
        "keras_transformer.layers" + ("" if p.stem == "__init__" else f".{p.stem}")
        for p in (PACKAGE_DIRECTORY / "layers").glob("*.py")
    )
    chains = {module: [module] for module in start}
    outside = {}
    queue = list(start)
    while queue:
        module = queue.pop(0)
        for name in _imports_of(module):
            chain = chains[module] + [name]
            if name.split(".")[0] != "keras_transformer":
                outside.setdefault(name, chain)
                continue
            for reached in [*_parents(name), name]:
                if reached not in chains and _source_of(reached) is not None:
                    chains[reached] = chains[module] + [reached]
                    queue.append(reached)
    return outside


def test_the_layers_import_graph_reaches_only_keras_numpy_and_the_stdlib():
    # Layers are written with keras.ops only, so they stay backend-agnostic; TensorFlow code
    # they use sits behind `keras_transformer.backend`, imported only on that backend.
    outside = _layers_import_chains()
    assert "keras" in outside, "the walk found no import of keras: it is not reading the code"
    for name, chain in sorted(outside.items()):
        root = name.split(".")[0]
        route = " -> ".join(chain)
        assert root not in TENSORFLOW_ROOTS, f"a layers module reaches {root}: {route}"
        assert root in LAYERS_MAY_IMPORT, f"a layers module reaches {root} (not allowed): {route}"
