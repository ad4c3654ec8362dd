"""The README's Python tour runs as written, so it cannot drift from the code."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_builds_the_model_it_describes():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    tour = next(block for block in blocks if "keras.Model([source, target], logits)" in block)
    namespace = {}
    exec(compile(tour, str(README), "exec"), namespace)
    model = namespace["model"]
    assert [tuple(t.shape) for t in model.inputs] == [(None, None), (None, None)]
    assert tuple(model.outputs[0].shape) == (None, None, 8000)
