"""`model.fit` under `tf.distribute.MultiWorkerMirroredStrategy` with Keras 3.

Keras 3's TensorFlow trainer (3.15 at the time of writing, keras-team/keras#20585) fails
under MultiWorkerMirroredStrategy in two places:

1. `_maybe_symbolic_build` reduces the first distributed batch with an eager
   `strategy.reduce("MEAN", batch)` just to learn its shapes, which cannot convert the
   per-replica batch (`ValueError: Attempt to convert a value (PerReplica...`).
2. `reduce_per_replica` averages each log across workers with
   `strategy.reduce("MEAN", value, axis=0)`, which fails for the scalar losses and metrics
   (`Invalid reduction dimension 0 for input with 0 dimensions`).

`enable_multiworker_fit()` replaces both with versions that differ only under a
multi-worker strategy: the symbolic build reads the shapes from this worker's first
replica, and logs are averaged across all replicas with `axis=None`. Every other strategy
goes through the original Keras code.
"""

import keras
import tensorflow as tf


def _keras_trainer():
    """Keras's private TensorFlow trainer module and its multi-worker test, looked up only
    when `--strategy multiworker` needs them, so a Keras release that moves them breaks that
    strategy with a clear error, not `import keras_transformer`."""
    try:
        from keras.src.backend.tensorflow import trainer as tf_trainer

        multi_worker = tf_trainer._collective_all_reduce_multi_worker
        tf_trainer.reduce_per_replica  # noqa: B018 (checked: the fix replaces it)
        tf_trainer.TensorFlowTrainer._maybe_symbolic_build  # noqa: B018
    except (ImportError, AttributeError) as error:
        raise RuntimeError(
            f"--strategy multiworker works around keras-team/keras#20585 by patching Keras's "
            f"TensorFlow trainer, whose private parts are not where Keras 3.15 had them in the "
            f"installed Keras {keras.__version__} ({error}). Install keras<=3.15, or train "
            "with another --strategy."
        ) from None
    return tf_trainer, multi_worker


def _first_replica(strategy, value):
    if isinstance(value, tf.distribute.DistributedValues):
        return strategy.experimental_local_results(value)[0]
    return value


def _fixed_reduce_per_replica(original, multi_worker):
    def reduce_per_replica(values, strategy, reduction):
        if not multi_worker(strategy) or reduction not in ("auto", "mean"):
            return original(values, strategy, reduction)
        return keras.tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)

    reduce_per_replica.keras_transformer_fix = True
    return reduce_per_replica


def _fixed_symbolic_build(original, multi_worker):
    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self.distribute_strategy
        if iterator is None or not multi_worker(strategy):
            return original(self, iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            batch = next(batches)
            data_batch = keras.tree.map_structure(lambda v: _first_replica(strategy, v), batch)
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    _maybe_symbolic_build.keras_transformer_fix = True
    return _maybe_symbolic_build


def enable_multiworker_fit():
    """Lets Keras 3's `model.fit`/`evaluate` run under MultiWorkerMirroredStrategy.

    Idempotent; other strategies are unaffected.
    """
    tf_trainer, multi_worker = _keras_trainer()
    if not getattr(tf_trainer.reduce_per_replica, "keras_transformer_fix", False):
        tf_trainer.reduce_per_replica = _fixed_reduce_per_replica(
            tf_trainer.reduce_per_replica, multi_worker
        )
    trainer_class = tf_trainer.TensorFlowTrainer
    if not getattr(trainer_class._maybe_symbolic_build, "keras_transformer_fix", False):
        trainer_class._maybe_symbolic_build = _fixed_symbolic_build(
            trainer_class._maybe_symbolic_build, multi_worker
        )


def worker_identity(strategy):
    """`(is_chief, name)` of this process: the chief is the `chief` task or, when the cluster
    has none, worker 0 (TF_CONFIG conventions). A single process is its own chief."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, "chief"
    task_type, task_id = resolver.task_type, resolver.task_id or 0
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    is_chief = task_type == "chief" or (task_type == "worker" and task_id == 0 and not has_chief)
    return is_chief, f"{task_type}-{task_id}"


def input_shard(strategy):
    """`(count, index)` of this process among the workers that read input (the chief first,
    then the workers in order): each reads its own share of a streamed corpus's lines."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 1, 0
    cluster = resolver.cluster_spec().as_dict()
    chiefs = len(cluster.get("chief", []))
    count = chiefs + len(cluster.get("worker", []))
    task_id = resolver.task_id or 0
    index = task_id if resolver.task_type == "chief" else chiefs + task_id
    return count, index
