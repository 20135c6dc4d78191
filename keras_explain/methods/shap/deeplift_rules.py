"""DeepLIFT's rules as backward functions: rescale, max pooling, softmax, layer norm.

Each rule maps the recorded values of a layer at a pair's input and reference
and the upstream multipliers to the layer input's multipliers; see
`deeplift.py` for how they are attached to a model.
"""

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



# -- the batch layout ----------------------------------------------------------


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

