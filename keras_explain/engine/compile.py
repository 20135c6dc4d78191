"""The one compile helper: a tf.function traced once per input signature.

Every argument is a tensor, or a list of tensors (one per input of a model
with several inputs), whose first dimension is the batch (or, for the
values the batching loop hands over whole, the examples). The function is
traced with that dimension set to None, so a second call, a new batch size,
the shorter last batch or another number of examples all reuse the same
graph. A feed of the batching loop is expanded into its rows inside the
graph first (`keras_explain.engine.batching.expand_rows`).
"""

import tensorflow as tf

from keras_explain.engine.batching import expand_rows


def _relaxed_spec(value):
    value = tf.convert_to_tensor(value)
    return tf.TensorSpec((None,) + tuple(value.shape[1:]), value.dtype)


class CompiledStep:
    """A Python step function compiled with a None batch dimension.

    Args:
        fn: callable `fn(kind, tensors)` where `kind` is a Python string chosen
            by the caller (each kind is traced once) and `tensors` a flat dict
            of batched tensors.
        run_eagerly: run `fn` as plain Python, for debugging. Defaults to False.
    """

    def __init__(self, fn, run_eagerly=False):
        self._fn = lambda kind, tensors: fn(kind, expand_rows(tensors))
        self.run_eagerly = bool(run_eagerly)
        self._function = tf.function(self._fn, autograph=False)
        self._concrete = {}

    def __call__(self, kind, tensors):
        if self.run_eagerly:
            return self._fn(kind, tensors)
        tensors = {k: tf.nest.map_structure(tf.convert_to_tensor, v) for k, v in tensors.items()}
        key = (kind,) + tuple(
            (k, tuple((tuple(t.shape[1:]), t.dtype) for t in tf.nest.flatten(v)))
            for k, v in sorted(tensors.items())
        )
        concrete = self._concrete.get(key)
        if concrete is None:
            specs = tf.nest.map_structure(_relaxed_spec, tensors)
            concrete = self._function.get_concrete_function(kind, specs)
            self._concrete[key] = concrete
        return concrete(kind, tensors)

    @property
    def trace_count(self):
        """How many times the step has been traced (one per kind and input signature)."""
        return self._function.experimental_get_tracing_count()
