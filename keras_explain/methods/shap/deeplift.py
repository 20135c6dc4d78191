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
import dataclasses

import keras
import numpy as np
import tensorflow as tf

#: |x - r| below which the rescale rule uses the derivative instead of the
#: secant (shap's threshold).
RESCALE_EPSILON = 1e-6
#: |difference| below which max pooling and the quotient rule pass nothing.
ZERO_EPSILON = 1e-7
#: Compile each rule's multiplier computation with XLA. Set to False to run
#: the rules as plain TensorFlow (same results, slower).
JIT_COMPILE = True

_GRADIENT_SHAP = "use kx.GradientShap(model, background), which works with any differentiable model"


# -- the batch layout ----------------------------------------------------------


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


def _sides(captured, owner, reference_owner, count):
    """(input side, reference side) of a captured tensor, per pair (padded, ...) each."""
    return tf.gather(captured[:count], owner), tf.gather(captured[count:], reference_owner)


def _compiled(fn):
    return tf.function(fn, jit_compile=JIT_COMPILE, autograph=False)


def _safe_divide(numerator, denominator, small, fallback):
    """numerator / denominator, or `fallback` where |denominator| < small."""
    tiny = tf.abs(denominator) < small
    quotient = numerator / tf.where(tiny, tf.ones_like(denominator), denominator)
    return tf.where(tiny, fallback, quotient)


def _derivative(fn, t):
    """The elementwise derivative of an elementwise function at t."""
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(t)
        y = fn(t)
    gradient = tape.gradient(y, t)
    return tf.zeros_like(t) if gradient is None else gradient


# -- the rules -----------------------------------------------------------------
#
# Each rule is `backward(record, upstream, layout)`: from the values recorded
# for one call of a layer in the capture pass ("input", "output") and the
# upstream gradient of the pairs (padded, ...), the gradient with respect to
# the rule's input (padded, ...).


def rescale(fn):
    """The rescale rule for an elementwise nonlinearity `fn`.

    Multiplier (fn(x) - fn(r)) / (x - r); where |x - r| < 1e-6 the derivative
    fn'(r) (the secant's limit; shap uses the same).
    """

    def kernel(pre, post, upstream, owner, reference_owner, count):
        x_in, r_in = _sides(pre, owner, reference_owner, count)
        x_out, r_out = _sides(post, owner, reference_owner, count)
        slope = _derivative(fn, r_in)
        return upstream * _safe_divide(x_out - r_out, x_in - r_in, RESCALE_EPSILON, slope)

    kernel = _compiled(kernel)

    def backward(record, upstream, layout):
        return kernel(record["input"], record["output"], upstream, *layout.args())

    return backward


def max_pool(fn, layer):
    """Max pooling `fn` (the call of `layer`, windowed or global).

    In each window the output difference max(x) - max(r) is credited to the
    input's argmax when it is positive and to the reference's argmax when it
    is negative. This is the split (c - max(r)) + (max(x) - c),
    c = max(max(x), max(r)), of which one part is zero. Dividing each
    position's credit by its own difference x - r gives multipliers that sum
    exactly to the output difference. The first maximum of a window in
    row-major order takes the credit, as TensorFlow's pooling gradient
    routes it.
    """
    if not hasattr(layer, "pool_size"):
        return _global_max_pool(layer)
    return _windowed_max_pool(fn, layer)


def _credit(x_max, r_max, upstream):
    """The parts of the upstream credited to the input's and the reference's maxima."""
    delta = x_max - r_max
    gain = tf.maximum(delta, tf.zeros_like(delta))
    return upstream * gain, upstream * (delta - gain)


