"""DeepLIFT rules for Keras models, applied with `tf.custom_gradient`.

DeepLIFT explains the difference between the model's output at an input x
and at a reference r. Every layer passes back *multipliers* m with
sum(m * (in(x) - in(r))) == out(x) - out(r) (summation to delta); chained by
the ordinary chain rule they give input multipliers whose products with
x - r sum exactly to f(x) - f(r).

Linear and affine layers (Dense, convolutions, average pooling, batch
normalization in inference, reshapes, merges by sum, ...) already satisfy
summation to delta with their ordinary gradients. The nonlinear ones get a
rule:

* elementwise nonlinearities (fused activations, `Activation`, `ReLU`,
  `LeakyReLU`, `ELU`, `PReLU`): the rescale rule, m = (f(x) - f(r)) / (x - r),
  or the derivative at the reference where |x - r| < 1e-6;
* max pooling (windowed and global): each window's output difference is
  credited to the position of the larger of the two window maxima (the
  input's if max(x) >= max(r), else the reference's), then divided by that
  position's input difference;
* softmax: split into exp (rescale rule) and the division by the sum (the
  two-player Shapley rule for a quotient), applied to the max-centred logits;
* layer normalization: centring (linear), square (rescale), mean (linear),
  rsqrt (rescale) and the product of the centred values with the inverse
  standard deviation (the two-player Shapley rule).

These are the rules of shap's DeepExplainer, attached to Keras layers
instead of TensorFlow's gradient registry.

How a batch of (input, reference) pairs is computed. The multipliers of a
pair depend on the layers' values at its input and at its reference, but
every input is shared by all its pairs and every reference by all inputs. So
the model runs twice per batch of B pairs:

1. the *capture pass*: a real forward pass over the distinct inputs and
   references of the batch only (a few rows plus at most min(B, M) background
   rows), recording each rule's input and output and each layer's output
   shape;
2. the *pair pass*, under a gradient tape, over B rows: every layer returns
   zeros of its output shape, and its custom gradient applies the rule's
   multipliers, computed from the recorded values of the pair's input and
   reference (gathered per pair), then the layer's own linear gradient. The
   linear gradients do not depend on the values they are taken at, so they
   are taken at uninitialised tensors of the right shape (allocated, never
   written or read), and the layers' forward computations in this pass are
   never used and TensorFlow prunes them: a batch costs one backward pass
   over B rows plus a forward pass over the distinct rows.

Each rule's multiplier computation is one XLA-compiled kernel (chains of
elementwise operations, fused into about one pass over memory). The layers
themselves are never compiled with XLA.
"""

import contextlib

import numpy as np
import tensorflow as tf

from keras_explain.engine.layers import swapped_attributes
from keras_explain.methods.shap.deeplift_plan import GRADIENT_SHAP, LINEAR_ACTIVATION


def _bucket(size):
    """`size` rounded up to a multiple of a quarter of its highest power of two.

    Rule kernels are compiled per tensor shape; rounding the batch to at most
    four sizes per octave keeps the number of shapes small while padding by
    less than a quarter.
    """
    exponent = tf.cast(
        tf.math.floor(tf.math.log(tf.cast(size, tf.float64)) / np.log(2.0) + 1e-9), tf.int32
    )
    granule = tf.bitwise.left_shift(1, tf.maximum(exponent - 2, 0))
    return (size + granule - 1) // granule * granule


