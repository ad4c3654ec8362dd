"""Every example runs in smoke mode (tiny sizes, few steps), so none can rot."""

import pathlib
import re
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def test_layers_tour_smoke(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "layers_tour.py"),
            "--epochs",
            "1",
            "--examples",
            "256",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "reloaded model gives identical logits: True" in result.stdout
    for check in ("from appending source padding", "before a changed target token"):
        change = re.search(rf"max change {check}: (\S+)", result.stdout)
        assert change and float(change.group(1)) < 1e-5, result.stdout
    assert (tmp_path / "reverser.keras").exists()