def _windows(layer, shape):
    """(spatial axes, windows per axis, window size per axis) when the windows tile
    the input without overlap (strides equal to the pool size, with "same"
    padding only for divisible sizes) and the sizes are static; else None."""
    rank = len(shape)
    channels_last = getattr(layer, "data_format", "channels_last") == "channels_last"
    axes = list(range(1, rank - 1)) if channels_last else list(range(2, rank))
    sizes = [shape[a] for a in axes]
    pools, strides = tuple(layer.pool_size), tuple(layer.strides)
    if any(size is None for size in sizes) or pools != strides:
        return None
    if layer.padding != "valid" and any(size % pool for size, pool in zip(sizes, pools)):
        return None
    return axes, [size // pool for size, pool in zip(sizes, pools)], list(pools)


def _windowed_max_pool(fn, layer):
    cache = {}

    def backward(record, upstream, layout):
        shape = tuple(record["input"].shape)
        if shape not in cache:
            windows = _windows(layer, shape)
            cache[shape] = (
                _tiled_max_pool_kernel(shape, windows)
                if windows is not None
                else _routed_max_pool(fn)
            )
        return cache[shape](record, upstream, layout)

    return backward


def _tiled_max_pool_kernel(shape, windows):
    """Max pooling over windows that tile the input (global pooling is one window).

    The captured rows are rearranged once, to (rows, windows, channels, window
    positions) (channels before windows for channels-first layers), and each
    window's maximum and first maximum are found there, on the distinct rows
    of the batch only. Per pair, the rule is then elementwise: gather the two
    rows' values, maxima and first-maximum masks, split the upstream and
    divide by the input difference. Every tensor has rank 4, whatever the
    rank of the pooling.
    """
    axes, counts, pools = windows
    rank = len(shape)
    channels_last = axes[0] == 1
    channel_axis = rank - 1 if channels_last else 1
    # The cropped input as (batch, [count, pool] per spatial axis, channels)
    # in the input's order, and the permutation that brings it to
    # (batch, counts..., channels, pools...) (channels first: channels, counts...).
    split, cropped, padding = [-1], [-1], [[0, 0]] * rank
    count_axes, pool_axes = [], []
    for axis in range(1, rank):
        if axis == channel_axis:
            channel_position = len(split)
            split.append(shape[axis])
            cropped.append(shape[axis])
            continue
        j = axes.index(axis)
        count_axes.append(len(split))
        pool_axes.append(len(split) + 1)
        split += [counts[j], pools[j]]
        cropped.append(counts[j] * pools[j])
        padding[axis] = [0, shape[axis] - counts[j] * pools[j]]
    middle = count_axes + [channel_position] if channels_last else [channel_position] + count_axes
    permutation = [0] + middle + pool_axes
    inverse = [int(i) for i in np.argsort(permutation)]
    permuted = [split[i] for i in permutation]
    windows_count, channels, size = int(np.prod(counts)), shape[channel_axis], int(np.prod(pools))
    table_shape = [-1, windows_count, channels, size]
    if not channels_last:
        table_shape = [-1, channels, windows_count, size]
    crop = tuple(slice(0, c) if axis else slice(None) for axis, c in enumerate(cropped))
    order = np.arange(size, dtype=np.int32)
    padded = any(after for _, after in padding)

    def kernel(pre, upstream, owner, reference_owner, count):
        table = tf.reshape(tf.transpose(tf.reshape(pre[crop], split), permutation), table_shape)
        top = tf.reduce_max(table, axis=-1, keepdims=True)
        rank_of = tf.where(tf.equal(table, top), order, np.int32(size))
        first = tf.equal(rank_of, tf.reduce_min(rank_of, axis=-1, keepdims=True))
        x_in, r_in = _sides(table, owner, reference_owner, count)
        x_max, r_max = _sides(top, owner, reference_owner, count)
        x_first, r_first = _sides(first, owner, reference_owner, count)
        to_x, to_r = _credit(x_max, r_max, tf.reshape(upstream, tf.shape(x_max)))
        zeros = tf.zeros_like(x_in)
        credit = tf.where(x_first, to_x + zeros, zeros) + tf.where(r_first, to_r + zeros, zeros)
        multipliers = _safe_divide(credit, x_in - r_in, ZERO_EPSILON, zeros)
        multipliers = tf.reshape(multipliers, [-1] + permuted[1:])
        multipliers = tf.reshape(tf.transpose(multipliers, inverse), cropped)
        return tf.pad(multipliers, padding) if padded else multipliers

    kernel = _compiled(kernel)
    return lambda record, upstream, layout: kernel(record["input"], upstream, *layout.args())


def _routed_max_pool(fn):
    """Max pooling with overlapping windows: the credit is routed to the argmax by
    the pooling's own gradient, at the input and at the reference."""

    def split_upstream(post, upstream, owner, reference_owner, count):
        x_out, r_out = _sides(post, owner, reference_owner, count)
        return _credit(x_out, r_out, upstream)

    def finish(pre, x_credit, r_credit, owner, reference_owner, count):
        x_in, r_in = _sides(pre, owner, reference_owner, count)
        credit = x_credit + r_credit
        return _safe_divide(credit, x_in - r_in, ZERO_EPSILON, tf.zeros_like(credit))

    split_upstream, finish = _compiled(split_upstream), _compiled(finish)

    def backward(record, upstream, layout):
        to_x, to_r = split_upstream(record["output"], upstream, *layout.args())
        x_in, r_in = _sides(record["input"], *layout.args())
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch([x_in, r_in])
            x_pool, r_pool = fn(x_in), fn(r_in)
        x_credit, r_credit = tape.gradient(
            [x_pool, r_pool], [x_in, r_in], output_gradients=[to_x, to_r]
        )
        return finish(record["input"], x_credit, r_credit, *layout.args())

    return backward


def _global_max_pool(layer):
    """Global max pooling: the tiled kernel with one window over all spatial axes."""
    cache = {}

    def backward(record, upstream, layout):
        shape = tuple(record["input"].shape)
        if shape not in cache:
            rank = len(shape)
            channels_last = getattr(layer, "data_format", "channels_last") == "channels_last"
            axes = list(range(1, rank - 1)) if channels_last else list(range(2, rank))
            cache[shape] = _tiled_max_pool_kernel(shape, (axes, [1] * len(axes), [shape[a] for a in axes]))
        return cache[shape](record, upstream, layout)

    return backward


def softmax(axis=-1):
    """Softmax over `axis`.

    With logits centred on their maximum, c = z - max(z), the softmax is
    e / s for e = exp(c) and s = sum(e). exp takes the rescale rule; the
    quotient takes the two-player Shapley rule, which splits
    e(x)/s(x) - e(r)/s(r) between the changes of e and of s; the sum is
    linear. The multipliers found for c are then rescaled by
    (c(x) - c(r)) / (z(x) - z(r)), so that each logit keeps its own
    contribution and the total is the exact softmax difference.
    """

    def kernel(pre, upstream, owner, reference_owner, count):
        g = upstream
        x_in, r_in = _sides(pre, owner, reference_owner, count)
        x_c = x_in - tf.reduce_max(x_in, axis=axis, keepdims=True)
        r_c = r_in - tf.reduce_max(r_in, axis=axis, keepdims=True)
        x_e, r_e = tf.exp(x_c), tf.exp(r_c)
        x_s = tf.reduce_sum(x_e, axis=axis, keepdims=True)
        r_s = tf.reduce_sum(r_e, axis=axis, keepdims=True)
        xx, rr = x_e / x_s, r_e / r_s  # e / s at (x, x) and (r, r)
        xr, rx = x_e / r_s, r_e / x_s  # mixed: e at x with s at r, and back
        delta_e, delta_s = x_e - r_e, x_s - r_s
        zeros = tf.zeros_like(xx)
        through_e = _safe_divide(0.5 * (xx - rx + xr - rr), delta_e, ZERO_EPSILON, zeros)
        through_s = _safe_divide(
            0.5 * (xx - xr + rx - rr), delta_s * tf.ones_like(xx), ZERO_EPSILON, zeros
        )
        g_e = g * through_e + tf.reduce_sum(g * through_s, axis=axis, keepdims=True)
        delta_c = x_c - r_c
        g_c = g_e * _safe_divide(delta_e, delta_c, RESCALE_EPSILON, r_e)
        return g_c * _safe_divide(delta_c, x_in - r_in, RESCALE_EPSILON, tf.ones_like(g_c))

    kernel = _compiled(kernel)
    return lambda record, upstream, layout: kernel(record["input"], upstream, *layout.args())


def layer_norm(layer):
    """Keras `LayerNormalization`.

    Written as c = a - mean(a), v = mean(c^2) + epsilon, s = rsqrt(v),
    p = o * s with o = c (o = a for rms_scaling, where the variance is still
    that of c), y = gamma * p + beta. Centring, means and the affine end are
    linear; c^2 and rsqrt take the rescale rule (for c^2 the secant is
    c(x) + c(r)); the product o * s takes the two-player Shapley rule,
    0.5 (s(x) + s(r)) for o and 0.5 (o(x) + o(r)) for s.
    """
    epsilon = layer.epsilon
    rms = bool(getattr(layer, "rms_scaling", False))
    scaled = bool(getattr(layer, "scale", True)) and getattr(layer, "gamma", None) is not None

    def kernel(pre, upstream, owner, reference_owner, count, gamma):
        rank = pre.shape.rank
        axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
        axes = sorted(a % rank for a in axes)

        def parts(a):
            c = a - tf.reduce_mean(a, axis=axes, keepdims=True)
            v = tf.reduce_mean(tf.square(c), axis=axes, keepdims=True) + epsilon
            return c, v, tf.math.rsqrt(v)

        g = upstream
        x_in, r_in = _sides(pre, owner, reference_owner, count)
        x_c, x_v, x_s = parts(x_in)
        r_c, r_v, r_s = parts(r_in)
        x_o, r_o = (x_in, r_in) if rms else (x_c, r_c)
        if scaled:
            shape = [1] * rank
            for a in axes:
                shape[a] = pre.shape[a]
            g = g * tf.reshape(tf.cast(gamma, g.dtype), shape)
        g_o = g * 0.5 * (x_s + r_s)
        g_s = tf.reduce_sum(g * 0.5 * (x_o + r_o), axis=axes, keepdims=True)
        slope = -0.5 * r_s / r_v  # d rsqrt(v) / dv at the reference
        g_v = g_s * _safe_divide(x_s - r_s, x_v - r_v, RESCALE_EPSILON, slope)
        size = tf.cast(tf.reduce_prod(tf.gather(tf.shape(pre), axes)), g.dtype)
        g_c = (g_v / size) * (x_c + r_c)
        if not rms:
            g_c = g_c + g_o
        g_a = g_c - tf.reduce_mean(g_c, axis=axes, keepdims=True)
        return g_a + g_o if rms else g_a

    kernel = _compiled(kernel)

    def backward(record, upstream, layout):
        gamma = tf.convert_to_tensor(layer.gamma) if scaled else tf.zeros([])
        return kernel(record["input"], upstream, *layout.args(), gamma)

    return backward


# -- which layers take which rule ------------------------------------------------

_L = keras.layers
_A = keras.activations

#: Layers whose ordinary gradient is already the DeepLIFT multiplier (linear
#: or affine in inference), some with a fused activation handled separately.
LINEAR_LAYERS = (
    _L.InputLayer, _L.Dense, _L.EinsumDense,
    _L.Conv1D, _L.Conv2D, _L.Conv3D,
    _L.Conv1DTranspose, _L.Conv2DTranspose, _L.Conv3DTranspose,
    _L.DepthwiseConv1D, _L.DepthwiseConv2D, _L.SeparableConv1D, _L.SeparableConv2D,
    _L.AveragePooling1D, _L.AveragePooling2D, _L.AveragePooling3D,
    _L.GlobalAveragePooling1D, _L.GlobalAveragePooling2D, _L.GlobalAveragePooling3D,
    _L.BatchNormalization, _L.Normalization, _L.Rescaling,
    _L.Dropout, _L.SpatialDropout1D, _L.SpatialDropout2D, _L.SpatialDropout3D,
    _L.GaussianDropout, _L.GaussianNoise, _L.AlphaDropout, _L.ActivityRegularization,
    _L.Flatten, _L.Reshape, _L.Permute, _L.RepeatVector, _L.Identity,
    _L.Cropping1D, _L.Cropping2D, _L.Cropping3D,
    _L.ZeroPadding1D, _L.ZeroPadding2D, _L.ZeroPadding3D,
    _L.UpSampling1D, _L.UpSampling2D, _L.UpSampling3D,
    _L.Add, _L.Subtract, _L.Concatenate, _L.Average,
)  # fmt: skip

#: Elementwise nonlinear layers: the rescale rule around their call.
ELEMENTWISE_LAYERS = (_L.ReLU, _L.LeakyReLU, _L.ELU, _L.PReLU)

#: Max pooling layers: the max pooling rule around their call.
MAX_POOLING_LAYERS = (
    _L.MaxPooling1D, _L.MaxPooling2D, _L.MaxPooling3D,
    _L.GlobalMaxPooling1D, _L.GlobalMaxPooling2D, _L.GlobalMaxPooling3D,
)  # fmt: skip

#: Elementwise activation functions: the rescale rule.
ELEMENTWISE_ACTIVATIONS = (
    _A.relu, _A.relu6, _A.leaky_relu, _A.elu, _A.selu, _A.gelu, _A.silu,
    _A.sigmoid, _A.tanh, _A.softplus, _A.softsign, _A.hard_sigmoid, _A.hard_silu,
    _A.hard_tanh, _A.mish, _A.exponential, _A.celu, _A.log_sigmoid,
    _A.tanh_shrink, _A.squareplus, _A.sparse_plus, _A.sparse_sigmoid,
    _A.soft_shrink, _A.hard_shrink,
)  # fmt: skip

_GRAPH_MODEL_CALLS = ("Functional.call", "Sequential.call")


@dataclasses.dataclass
class Entry:
    """How one layer instance is explained.

    Attributes:
        layer: the layer.
        linear: the layer has a linear part whose gradient is used as is (all
            of it for linear layers; all but the fused activation for Dense,
            convolutions, ...).
        rule: None, or the rule's kind: "rescale", "softmax", "max_pool" or
            "layer_norm".
        where: "activation" when the rule applies to the fused `activation`
            attribute (or an `Activation` layer's), "call" when it applies to
            the whole call.
    """

    layer: object
    linear: bool
    rule: str = None
    where: str = None
    #: The rule's backward function, built once so that its compiled kernels
    #: are shared by every step and call.
    backward: object = None


def _defining_class(layer, classes):
    """The class of `classes` that `layer` is, if it keeps that class's call."""
    for cls in classes:
        if isinstance(layer, cls) and type(layer).call is cls.call:
            return cls
    return None


def _activation_name(fn):
    return getattr(fn, "__name__", None) or type(fn).__name__


def _unsupported(path, layer, detail=""):
    kind = type(layer).__name__
    raise ValueError(
        f"model: expected layers that DeepShap has DeepLIFT rules for, received layer "
        f"{path!r} of type {kind}{detail}, which it has no rule for; {_GRADIENT_SHAP}."
    )


def _check_graph_model(model, path):
    qualname = getattr(type(model).call, "__qualname__", "")
    if qualname not in _GRAPH_MODEL_CALLS:
        where = "" if path is None else f" (layer {path!r})"
        raise ValueError(
            f"model: expected a Sequential or Functional Keras model, received a "
            f"subclassed model {model.name!r} of type {type(model).__name__}{where}, whose "
            f"call DeepShap cannot see into; {_GRADIENT_SHAP}."
        )


def _children(model):
    """A graph model's operations: layers, and any bare keras.ops nodes."""
    operations = getattr(model, "operations", None)
    if operations is None:
        operations = model.layers
    return list(operations)


def _activation_rule(path, layer):
    fn = getattr(layer, "activation", None)
    if fn is None or fn is _A.linear:
        return None
    if any(fn is known for known in ELEMENTWISE_ACTIVATIONS):
        return "rescale"
    if fn is _A.softmax:
        return "softmax"
    _unsupported(path, layer, f" with activation {_activation_name(fn)!r}")


def _entry(path, layer):
    if _defining_class(layer, LINEAR_LAYERS) is not None:
        rule = _activation_rule(path, layer)
        return Entry(layer, linear=True, rule=rule, where="activation" if rule else None)
    if _defining_class(layer, (_L.Activation,)) is not None:
        rule = _activation_rule(path, layer)
        return Entry(layer, linear=rule is None, rule=rule, where="activation" if rule else None)
    if _defining_class(layer, ELEMENTWISE_LAYERS) is not None:
        return Entry(layer, linear=False, rule="rescale", where="call")
    if _defining_class(layer, MAX_POOLING_LAYERS) is not None:
        return Entry(layer, linear=False, rule="max_pool", where="call")
    if _defining_class(layer, (_L.Softmax,)) is not None:
        axis = layer.axis
        if isinstance(axis, (list, tuple)) and len(axis) != 1:
            _unsupported(path, layer, f" over several axes {tuple(axis)}")
        return Entry(layer, linear=False, rule="softmax", where="call")
    if _defining_class(layer, (_L.LayerNormalization,)) is not None:
        return Entry(layer, linear=False, rule="layer_norm", where="call")
    _unsupported(path, layer)


def plan_rules(model):
    """Check that DeepShap can explain `model` and list how each layer is explained.

    Args:
        model: a Sequential or Functional Keras model (nested models allowed).

    Returns:
        list of `Entry`, one per layer instance (nested models' layers
        included, input layers excluded).

    Raises:
        ValueError: naming the first layer (or activation) without a rule, or
            a subclassed model, and pointing to GradientShap.
    """
    _check_graph_model(model, None)
    entries, seen = [], set()

    def visit(container, prefix):
        for layer in _children(container):
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            path = f"{prefix}{layer.name}"
            if isinstance(layer, keras.Model):
                _check_graph_model(layer, path)
                visit(layer, path + "/")
                continue
            if not isinstance(layer, keras.layers.Layer):
                raise ValueError(
                    f"model: expected layers that DeepShap has DeepLIFT rules for, received "
                    f"the operation {path!r} ({type(layer).__name__}), a keras.ops call in "
                    f"the functional graph, which it has no rule for; wrap it in a layer "
                    f"(for example keras.layers.Activation) or {_GRADIENT_SHAP}."
                )
            entry = _entry(path, layer)
            if not isinstance(layer, _L.InputLayer):
                if entry.rule:
                    fn = layer.activation if entry.where == "activation" else layer.call
                    entry.backward = _rule_backward(entry, fn)
                entries.append(entry)

    visit(model, "")
    return entries


def activation_size(entries):
    """The most values per row that a layer in `entries` outputs, from the model's graph.

    Args:
        entries: list of `Entry`, as `plan_rules` returns.

    Returns:
        int, or None when a layer's output shape is not known or not static
        (beyond the batch dimension).
    """
    largest = 1
    for entry in entries:
        try:
            outputs = tf.nest.flatten(entry.layer.output)
        except (AttributeError, ValueError):
            return None
        for output in outputs:
            shape = getattr(output, "shape", None)
            if shape is None or any(d is None for d in tuple(shape)[1:]):
                return None
            largest = max(largest, int(np.prod(tuple(shape)[1:], dtype=np.int64)))
    return largest


def _rule_backward(entry, fn):
    """The rule's backward function for a layer whose rule input goes through `fn`."""
    if entry.rule == "rescale":
        return rescale(fn)
    if entry.rule == "softmax":
        axis = -1 if entry.where == "activation" else entry.layer.axis
        axis = axis[0] if isinstance(axis, (list, tuple)) else axis
        return softmax(axis)
    if entry.rule == "max_pool":
        return max_pool(fn, entry.layer)
    return layer_norm(entry.layer)


# -- the two passes ------------------------------------------------------------------


@contextlib.contextmanager
def _swapped(replacements):
    """Set instance attributes for the duration of the block, then restore them.

    Args:
        replacements: list of (layer, attribute, value). As in
            `keras_explain.engine.layers.observe_output`, only the layer instances
            change, nothing outlives the block and no TensorFlow registry is
            touched.
    """
    saved = []
    try:
        for layer, attribute, value in replacements:
            saved.append((layer, attribute, attribute in layer.__dict__, layer.__dict__.get(attribute)))
            object.__setattr__(layer, attribute, value)
        yield
    finally:
        for layer, attribute, had_own, original in reversed(saved):
            if had_own:
                object.__setattr__(layer, attribute, original)
            else:
                object.__delattr__(layer, attribute)


def _check_no_mask(layer, kwargs):
    if kwargs.get("mask") is not None:
        raise ValueError(
            f"model: expected no mask at layer {layer.name!r} ({type(layer).__name__}), "
            f"received a mask, which DeepShap's rules do not take; {_GRADIENT_SHAP}."
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
    with _swapped(replacements):
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
                    linear = [(_entry.layer, "activation", _A.linear)] if _entry.where else []
                    points = [_shaped_like(f, layout.padded) for f in flat]
                    with tf.GradientTape(watch_accessed_variables=False) as tape, _swapped(linear):
                        tape.watch(points)
                        z = _call(tf.nest.pack_sequence_as(inputs, points), *args, **kwargs)
                    grads = tape.gradient(z, points, output_gradients=g)
                    return [tf.zeros_like(p) if d is None else d for p, d in zip(points, grads)]

                return zeros, grad

            return backward_only(*flat)

        replacements.append((layer, "call", call))
    with _swapped(replacements):
        yield