class Layout:
    """Where the rows of a batch of pairs sit in the capture and pair passes.

    The batch is B consecutive pairs of the input-major list (input i,
    background row k), padded to `padded` >= B pairs. The capture pass runs
    on `count` input rows followed by `references` background rows; both
    sizes depend only on `padded` (the batch rounded up by `_bucket`), so the
    rule kernels see few shapes.

    Args:
        input_index: int32 tensor (B,), the input of each pair (non-decreasing).
        sample_index: int32 tensor (B,), the background row of each pair.
        samples: M, the number of background rows (a Python int).

    Attributes:
        size, padded, count, references: int32 scalar tensors.
        owner: int32 (padded,): each pair's input row in the capture pass.
        reference_owner: int32 (padded,): each pair's background row among the
            capture pass's references.
        valid: float32 (padded,): 1 for the B real pairs, 0 for padding.
    """

    def __init__(self, input_index, sample_index, samples):
        self.size = tf.shape(input_index)[0]
        self.padded = _bucket(self.size)
        extra = tf.zeros([self.padded - self.size], tf.int32)
        local = input_index - input_index[0]
        distinct = local[-1] + 1
        positions = tf.range(self.size, dtype=tf.int32)
        first = tf.math.unsorted_segment_min(positions, local, distinct)
        # At most ceil((padded - 1) / M) + 1 inputs meet in `padded` pairs, and
        # their background rows are min(padded, M) consecutive ones (cyclically).
        self.count = tf.minimum(self.padded, (self.padded + samples - 2) // samples + 1)
        self.references = tf.minimum(self.padded, samples)
        start = sample_index[0]
        self.owner = tf.concat([local, extra], axis=0)
        self.reference_owner = tf.concat([(sample_index - start) % samples, extra], axis=0)
        self.valid = tf.cast(tf.range(self.padded) < self.size, tf.float32)
        self._inputs = tf.concat([first, tf.zeros([self.count - distinct], tf.int32)], 0)
        self._samples = (start + tf.range(self.references)) % samples

    def capture_batch(self, x, background):
        """[distinct inputs; their references] from per-pair inputs and the whole background."""
        return tf.concat([tf.gather(x, self._inputs), tf.gather(background, self._samples)], 0)

    def pair_batch(self, x):
        """A (padded, ...) tensor shaped like the pairs (its values are never used)."""
        shape = tf.concat([[self.padded], tf.shape(x)[1:]], axis=0)
        zeros = tf.zeros(shape, x.dtype)
        zeros.set_shape([None] + list(x.shape[1:]))
        return zeros

    def args(self):
        """The layout tensors every rule kernel takes."""
        return self.owner, self.reference_owner, self.count


# -- the two passes ------------------------------------------------------------------


def _check_no_mask(layer, kwargs):
    if kwargs.get("mask") is not None:
        raise ValueError(
            f"model: expected no mask at layer {layer.name!r} ({type(layer).__name__}), "
            f"received a mask, which DeepShap's rules do not take; {GRADIENT_SHAP}."
        )


@contextlib.contextmanager
def capture_pass(entries, records):
    """Within the block, calls of the model record what the pair pass needs.

    For every call of every layer in `entries`, appends to `records[id(layer)]`
    a dict with "layer_output" (the layer's output, for its shape) and, for a
    rule, "input" and "output" of the rule (the pre- and post-activation for
    a fused activation). The model computes as usual.
    """
    replacements = []
    for entry in entries:
        layer = entry.layer
        calls = records.setdefault(id(layer), [])
        original_call = layer.call

        def call(*args, _layer=layer, _calls=calls, _call=original_call, _entry=entry, **kwargs):
            record = {}
            _calls.append(record)
            if _entry.where == "call":
                _check_no_mask(_layer, kwargs)
                record["input"] = args[0]
            output = _call(*args, **kwargs)
            record["layer_output"] = output
            if _entry.where == "call":
                record["output"] = output
            return output

        replacements.append((layer, "call", call))
        if entry.where == "activation":
            activation = layer.activation

            def capture_activation(t, _calls=calls, _fn=activation):
                y = _fn(t)
                _calls[-1].update(input=t, output=y)
                return y

            replacements.append((layer, "activation", capture_activation))
    with swapped_attributes(replacements):
        yield


def _shaped_like(t, rows):
    """An uninitialised tensor shaped like `t` but with `rows` rows.

    Its values are arbitrary: it only stands for the point at which the
    gradient of a linear layer is taken, which that gradient never reads.
    Unlike zeros (or `t` itself), it costs no pass over memory when only its
    shape is used.
    """
    static = t.shape[1:]
    rest = static.as_list() if static.is_fully_defined() else tf.shape(t)[1:]
    point = tf.raw_ops.Empty(shape=tf.concat([[rows], rest], axis=0), dtype=t.dtype)
    point.set_shape([None] + static.as_list())
    return point


@contextlib.contextmanager
def pair_pass(entries, records, layout):
    """Within the block, calls of the model compute only DeepLIFT's backward pass.

    Every layer in `entries` returns zeros of the output shape recorded by
    the capture pass, for `layout.padded` rows, with a custom gradient: the
    rule's multipliers for each pair (from the recorded values), then the
    gradient of the layer's linear part, taken at an uninitialised tensor of
    the input's shape (the gradient of a linear part never reads the point).
    The zeros and the linear part's forward computations are never used by
    the gradient, so TensorFlow prunes them. The gradient is built when the tape computes it, after the block:
    the layers' own calls are restored by then and the gradient functions
    use the originals they kept.
    """
    replacements = []
    for entry in entries:
        layer = entry.layer
        calls = list(records.get(id(layer), []))
        original_call = layer.call
        backward = entry.backward
        position = [0]

        def call(inputs, *args, _entry=entry, _calls=calls, _call=original_call,
                 _backward=backward, _position=position, **kwargs):  # fmt: skip
            record = _calls[_position[0]]
            _position[0] += 1
            flat = tf.nest.flatten(inputs)
            output = record["layer_output"]

            @tf.custom_gradient
            def backward_only(*flat):
                shape = tf.concat([[layout.padded], tf.shape(output)[1:]], axis=0)
                zeros = tf.zeros(shape, output.dtype)
                zeros.set_shape([None] + list(output.shape[1:]))

                def grad(upstream):
                    g = upstream
                    if _backward is not None:
                        g = _backward(record, g, layout)
                    if not _entry.linear:
                        return [tf.cast(g, flat[0].dtype)]
                    # The gradient of the linear part: the layer without its
                    # activation (this runs when the tape computes gradients,
                    # after the block, so the activation is switched off here).
                    # It does not depend on the point it is taken at, so the
                    # point is an uninitialised tensor: the layer's inputs here
                    # would be zeros, written to memory for their shape alone.
                    linear = [(_entry.layer, "activation", LINEAR_ACTIVATION)] if _entry.where else []
                    points = [_shaped_like(f, layout.padded) for f in flat]
                    with tf.GradientTape(watch_accessed_variables=False) as tape, swapped_attributes(linear):
                        tape.watch(points)
                        z = _call(tf.nest.pack_sequence_as(inputs, points), *args, **kwargs)
                    grads = tape.gradient(z, points, output_gradients=g)
                    return [tf.zeros_like(p) if d is None else d for p, d in zip(points, grads)]

                return zeros, grad

            return backward_only(*flat)

        replacements.append((layer, "call", call))
    with swapped_attributes(replacements):
        yield
