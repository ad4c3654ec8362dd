"""One harness run for every entry of the task registry: prepare on a tiny corpus, fit two
steps an epoch, resume after an interruption, evaluate, predict, export and reload with equal
outputs. A task added to `keras_transformer.tasks` gets these checks by adding its corpus and
its calls below."""

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
    """A small decoded validation sample, for the tasks that decode one."""
    return {"validation_sample": 8} if "validation_sample" in task.settings else {}


def test_every_registered_task_has_a_harness():
    assert set(HARNESS) == set(tasks.names())


@pytest.fixture(scope="module", params=tasks.names())
def task_run(request, tmp_path_factory):
    task = tasks.get(request.param)
    directory = tmp_path_factory.mktemp(task.name)
    corpus = HARNESS[task.name][0](directory)
    config = TrainConfig(
        task=task.name, corpus=str(corpus), out=str(directory / "run"), epochs=2,
        steps_per_epoch=2, batch_size=8, tokenizer="character", validation_fraction=0.1,
        test_fraction=0.1, **quick_validation(task),
    )  # fmt: skip
    model = task.config_class.preset("tiny", sequence_length=48, **TINY)
    with pytest.raises(KeyboardInterrupt):
        train(model, config, callbacks=[Interrupt(after=1)], verbose=0)
    seen = EpochsSeen()
    result = train(model, config, callbacks=[seen], verbose=0)
    return task, result, seen


def test_prepares_fits_and_resumes(task_run):
    task, result, seen = task_run
    run = Run.open(result.run_dir)
    assert tasks.of(run) is task and run.model_config.num_layers == 1
    assert result.status == "finished" and seen.epochs == [2]  # resumed after epoch 1
    history = json.loads(run.history.read_text())
    assert [round(r["epochs_trained"]) for r in history] == [1, 2]
    assert all(np.isfinite(r["loss"]) for r in history)


def test_evaluates_predicts_exports_and_reloads_equal(task_run, tmp_path):
    task, result, _ = task_run
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
