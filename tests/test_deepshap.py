"""DeepShap and GradientShap: exact additivity, the linear case, parity with shap."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_explain.methods.shap.deeplift as deeplift
import keras_explain.methods.shap.deeplift_plan as deeplift_plan
import keras_explain.methods.shap.deeplift_rules as deeplift_rules
from keras_explain.api import build_explainer
from keras_explain.methods.shap import AdditivityError, DeepShap, GradientShap

L = keras.layers
HERE = os.path.dirname(os.path.abspath(__file__))


# -- the model zoo: one tiny seeded model per family of layers -------------------


def _mlp(*layers, inputs=6, outputs=3):
    return keras.Sequential([keras.Input((inputs,)), *layers, L.Dense(outputs)])


def _functional(build, shape):
    inputs = keras.Input(shape)
    return keras.Model(inputs, build(inputs))


def _residual(inputs):
    a = L.Dense(8, activation="relu")(inputs)
    b = L.Dense(8, activation="tanh")(inputs)
    c = L.Dense(8)(inputs)
    added = L.Add()([a, b])
    subtracted = L.Subtract()([a, c])
    averaged = L.Average()([added, subtracted, b])
    joined = L.Concatenate()([averaged, L.Dropout(0.5)(subtracted), inputs])
    return L.Dense(3)(L.Activation("sigmoid")(joined))


def _nested(inputs):
    inner = keras.Sequential(
        [keras.Input((6,)), L.Dense(8, activation="relu"), L.Dense(8, activation="elu")],
        name="inner_sequential",
    )
    inner_inputs = keras.Input((8,))
    inner_functional = keras.Model(
        inner_inputs, L.Dense(5, activation="tanh")(inner_inputs), name="inner_functional"
    )
    return L.Dense(3)(inner_functional(inner(inputs)))


def _reused(inputs):
    shared = L.Dense(6, activation="relu", name="shared")
    hidden = shared(shared(inputs))
    return L.Dense(3)(L.Add()([hidden, shared(L.Dense(6, activation="tanh")(inputs))]))


def _layer_norm(inputs):
    hidden = L.Reshape((3, 4))(L.Dense(12)(inputs))
    hidden = L.LayerNormalization(axis=[1, 2])(hidden)
    hidden = L.Dense(8, activation="relu")(L.Flatten()(hidden))
    hidden = L.LayerNormalization(scale=False)(hidden)
    hidden = L.LayerNormalization(center=False)(L.Dense(8, activation="tanh")(hidden))
    return L.Dense(3)(hidden)


ZOO = {
    "mlp_relu": lambda: _mlp(L.Dense(12, activation="relu"), L.Dense(10, activation="relu")),
    "mlp_smooth": lambda: _mlp(
        *[L.Dense(10, activation=a) for a in ("elu", "selu", "sigmoid", "tanh", "softplus")]
    ),
    "mlp_relu6_leaky": lambda: _mlp(
        L.Dense(10, activation="relu6"), L.Dense(10, activation="leaky_relu")
    ),
    "mlp_gelu": lambda: _mlp(L.Dense(10, activation="gelu"), L.Dense(10, activation="gelu")),
    "mlp_swish": lambda: _mlp(L.Dense(10, activation="swish"), L.Dense(10, activation="silu")),
    "mlp_softmax": lambda: keras.Sequential(
        [keras.Input((6,)), L.Dense(10, activation="relu"), L.Dense(4, activation="softmax")]
    ),
    "activation_layers": lambda: keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(10),
            L.Activation("tanh"),
            L.Dense(10),
            L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
            L.Dense(10),
            L.LeakyReLU(negative_slope=0.3),
            L.Dense(10),
            L.ELU(alpha=0.5),
            L.Dense(10),
            L.PReLU(alpha_initializer=keras.initializers.Constant(0.25)),
            L.Dense(4),
            L.Softmax(),
        ]
    ),
    "cnn2d": lambda: keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            L.Conv2D(4, 3, activation="relu"),
            L.MaxPooling2D(2),
            L.BatchNormalization(),
            L.Conv2D(6, 3, padding="same", activation="tanh"),
            L.AveragePooling2D(3),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ]
    ),
    "cnn2d_pooling": lambda: keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            L.Conv2D(4, 3, padding="same", activation="relu"),
            L.MaxPooling2D(3, strides=1),
            L.ZeroPadding2D(1),
            L.Conv2D(5, 3, activation="sigmoid"),
            L.GlobalMaxPooling2D(),
            L.Dense(3),
        ]
    ),
    "cnn1d": lambda: keras.Sequential(
        [
            keras.Input((12, 2)),
            L.Conv1D(4, 3, activation="relu"),
            L.MaxPooling1D(2),
            L.Conv1D(5, 3, activation="elu"),
            L.GlobalAveragePooling1D(),
            L.Dense(3),
        ]
    ),
    "pooling_1d": lambda: keras.Sequential(
        [
            keras.Input((12, 2)),
            L.Conv1D(4, 3, activation="relu"),
            L.AveragePooling1D(2),
            L.Conv1D(4, 2, padding="same", activation="softplus"),
            L.GlobalMaxPooling1D(),
            L.Dense(3),
        ]
    ),
    "cnn3d": lambda: keras.Sequential(
        [
            keras.Input((5, 5, 5, 1)),
            L.Conv3D(3, 2, activation="relu"),
            L.MaxPooling3D(2),
            L.Conv3D(4, 1, activation="tanh"),
            L.GlobalAveragePooling3D(),
            L.Dense(3),
        ]
    ),
    "depthwise_separable": lambda: keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
            L.SeparableConv2D(4, 3, activation="elu"),
            L.GlobalAveragePooling2D(),
            L.Dense(3),
        ]
    ),
    "reshape_permute": lambda: keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(12, activation="tanh"),
            L.Reshape((3, 4)),
            L.Permute((2, 1)),
            L.Dense(5, activation="relu"),
            L.Flatten(),
            L.Dense(3),
        ]
    ),
    "residual": lambda: _functional(_residual, (6,)),
    "nested": lambda: _functional(_nested, (6,)),
    "reused_layer": lambda: _functional(_reused, (6,)),
    "layer_norm": lambda: _functional(_layer_norm, (6,)),
}

#: Background rows and explained inputs per model.
BACKGROUND, INPUTS = 12, 5


def _data(model, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(model.inputs[0].shape[1:])
    x = rng.normal(0.0, 1.0, size=(INPUTS,) + shape).astype("float32")
    background = rng.normal(0.3, 1.2, size=(BACKGROUND,) + shape).astype("float32")
    return x, background


@pytest.fixture(scope="module")
def zoo():
    made = {}
    for seed, (name, build) in enumerate(ZOO.items()):
        keras.utils.set_random_seed(100 + seed)
        model = build()
        made[name] = (model,) + _data(model, seed)
    return made


@pytest.fixture(scope="module")
def ours(zoo):
    """Our explanation of every zoo model (the additivity check off, to report gaps)."""
    return {
        name: DeepShap(model, background, check_additivity=False).explain(x)
        for name, (model, x, background) in zoo.items()
    }


def _outputs(model, x):
    return model(x, training=False).numpy().astype(np.float64)


@pytest.mark.parametrize("name", list(ZOO))
def test_additivity(zoo, ours, name):
    model, x, background = zoo[name]
    e = ours[name]
    rows = np.arange(len(x))
    f_x = _outputs(model, x)[rows, e.targets]
    expected = _outputs(model, background).mean(axis=0)[e.targets]
    total = e.attributions.astype(np.float64).reshape(len(x), -1).sum(axis=1)
    difference = f_x - expected
    gap = total - difference
    assert np.all(np.abs(gap) <= 1e-4 + 1e-3 * np.abs(difference)), (name, gap)
    # The reported gap and expected value are the same figures.
    np.testing.assert_allclose(e.additivity_gap, gap, atol=2e-6)
    np.testing.assert_allclose(e.expected_value, expected, atol=1e-6)
    assert e.attributions.shape == x.shape and e.attributions.dtype == np.float32
    # A nonlinear model is not explained by gradient x (input - mean background).
    assert np.abs(difference).max() > 1e-2
    print(f"{name}: largest additivity gap {np.abs(gap).max():.2e}")


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_linear_model_is_weights_times_difference(linear_models, linear_weights, kind):
    kernel, bias = linear_weights
    rng = np.random.default_rng(7)
    x = rng.normal(size=(9, 5)).astype("float32")
    background = rng.normal(1.0, 2.0, size=(13, 5)).astype("float32")
    explainer = DeepShap(linear_models[kind], background)
    np.testing.assert_allclose(explainer.expected_value, background.mean(0) @ kernel + bias, atol=1e-5)
    targets = np.arange(9) % 3
    e = explainer.explain(x, targets=targets)
    expected = kernel[:, targets].T * (x - background.mean(axis=0))
    np.testing.assert_allclose(e.attributions, expected, atol=1e-5)
    np.testing.assert_array_equal(e.targets, targets)
    assert e.method == "deepshap"


def test_single_reference_equals_deeplift_by_hand():
    """One reference row: the rescale rule written out for a one-hidden-layer ReLU net."""
    keras.utils.set_random_seed(3)
    model = _mlp(L.Dense(7, activation="relu"), outputs=2)
    (w1, b1), (w2, b2) = (layer.get_weights() for layer in model.layers)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 6)).astype("float32")
    reference = rng.normal(size=(1, 6)).astype("float32")
    e = DeepShap(model, reference).explain(x, targets=1)
    z_x, z_r = x @ w1 + b1, reference @ w1 + b1
    slope = (np.maximum(z_x, 0) - np.maximum(z_r, 0)) / (z_x - z_r)
    expected = ((slope * w2[:, 1]) @ w1.T) * (x - reference)
    np.testing.assert_allclose(e.attributions, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["cnn2d", "cnn1d", "pooling_1d", "cnn3d", "cnn2d_pooling"])
def test_window_pooling_matches_gradient_routing(zoo, ours, name, monkeypatch):
    """The reshape kernel for tiling windows and the general pooling rule agree."""
    model, x, background = zoo[name]
    monkeypatch.setattr(deeplift_rules, "_windows", lambda layer, shape: None)
    monkeypatch.setattr(deeplift_rules, "_global_max_pool", lambda layer: deeplift_rules._routed_max_pool(layer.call))
    general = DeepShap(model, background).explain(x)
    scale = np.abs(general.attributions).max()
    np.testing.assert_allclose(ours[name].attributions, general.attributions, atol=1e-6 * scale)


def test_rules_without_xla_agree(zoo, ours, monkeypatch):
    monkeypatch.setattr(deeplift_rules, "JIT_COMPILE", False)
    for name in ("activation_layers", "layer_norm", "cnn2d"):
        model, x, background = zoo[name]
        plain = DeepShap(model, background).explain(x)
        scale = np.abs(plain.attributions).max()
        np.testing.assert_allclose(ours[name].attributions, plain.attributions, atol=1e-5 * scale, err_msg=name)


def _max_pool_rule_by_hand(x, r, upstream, pools):
    """The max pooling rule for one (input, reference) pair, channels last, in numpy.

    x, r: (*spatial, C); upstream: (*counts, C). Windows tile the input from
    the origin (the rest is cropped); the first maximum in row-major order
    takes the credit.
    """
    counts = [size // pool for size, pool in zip(x.shape[:-1], pools)]
    multipliers = np.zeros_like(x)
    for window in np.ndindex(*counts):
        index = tuple(slice(w * p, (w + 1) * p) for w, p in zip(window, pools))
        for c in range(x.shape[-1]):
            xs, rs = x[index + (c,)].ravel(), r[index + (c,)].ravel()
            delta = xs.max() - rs.max()
            gain = max(delta, 0.0)
            credit = np.zeros_like(xs)
            credit[np.argmax(xs)] += upstream[window + (c,)] * gain
            credit[np.argmax(rs)] += upstream[window + (c,)] * (delta - gain)
            difference = xs - rs
            tiny = np.abs(difference) < deeplift_rules.ZERO_EPSILON
            m = np.where(tiny, 0.0, credit / np.where(tiny, 1.0, difference))
            multipliers[index + (c,)] = m.reshape(pools)
    return multipliers


@pytest.mark.parametrize(
    "layer, shape",
    [
        (L.MaxPooling2D(2), (6, 6, 3)),
        (L.MaxPooling2D(3), (7, 8, 2)),  # cropped: windows do not cover the edges
        (L.MaxPooling2D(2, data_format="channels_first"), (3, 4, 6)),
        (L.MaxPooling1D(3), (9, 2)),
        (L.MaxPooling3D(2), (4, 4, 2, 2)),
        (L.GlobalMaxPooling2D(), (3, 4, 2)),
        (L.GlobalMaxPooling2D(data_format="channels_first"), (2, 3, 4)),
        (L.GlobalMaxPooling1D(keepdims=True), (5, 3)),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, keras.layers.Layer) else str(value),
)
@pytest.mark.parametrize("jit", [True, False])
def test_max_pool_rule_with_ties_by_hand(layer, shape, jit, monkeypatch):
    """The tiled kernel on values with many ties, both layouts, with and without XLA."""
    monkeypatch.setattr(deeplift_rules, "JIT_COMPILE", jit)
    rng = np.random.default_rng(5)
    inputs, samples = 3, 4
    x = rng.integers(0, 3, size=(inputs,) + shape).astype("float32")
    background = rng.integers(0, 3, size=(samples,) + shape).astype("float32")
    # The last pairs of input 0, then all of input 1 and the first of input 2.
    first, last = 2, 2 * samples + 1
    pairs = np.arange(first, last)
    input_index = tf.constant(pairs // samples, tf.int32)
    sample_index = tf.constant(pairs % samples, tf.int32)
    layout = deeplift.Layout(input_index, sample_index, samples)
    captured = layout.capture_batch(tf.gather(x, input_index), background)
    output_shape = layer.compute_output_shape((None,) + shape)
    upstream = rng.normal(size=(len(pairs),) + tuple(output_shape[1:])).astype("float32")
    padded = int(layout.padded)
    padding = np.zeros((padded - len(pairs),) + upstream.shape[1:], "float32")
    upstream_padded = np.concatenate([upstream, padding])
    backward = deeplift_rules.max_pool(layer.call, layer)
    got = backward({"input": captured}, tf.constant(upstream_padded), layout).numpy()[: len(pairs)]

    channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
    last_axis = lambda a: np.moveaxis(a, 0, -1) if channels_first else a  # noqa: E731
    for row, (i, k) in enumerate(zip(pairs // samples, pairs % samples)):
        xi, rk = last_axis(x[i]), last_axis(background[k])
        up = upstream[row]
        if hasattr(layer, "pool_size"):
            pools = list(layer.pool_size)
            up = last_axis(up)
        else:
            pools = list(xi.shape[:-1])
            up = up.reshape((1,) * len(pools) + (xi.shape[-1],))
        expected = _max_pool_rule_by_hand(xi, rk, up, pools)
        if channels_first:
            expected = np.moveaxis(expected, -1, 0)
        np.testing.assert_allclose(got[row], expected, rtol=1e-6, atol=1e-6)
        # Summation to delta, window by window, adds up for the pair.
        pooled_x = layer(x[i : i + 1]).numpy()
        pooled_r = layer(background[k : k + 1]).numpy()
        total = float(np.sum(upstream[row] * (pooled_x - pooled_r)[0]))
        assert abs(float(np.sum(got[row] * (x[i] - background[k]))) - total) < 1e-4


def test_default_batch_size_bounds_the_largest_layer_output():
    """(pairs per step) x (largest layer output per row) stays within 2**26 values."""
    wide = keras.Sequential(
        [keras.Input((4, 4, 1)), L.Conv2D(2048, 3, padding="same", activation="relu"),
         L.GlobalAveragePooling2D(), L.Dense(2)]
    )  # fmt: skip
    background = np.zeros((3, 4, 4, 1), "float32")
    assert deeplift_plan.activation_size(deeplift_plan.plan_rules(wide)) == 4 * 4 * 2048
    explainer = DeepShap(wide, background)
    assert explainer.batch_size_for(tf.constant(background)) == 2**26 // (4 * 4 * 2048)
    small = _mlp(L.Dense(12, activation="relu"))
    explainer = DeepShap(small, np.zeros((3, 6), "float32"))
    assert explainer.batch_size_for(tf.zeros((1, 6))) == 8192
    assert DeepShap(small, np.zeros((3, 6), "float32"), batch_size=7).batch_size_for(tf.zeros((1, 6))) == 7


# -- batching, compiling, configuration -----------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 7, 25])
def test_batch_size_invariance(zoo, ours, batch_size):
    model, x, background = zoo["cnn2d"]
    e = DeepShap(model, background, batch_size=batch_size).explain(x)
    reference = ours["cnn2d"].attributions
    np.testing.assert_allclose(e.attributions, reference, atol=1e-6 * np.abs(reference).max())


def test_memory_is_bounded_by_one_batch(zoo, monkeypatch):
    """Each step sees at most one batch of pairs, however large the background."""
    model, x, _ = zoo["cnn2d"]
    background = np.random.default_rng(9).normal(size=(300,) + x.shape[1:]).astype("float32")
    seen = []
    capture_batch, pair_batch = deeplift.Layout.capture_batch, deeplift.Layout.pair_batch

    def record(kind, method):
        def wrapped(self, *args):
            rows = method(self, *args)
            seen.append((kind, int(rows.shape[0])))
            return rows

        return wrapped

    monkeypatch.setattr(deeplift.Layout, "capture_batch", record("capture", capture_batch))
    monkeypatch.setattr(deeplift.Layout, "pair_batch", record("pairs", pair_batch))
    e = DeepShap(model, background, batch_size=40, run_eagerly=True).explain(x[:2])
    assert len(seen) == 2 * 15  # 600 pairs in 15 steps
    # 40 pairs: at most 2 inputs (padded to 2) and 40 background rows.
    assert max(rows for kind, rows in seen if kind == "capture") <= 42
    assert max(rows for kind, rows in seen if kind == "pairs") <= 40
    assert np.abs(e.additivity_gap).max() < 1e-4


def test_compiled_once(zoo):
    model, x, background = zoo["mlp_smooth"]
    explainer = DeepShap(model, background, batch_size=16)
    first = explainer.explain(x)
    traces = explainer.trace_count
    assert traces == 2  # the forward step (expected value, predictions) and the pair step
    again = explainer.explain(x[:3])
    explainer.batch_size = 5
    explainer.explain(x)
    assert explainer.trace_count == traces
    np.testing.assert_allclose(again.attributions, first.attributions[:3], atol=1e-6)


def test_input_types_and_eager(zoo, ours):
    model, x, background = zoo["mlp_relu"]
    explainer = DeepShap(model, tf.data.Dataset.from_tensor_slices(background).batch(5))
    np.testing.assert_array_equal(explainer.background, background)
    got = explainer.explain(tf.constant(x))
    np.testing.assert_allclose(got.attributions, ours["mlp_relu"].attributions, atol=1e-6)
    eager = DeepShap(model, background, run_eagerly=True).explain(x)
    np.testing.assert_allclose(eager.attributions, ours["mlp_relu"].attributions, atol=1e-6)


def test_rules_are_removed_after_tracing(zoo):
    model, x, background = zoo["activation_layers"]
    before = {id(layer): dict(layer.__dict__) for layer in model.layers}
    DeepShap(model, background).explain(x)
    for layer in model.layers:
        assert "call" not in layer.__dict__
        assert layer.__dict__.get("activation") is before[id(layer)].get("activation")
    np.testing.assert_allclose(model(x).numpy().sum(axis=1), 1.0, atol=1e-5)


def test_config_round_trip_and_registry(zoo):
    model, x, background = zoo["mlp_relu"]
    explainer = DeepShap(model, background, batch_size=8, check_additivity=False)
    config = explainer.get_config()
    assert config["check_additivity"] is False and config["batch_size"] == 8
    again = DeepShap.from_config(config, model)
    np.testing.assert_array_equal(again.background, background)
    built, options = build_explainer(model, "deep_shap", background=background)
    assert isinstance(built, DeepShap) and options == {}
    built, _ = build_explainer(model, "expected_gradients", background=background, samples=3)
    assert isinstance(built, GradientShap) and built.samples == 3


def test_explanation_saves(zoo, ours, tmp_path):
    from keras_explain.explanation import Explanation

    path = ours["mlp_relu"].save(tmp_path / "deepshap")
    loaded = Explanation.load(path)
    np.testing.assert_array_equal(loaded.additivity_gap, ours["mlp_relu"].additivity_gap)
    np.testing.assert_array_equal(loaded.expected_value, ours["mlp_relu"].expected_value)


# -- errors -------------------------------------------------------------------------


def test_unsupported_layer_names_it():
    inputs = keras.Input((4,))
    hidden = L.Lambda(lambda t: t * t, name="square")(inputs)
    model = keras.Model(inputs, L.Dense(2)(hidden))
    with pytest.raises(ValueError) as error:
        DeepShap(model, np.zeros((3, 4), "float32"))
    assert str(error.value) == (
        "model: expected layers that DeepShap has DeepLIFT rules for, received layer "
        "'square' of type Lambda, which it has no rule for; use kx.GradientShap(model, "
        "background), which works with any differentiable model."
    )


def test_unsupported_activation_and_nested_paths():
    inner = keras.Sequential([keras.Input((4,)), L.Dense(4, activation="log_softmax", name="d")], name="inner")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, L.Dense(2)(inner(inputs)))
    with pytest.raises(ValueError) as error:
        DeepShap(model, np.zeros((3, 4), "float32"))
    assert str(error.value) == (
        "model: expected layers that DeepShap has DeepLIFT rules for, received layer "
        "'inner/d' of type Dense with activation 'log_softmax', which it has no rule for; "
        "use kx.GradientShap(model, background), which works with any differentiable model."
    )


def test_bare_keras_ops_are_reported():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, L.Dense(2)(keras.ops.relu(L.Dense(4)(inputs))))
    with pytest.raises(ValueError, match=r"received the operation 'relu' \(Relu\), a keras.ops call"):
        DeepShap(model, np.zeros((3, 4), "float32"))


def test_subclassed_model_points_to_gradient_shap(linear_models, linear_weights):
    background = np.random.default_rng(0).normal(size=(6, 5)).astype("float32")
    with pytest.raises(ValueError) as error:
        DeepShap(linear_models["subclassed"], background)
    assert str(error.value) == (
        "model: expected a Sequential or Functional Keras model, received a subclassed "
        "model 'linear_subclass' of type LinearSubclass, whose call DeepShap cannot see "
        "into; use kx.GradientShap(model, background), which works with any "
        "differentiable model."
    )
    # ... which explains it.
    kernel, _ = linear_weights
    x = np.random.default_rng(1).normal(size=(3, 5)).astype("float32")
    e = GradientShap(linear_models["subclassed"], background[:1], samples=4).explain(x, targets=2)
    np.testing.assert_allclose(e.attributions, kernel[:, 2] * (x - background[0]), atol=1e-5)


def test_bad_backgrounds(linear_model):
    with pytest.raises(ValueError) as error:
        DeepShap(linear_model, np.zeros((4, 6), "float32"))
    assert str(error.value) == (
        "background: expected shape (N, 5), received an array of shape (4, 6) and dtype float32."
    )
    with pytest.raises(ValueError) as error:
        DeepShap(linear_model, np.zeros((0, 5), "float32"))
    assert str(error.value) == (
        "background: expected a non-empty batch of inputs, received an array of shape "
        "(0, 5) and dtype float32."
    )
    bad = np.zeros((4, 5), "float32")
    bad[2, 3] = np.nan
    with pytest.raises(ValueError) as error:
        GradientShap(linear_model, bad)
    assert str(error.value) == (
        "background: expected finite values, received 1 NaN or infinite value(s) "
        "(the first at index (2, 3))."
    )
    with pytest.raises(ValueError, match="^check_additivity: expected True or False, received 1.$"):
        DeepShap(linear_model, np.zeros((4, 5), "float32"), check_additivity=1)
    with pytest.raises(ValueError, match="^x: expected finite values"):
        DeepShap(linear_model, np.zeros((4, 5), "float32")).explain(np.full((2, 5), np.inf, "float32"))


def test_check_additivity_raises_with_the_figures(zoo, monkeypatch):
    """A deliberately wrong rule (plain gradients for the activations) is caught."""
    model, x, background = zoo["mlp_smooth"]
    def plain_gradient(fn):
        return lambda record, upstream, layout: upstream * deeplift_rules._derivative(
            fn, tf.gather(record["input"][layout.count :], layout.reference_owner)
        )

    monkeypatch.setattr(deeplift_plan, "rescale", plain_gradient)
    with pytest.raises(AdditivityError) as error:
        DeepShap(model, background).explain(x)
    message = str(error.value)
    assert message.startswith(
        "DeepShap: expected the attributions of each example to sum to f(x) - E[f(background)] "
        "within 1e-4 + 1e-3 * |f(x) - E[f(background)]|, but "
    )
    assert "sum of attributions" in message and "tolerance" in message
    unchecked = DeepShap(model, background, check_additivity=False).explain(x)
    assert np.abs(unchecked.additivity_gap).max() > 1e-3


# -- GradientShap -------------------------------------------------------------------


def test_gradient_shap_linear_is_exact(linear_model, linear_weights):
    kernel, bias = linear_weights
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 5)).astype("float32")
    background = rng.normal(size=(20, 5)).astype("float32")
    explainer = GradientShap(linear_model, background, samples=2000, random_state=0)
    e = explainer.explain(x, targets=0)
    # Each draw is exactly w * (x - r): the mean is w * (x - mean of the drawn rows).
    assert np.abs(e.attributions - kernel[:, 0] * (x - background.mean(0))).max() < 0.1
    np.testing.assert_allclose(explainer.expected_value, background.mean(0) @ kernel + bias, atol=1e-5)


def test_gradient_shap_statistics_and_seeds(zoo):
    model, x, background = zoo["mlp_smooth"]
    deep = DeepShap(model, background).explain(x)

    def run(seed, samples=400, batch_size=None):
        explainer = GradientShap(model, background, samples=samples, random_state=seed, batch_size=batch_size)
        return explainer.explain(x, targets=deep.targets)

    e = run(0)
    np.testing.assert_array_equal(e.attributions, run(0).attributions)
    np.testing.assert_allclose(run(0, batch_size=37).attributions, e.attributions, atol=1e-6)
    assert np.abs(run(1).attributions - e.attributions).max() > 1e-4
    # Additivity holds in expectation: the gap is small next to f(x) - E f(bg).
    difference = e.additivity_gap - deep.additivity_gap  # both against the same f(x) - E f
    scale = np.abs(deep.attributions.sum(axis=1)).mean()
    assert np.abs(difference).mean() < 0.1 * scale
    assert np.abs(run(0, samples=4000).additivity_gap).mean() < np.abs(run(0, samples=40).additivity_gap).mean()


# -- parity with the shap package ----------------------------------------------------------

#: Models whose shap comparison is run (in one subprocess, see shap_reference.py).
PARITY = list(ZOO)


@pytest.fixture(scope="module")
def shap_results(zoo, tmp_path_factory):
    pytest.importorskip("shap")
    directory = tmp_path_factory.mktemp("shap_reference")
    for name in PARITY:
        model, x, background = zoo[name]
        model.save(directory / f"{name}.keras")
        np.save(directory / f"{name}_x.npy", x)
        np.save(directory / f"{name}_bg.npy", background)
    command = [sys.executable, os.path.join(HERE, "helpers", "shap_reference.py"), str(directory), *PARITY]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"shap_reference.py failed:\n{done.stderr[-3000:]}")
    with open(directory / "results.json") as handle:
        return directory, json.load(handle)


@pytest.mark.parametrize("name", PARITY)
def test_parity_with_shap(zoo, ours, shap_results, name):
    directory, results = shap_results
    if not results[name]["ok"]:
        pytest.skip(f"shap.DeepExplainer fails on {name}: {results[name]['error']}")
    model, x, background = zoo[name]
    theirs = np.load(directory / f"{name}_shap.npy")
    expected = np.load(directory / f"{name}_expected.npy")
    e = ours[name]
    picked = np.stack([theirs[i, ..., t] for i, t in enumerate(e.targets)])
    np.testing.assert_allclose(e.expected_value, expected[e.targets], atol=1e-5)
    np.testing.assert_allclose(e.attributions, picked, atol=1e-4)
    print(f"{name}: largest difference to shap {np.abs(e.attributions - picked).max():.2e}")


# -- models with several inputs ----------------------------------------------------


def _two_inputs_and_their_concatenation():
    """A model on inputs a (N, 4) and b (N, 3) and the same model on concat(a, b) (N, 7)."""
    keras.utils.set_random_seed(21)
    head = [L.Dense(8, activation="relu"), L.Dense(5, activation="tanh"), L.Dense(3)]
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    joined = keras.Input((7,))
    two, one = L.Concatenate()([a, b]), joined
    for layer in head:
        two, one = layer(two), layer(one)
    return keras.Model([a, b], two), keras.Model(joined, one)


def test_several_inputs_split_the_single_input_attributions():
    two, one = _two_inputs_and_their_concatenation()
    rng = np.random.default_rng(22)
    background = rng.normal(size=(9, 7)).astype("float32")
    x = rng.normal(size=(4, 7)).astype("float32")
    split = lambda v: [v[:, :4], v[:, 4:]]  # noqa: E731
    for explainer in (
        lambda model, bg: DeepShap(model, bg, batch_size=5),
        lambda model, bg: GradientShap(model, bg, samples=16, random_state=3, batch_size=5),
    ):
        whole = explainer(one, background).explain(x)
        parts = explainer(two, split(background)).explain(split(x))
        assert isinstance(parts.attributions, list) and len(parts.attributions) == 2
        for got, want in zip(parts.attributions, split(whole.attributions)):
            np.testing.assert_allclose(got, want, atol=1e-6)
        np.testing.assert_array_equal(parts.targets, whole.targets)
        np.testing.assert_allclose(parts.additivity_gap, whole.additivity_gap, atol=1e-6)
    assert np.abs(parts.additivity_gap).max() > 0  # GradientShap: additive in expectation only
    deep = DeepShap(two, split(background)).explain(split(x))
    assert np.abs(deep.additivity_gap).max() < 1e-5
    with pytest.raises(ValueError) as error:
        DeepShap(two, split(background)).explain([x[:, :4], x[:, :4]])
    assert str(error.value) == (
        "x[1]: expected shape (N, 3), received an array of shape (4, 4) and dtype float32."
    )
    with pytest.raises(ValueError) as error:
        DeepShap(two, background)
    assert str(error.value) == (
        "background: expected a list of 2 arrays, one per model input (a, b), received an "
        "array of shape (9, 7) and dtype float32."
    )
