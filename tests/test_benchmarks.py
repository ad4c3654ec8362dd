"""The commands of benchmarks/README.md run, smoke-sized (`--smoke`), as tests/test_readme.py
runs the README's: a benchmark that no longer runs is caught here, not by its next user."""

import pathlib
import re
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _commands():
    text = (ROOT / "benchmarks" / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_every_command_is_a_benchmark_script():
    commands = _commands()
    assert len(commands) >= 3
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "python" and words[1].startswith("benchmarks/"), command
        assert (ROOT / words[1]).is_file(), command


@pytest.mark.parametrize("command", _commands())
def test_the_command_runs_smoke_sized(command, tmp_path):
    words = shlex.split(command)
    result = subprocess.run(
        [sys.executable, str(ROOT / words[1]), *words[2:], "--smoke"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-3000:])


@pytest.mark.parametrize("task", ["lm", "classify"])
def test_the_large_corpus_benchmark_runs_smoke_sized_for_each_task(task, tmp_path):
    """The language model's and the classifier's tables (a tiny model, 2k lines, streamed
    above 1000 lines: the streamed input of these tasks, end to end)."""
    script = ROOT / "benchmarks" / "large_corpus.py"
    result = subprocess.run(
        [sys.executable, str(script), "--task", task, "--smoke", "--stream-above", "1000",
         "--dir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (task, result.stdout[-2000:], result.stderr[-3000:])
    unit = {"lm": "documents", "classify": "examples"}[task]
    assert f"| {unit} | batching | peak RSS (GiB) |" in result.stdout
    assert f"| 2,000 | {32 if task == 'lm' else 64} " in result.stdout
