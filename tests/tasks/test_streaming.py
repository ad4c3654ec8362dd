"""Every task streams a corpus too big to hold (files, globs, gzip): the run keeps the
files' fingerprints instead of a copy, reopens, evaluates, and refuses to resume on changed
files. (Flat memory as the corpus grows is `benchmarks/large_corpus.py --task ...`.)"""

import gzip
import shutil

import pytest

from keras_transformer import tasks
from keras_transformer.evaluation.evaluate import evaluate_run
from keras_transformer.run import Run
from keras_transformer.training import TrainConfig, train
from tests.tasks.test_harness import HARNESS, TINY, quick_validation
from tests.training.interruptions import Interrupt

pytestmark = pytest.mark.xdist_group("task_streaming")


@pytest.mark.parametrize("name", tasks.names())
def test_every_task_streams_gzip_files_by_glob(name, tmp_path, monkeypatch):
    monkeypatch.setattr("keras_transformer.data.corpus.STREAM_ABOVE_LINES", 50)
    task = tasks.get(name)
    text = HARNESS[name][0](tmp_path).read_text(encoding="utf-8").splitlines(keepends=True)
    for index, part in enumerate((text[: len(text) // 2], text[len(text) // 2 :])):
        with gzip.open(tmp_path / f"part-{index}.gz", "wt", encoding="utf-8") as file:
            file.writelines(part)
    config = TrainConfig(
        task=name, corpus=str(tmp_path / "part-*.gz"), out=str(tmp_path / "run"), epochs=2,
        steps_per_epoch=2, batch_size=8, tokenizer="character", validation_fraction=0.1,
        test_fraction=0.1, **quick_validation(task),
    )  # fmt: skip
    model = task.config_class.preset("tiny", sequence_length=48, **TINY)
    with pytest.raises(KeyboardInterrupt):
        train(model, config, callbacks=[Interrupt(after=1)], verbose=0)
    run = Run.open(config.out)
    assert run.splits.streamed and (run.directory / "splits" / "corpus.json").is_file()
    assert not list((run.directory / "splits").glob("train*"))  # no copy of the data
    changed = config.replace(out=str(tmp_path / "changed"))
    shutil.copytree(config.out, changed.out)  # the same unfinished run, resumed below
    result = train(model, config, verbose=0)  # resumes on the same files
    assert result.status == "finished" and result.epochs == 2
    assert evaluate_run(result.run_dir, limit=2, progress=False)["split"] == "test"

    with gzip.open(tmp_path / "part-1.gz", "at", encoding="utf-8") as file:
        file.write(text[0])
    with pytest.raises(ValueError, match=r"part-1.gz changed size"):
        train(model, changed, verbose=0)
