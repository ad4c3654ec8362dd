"""The README and the manual in docs/, tried as a new user would: every command and Python
block in them runs.

Commands run in order, the README's first, then each docs/*.md file's (in name order), in one
scratch directory (so the README's `train` makes the `runs/dates` that docs/decoding.md's
`translate` and docs/export.md's `export` use), shrunk to smoke size by appending flags
(argparse keeps the last value; a trained model has one small layer); `echo TEXT |
keras-transformer ...` runs in this process with TEXT on stdin. `make demo` / `make test` are
what the demo and CI run; `python examples/...` commands are run by tests/test_examples.py;
the tuning chief/worker lines (a real cluster's address) are what
test_chief_and_two_workers_search_together runs on 127.0.0.1. Lines that set shell variables
start a shell script that runs, smoke-sized and on free ports, at its `wait`. Every relative
link between these files (and to benchmarks/README.md) must point at a file and heading that
exist.
"""

import gzip
import io
import os
import pathlib
import re
import shlex
import socket
import subprocess
import sys

import pytest

from keras_transformer import cli

# One process runs this file: its module fixtures are made once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_readme")

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# The README first (it trains the runs the manual's commands use), then the manual.
PAGES = [README, *sorted(DOCS.glob("*.md"))]
SMOKE_DATA = [
    "--epochs", "1", "--steps-per-epoch", "2", "--train-size", "200", "--validation-size", "16",
    "--test-size", "8",
]  # fmt: skip
# The model a command's rule or preset chooses, shrunk to one small layer (flags win).
SMOKE_MODEL = ["--num-layers", "1", "--hidden-dim", "32", "--intermediate-dim", "64",
               "--num-heads", "2"]  # fmt: skip
SMOKE = {
    "train": [*SMOKE_DATA, *SMOKE_MODEL, "--overwrite"],
    "tune": [*SMOKE_DATA, "--max-trials", "1"],
    "evaluate": ["--limit", "8"],
}


def _blocks(language):
    """`(page, block)` for every block of `language`, in the pages' order."""
    return [
        (page, block)
        for page in PAGES
        for block in re.findall(rf"```{language}\n(.*?)```", page.read_text(), flags=re.S)
    ]


