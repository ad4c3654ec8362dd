"""`compile_search`: a decoding (or any inference) function compiled with the active Keras
backend's own compiler.

- TensorFlow: `tf.function`, XLA-compiled when `jit_compile` (a graph either way; what the
  SavedModel exports trace and serve).
- JAX: `jax.jit` when `jit_compile` (the arguments named by `static_argnums`, Python ints
  such as a number of new tokens, are static: one compilation per value), else eager (the
  search loop, a `jax.lax.while_loop`, is compiled by JAX on each call). The model's
  variables are arguments of the compiled function, not constants folded into it, so a
  function made once still sees weights changed later (as `tf.function` does).
- PyTorch: eager, without autograd (`torch.no_grad`). The loop's length depends on the
  data, so only the step could be compiled: `torch.compile` of the step decodes faster once
  compiled, but its compile costs more than a typical call decodes
  (benchmarks/torch_compile_step.py; figures in benchmarks/README.md).

The result is a plain function of the same arguments; it returns the backend's tensors.
"""

import keras


def compile_search(fn, jit_compile=True, *, model=None, static_argnums=(),
                   input_signature=None, reduce_retracing=False):  # fmt: skip
    """`fn` compiled for the active backend (see the module docstring).

    Args:
        fn: the function, e.g. `lambda ids: decode(cached_step, model, ids, ...)`.
        jit_compile: bool. XLA on TensorFlow, `jax.jit` on JAX; ignored on PyTorch.
        model: the Keras model (or layer) `fn` calls, if any: under JAX its variables are
            passed to the compiled function.
        static_argnums: positions of the arguments that are Python values (JAX).
        input_signature: TensorFlow only: `tf.function`'s input signature.
        reduce_retracing: TensorFlow only: `tf.function`'s `reduce_retracing`.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # No autograph: the search is keras.ops (its loops `ops.while_loop`), nothing to convert.
        return tf.function(fn, input_signature=input_signature, jit_compile=jit_compile,
                           reduce_retracing=reduce_retracing, autograph=False)  # fmt: skip
    if backend == "jax":
        return _jax(fn, jit_compile, model, static_argnums)
    if backend == "torch":
        import torch

        def no_grad(*args, **kwargs):
            with torch.no_grad():
                return fn(*args, **kwargs)

        return no_grad
    return fn


def _jax(fn, jit_compile, model, static_argnums):
    if not jit_compile:
        return fn
    import jax

    variables = list(model.variables) if model is not None else []

    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
            return fn(*args)

    jitted = jax.jit(pure, static_argnums=tuple(i + 1 for i in static_argnums))

    def call(*args):
        return jitted([v.value for v in variables], *args)

    return call
