"""One harness run for every entry of the task registry: prepare on a tiny corpus, fit about
two steps an epoch (with dropout), resume after an interruption with the losses of the
uninterrupted run, evaluate, predict, export and reload with equal outputs. A task added to
`keras_transformer.tasks` gets these checks by adding its corpus and its calls below."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer import tasks
from keras_transformer.data.tsv import write_tsv
from keras_transformer.evaluation.evaluate import evaluate_run
from keras_transformer.export import export
from keras_transformer.run import Run
from keras_transformer.training import TrainConfig, train
from tests.training.interruptions import EpochsSeen, Interrupt

pytestmark = pytest.mark.xdist_group("task_harness")

TINY = dict(num_layers=1, hidden_dim=16, intermediate_dim=32, num_heads=2, dropout=0.0)
# Dropout on: the resumed run must replay the uninterrupted run's masks, not the first epoch's.
DROPOUT = dict(TINY, dropout=0.3)
SENTENCES = [f"the number {i} in words, {i % 7} times" for i in range(120)]


def _translation_corpus(directory):
    path = directory / "pairs.tsv"
    write_tsv([(s, s.replace("the number", "le nombre")) for s in SENTENCES], path)
    return path


def _documents(directory):
    path = directory / "documents.txt"
    path.write_text("".join(f"{s}\n" for s in SENTENCES), encoding="utf-8")
    return path


def _labelled(directory):
    path = directory / "labelled.tsv"
    write_tsv([(s, "odd" if i % 2 else "even") for i, s in enumerate(SENTENCES)], path)
    return path


def _translate(predictor, texts, options):
    return predictor.translate(texts, options)


def _generate(predictor, texts, options):
    return predictor.generate(texts, options)


def _classify(predictor, texts, options):
    return [p.label for p in predictor.predict(texts)]


def _served_translation(module, texts):
    return [t.decode("utf-8") for t in module.translate(tf.constant(texts)).numpy()]


def _served_generation(module, texts):
    return [t.decode("utf-8") for t in module.generate(tf.constant(texts)).numpy()]


def _served_labels(module, texts):
    return [t.decode("utf-8") for t in module.classify(tf.constant(texts))["label"].numpy()]


# Per task: its corpus, how its predictor is called, how its export is called.
HARNESS = {
    "translate": (_translation_corpus, _translate, _served_translation),
    "lm": (_documents, _generate, _served_generation),
    "classify": (_labelled, _classify, _served_labels),
}


def quick_validation(task):
    """No decoded validation sample (decoding during training is tests/training's): the
    validation loss selects, for the tasks that would decode one."""
    return {"validation_sample": 0} if "validation_sample" in task.settings else {}


def test_every_registered_task_has_a_harness():
    assert set(HARNESS) == set(tasks.names())


@pytest.fixture(scope="module", params=tasks.names())
def task_run(request, tmp_path_factory):
    """The run interrupted after epoch 1 of 3 and resumed, and the losses of the same run
    trained straight. An epoch is one pass (about two batches of 48): a pass starts with the
    order of its epoch's number (with `steps_per_epoch` the passes run on across epochs)."""
    task = tasks.get(request.param)
    directory = tmp_path_factory.mktemp(task.name)
    corpus = HARNESS[task.name][0](directory)
    config = TrainConfig(
        task=task.name, corpus=str(corpus), out=str(directory / "run"), epochs=3,
        batch_size=48, tokenizer="character", validation_fraction=0.1, test_fraction=0.1,
        **quick_validation(task),
    )  # fmt: skip
    model = task.config_class.preset("tiny", sequence_length=48, **DROPOUT)
    straight = train(model, config.replace(out=str(directory / "straight")), verbose=0)
    with pytest.raises(KeyboardInterrupt):
        train(model, config, callbacks=[Interrupt(after=1)], verbose=0)
    assert not (directory / "run" / "run.json").exists()  # not marked finished
    seen = EpochsSeen()
    result = train(model, config, callbacks=[seen], verbose=0)
    return task, result, seen, straight


def _optimizer_step(run_dir):
    import keras

    return int(keras.saving.load_model(run_dir / "model.keras").optimizer.iterations)


def _losses(run_dir):
    return [record["loss"] for record in json.loads((run_dir / "history.json").read_text())]


def test_prepares_fits_and_resumes(task_run):
    task, result, seen, straight = task_run
    run = Run.open(result.run_dir)
    assert tasks.of(run) is task and run.model_config.num_layers == 1
    assert run.model_config.dropout == 0.3
    assert result.status == "finished" and seen.epochs == [2, 3]  # resumed after epoch 1
    history = json.loads(run.history.read_text())
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert [round(r["epochs_trained"]) for r in history] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) for r in history)
    # Each epoch's data order and dropout depend on its number: the resumed epochs train as
    # the uninterrupted run's (before, they replayed the first epoch's).
    losses = _losses(straight.run_dir)
    assert len(set(losses)) == 3
    np.testing.assert_allclose(_losses(result.run_dir), losses, rtol=1e-5)
    # The optimizer step carried on (model.keras holds the kept epoch's optimizer state).
    assert result.kept == straight.kept
    assert _optimizer_step(result.run_dir) == _optimizer_step(straight.run_dir) > 0


def test_evaluates_predicts_exports_and_reloads_equal(task_run, tmp_path):
    task, result, _, _ = task_run
    run = Run.open(result.run_dir)
    scores = evaluate_run(result.run_dir, split="test", limit=4, progress=False)
    assert scores["split"] == "test"
    assert task.report(run, scores).strip()

    options = task.decoding_defaults.replace(strategy="greedy", max_new_tokens=8) if (
        task.decoding_defaults) else None  # fmt: skip
    texts = ["the number 3 in", "the number 41 in words"]
    _, predict, served = HARNESS[task.name]
    predicted = predict(task.predictor(run), texts, options)
    assert len(predicted) == len(texts) and all(isinstance(p, str) for p in predicted)

    exported = export(run, tmp_path / "export", options=options)
    assert served(tf.saved_model.load(str(exported)), texts) == predicted
    keras_file = export(result.run_dir, tmp_path / "model.keras", format="keras")
    reloaded = predict(task.predictor(run, model=_load(keras_file)), texts, options)
    assert reloaded == predicted


def _load(path):
    import keras

    return keras.saving.load_model(path, compile=False)