def _commands():
    commands = []
    for _, block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()  # a trailing comment
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def _fra_tsv(path):
    rows = ["Go.\tVa !\tCC-BY 2.0 (France)", "Hello!\tBonjour !\tCC-BY 2.0 (France)"]
    rows += [f"I have {n} cats.\tJ'ai {n} chats.\tCC-BY 2.0 (France)" for n in range(2, 200)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _split_corpus(directory):
    """The files of the README's several-files and glob examples, made from fra.tsv."""
    lines = (directory / "fra.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    (directory / "wmt").mkdir()
    halves = ("".join(lines[:100]), "".join(lines[100:]))
    for index, text in enumerate(halves, start=1):
        with gzip.open(directory / "wmt" / f"train.{index}.tsv.gz", "wt", encoding="utf-8") as f:
            f.write(text)
    (directory / "part1.tsv").write_text(halves[0], encoding="utf-8")
    with gzip.open(directory / "part2.tsv.gz", "wt", encoding="utf-8") as f:
        f.write(halves[1])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A directory in which every command of the README and docs/ has run, in order."""
    directory = tmp_path_factory.mktemp("readme")
    _fra_tsv(directory / "fra.tsv")
    _split_corpus(directory)
    for name in ("benchmarks", "examples"):  # the pages' commands run from a checkout
        (directory / name).symlink_to(ROOT / name)
    environment = dict(os.environ)
    environment["PATH"] = f"{pathlib.Path(sys.executable).parent}:{environment['PATH']}"
    examples_test = (ROOT / "tests" / "test_examples.py").read_text()
    previous = os.getcwd()
    os.chdir(directory)
    script = []
    try:
        for command in _commands():
            if script or re.match(r"(?!KERASTUNER_)\w+=", command):
                script.append(command)
                if command == "wait":
                    _run_script(script, directory, environment)
                    script = []
                continue
            _run_command(command, directory, environment, examples_test)
    finally:
        os.chdir(previous)
    return directory


def _run_script(lines, directory, environment):
    """A group of lines (variables, commands in the background, `wait`) as one bash script;
    `keras-transformer` commands smoke-sized, 127.0.0.1 ports replaced by free ones."""
    text = "set -e\npids=()\n"
    for line in lines:
        background = line.endswith("&")
        line = line.removesuffix("&").rstrip()
        words = shlex.split(line)
        if "keras-transformer" in words:
            line += " " + shlex.join(SMOKE.get(words[words.index("keras-transformer") + 1], []))
        text += line + (" & pids+=($!)\n" if background else "\n")
    for port in sorted(set(re.findall(r"127\.0\.0\.1:(\d+)", text))):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{s.getsockname()[1]}")
    text = text.replace("\nwait\n", '\nfor pid in "${pids[@]}"; do wait $pid; done\n')
    result = subprocess.run(
        ["bash", "-c", text], cwd=directory, env=environment, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (text, result.stdout[-2000:], result.stderr[-3000:])


def _run_command(command, directory, environment, examples_test):
    words = shlex.split(command)
    if words[0] == "make" or words[0].startswith("KERASTUNER_"):
        return  # the demo / CI themselves; the chief/worker test on 127.0.0.1
    if words[0] == "python" and words[1].startswith("examples/"):
        assert f'"{pathlib.Path(words[1]).name}"' in examples_test, command
        return
    if words[0] == "keras-transformer":
        assert cli.main(words[1:] + SMOKE.get(words[1], [])) == 0, command
        return
    piped = re.fullmatch(r"echo (\S.*?) \| (keras-transformer .*)", command)
    if piped:  # `echo TEXT | keras-transformer ...`: the command reads TEXT on its stdin
        (text,) = shlex.split(piped.group(1))
        words = shlex.split(piped.group(2))
        stdin = sys.stdin
        sys.stdin = io.StringIO(text + "\n")
        try:
            assert cli.main(words[1:] + SMOKE.get(words[1], [])) == 0, command
        finally:
            sys.stdin = stdin
        return
    if "|" in command or words[0] in ("saved_model_cli", "python"):
        if words[0] == "python":
            command += " --smoke"
        shell = command.replace("python ", f"{sys.executable} ", 1)
        shell = shell.replace("| keras-transformer", f"| {sys.executable} -m keras_transformer")
        result = subprocess.run(
            shell, shell=True, cwd=directory, env=environment, capture_output=True,
            text=True, timeout=600, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-3000:])
        return
    pytest.fail(f"README/docs command not covered by this test: {command}")


def test_the_manual_is_in_docs():
    names = {page.name for page in PAGES[1:]}
    assert names >= {
        "cli.md", "training-rule.md", "decoding.md", "export.md", "backends.md", "scaling.md",
        "architecture.md",
    }  # fmt: skip
    for page in PAGES[1:]:  # each page of the manual is tried: it has a command or a block
        assert re.search(r"```(bash|python)\n", page.read_text()), page.name


def _anchors(page):
    """GitHub's anchors of a page's headings."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    anchors = set()
    for heading in re.findall(r"^#+ (.*)$", text, flags=re.M):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return anchors


def test_links_point_at_existing_files_and_headings():
    for page in [*PAGES, ROOT / "benchmarks" / "README.md"]:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.exists(), (page.name, target)
            if anchor:
                assert anchor in _anchors(linked), (page.name, target)


def test_readme_commands_run(scratch):
    commands = _commands()
    assert sum(c.startswith("keras-transformer") for c in commands) >= 10
    assert (scratch / "runs" / "dates" / "model.keras").exists()
    assert (scratch / "exports" / "dates" / "saved_model.pb").exists()
    assert (scratch / "exports" / "dates.keras").exists()
    assert (scratch / "tune" / "dates" / "best.json").exists()
    assert (scratch / "runs" / "best" / "model.keras").exists()
    two_workers = scratch / "runs" / "two-workers"
    assert (two_workers / "model.keras").exists()
    assert (two_workers / "workers" / "worker-1" / "model.keras").exists()


def test_readme_python_blocks_run(scratch, monkeypatch):
    """The blocks use what the commands made (runs/dates, exports/dates, exports/lm,
    exports/validity); the quickstart trains at smoke size, the language model's block on a
    few of the built-in documents."""
    import keras_transformer.data.text as text
    import keras_transformer.training as training

    monkeypatch.chdir(scratch)
    real = training.TrainConfig

    def smoke_config(**values):
        values.update(epochs=1, steps_per_epoch=2, train_size=200, validation_size=16, test_size=8)
        return real(**values)

    monkeypatch.setattr(training, "TrainConfig", smoke_config)
    documents = text.python_docs_documents
    monkeypatch.setattr(text, "python_docs_documents", lambda: documents()[:100])
    blocks = _blocks("python")
    assert len(blocks) >= 5
    for page, block in blocks:
        exec(compile(block, str(page), "exec"), {"__name__": "readme"})
