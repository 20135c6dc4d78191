"""Every ValueError a user can meet, with its exact message."""

import numpy as np
import pytest

import keras_explain as kx
from keras_explain.engine.targets import resolve_targets


def _message(call):
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


def test_input_errors(linear_model, rows):
    explainer = kx.GradientSaliency(linear_model)
    assert _message(lambda: explainer.explain(rows[0])) == (
        "x: expected an array of rank 2 with shape (N, 5), received an array of shape (5,) "
        "and dtype float32 (a single input needs a batch dimension: pass x[None])."
    )
    assert _message(lambda: explainer.explain(rows[:, :4])) == (
        "x: expected shape (N, 5), received an array of shape (11, 4) and dtype float32."
    )
    bad = rows.copy()
    bad[3, 2] = np.nan
    bad[4, 0] = np.inf
    assert _message(lambda: explainer.explain(bad)) == (
        "x: expected finite values, received 2 NaN or infinite value(s) (the first at index (3, 2))."
    )
    assert _message(lambda: explainer.explain(np.array([["a"] * 5]))) == (
        "x: expected a numeric array, received an array of shape (1, 5) and dtype <U1."
    )
    assert _message(lambda: explainer.explain(rows[:0])) == (
        "x: expected a non-empty batch of inputs, received an array of shape (0, 5) and dtype float32."
    )
    assert _message(lambda: explainer.explain({"x": 1})) == (
        "x: expected a numpy array, tf.Tensor or tf.data.Dataset, received {'x': 1} (dict)."
    )


def test_parameter_errors(linear_model, small_cnn):
    assert _message(lambda: kx.IntegratedGradients(linear_model, steps=1)) == (
        "steps: expected an integer >= 2, received 1."
    )
    assert _message(lambda: kx.IntegratedGradients(linear_model, steps=2.5)) == (
        "steps: expected an integer >= 2, received 2.5."
    )
    assert _message(lambda: kx.IntegratedGradients(linear_model, rule="simpson")) == (
        "rule: expected one of 'trapezoid', 'left', 'right', 'midpoint', 'gauss_legendre', "
        "received 'simpson'."
    )
    assert _message(lambda: kx.IntegratedGradients(linear_model, baseline=[np.nan] * 5)) == (
        "baseline: expected finite values, received an array of shape (5,) and dtype float32."
    )
    assert _message(lambda: kx.GradientSaliency(linear_model, batch_size=0)) == (
        "batch_size: expected an integer >= 1, received 0."
    )
    assert _message(lambda: kx.GradientSaliency(linear_model, absolute="yes")) == (
        "absolute: expected True or False, received 'yes'."
    )
    inner = kx.GradientSaliency(linear_model)
    assert _message(lambda: kx.SmoothGrad(inner, noise=-0.1)) == (
        "noise: expected a number >= 0.0, received -0.1."
    )
    assert _message(lambda: kx.SmoothGrad(inner, samples=0)) == (
        "samples: expected an integer >= 1, received 0."
    )
    assert _message(lambda: kx.SmoothGrad(inner, mode="median")) == (
        "mode: expected one of 'mean', 'square', 'variance', received 'median'."
    )
    assert _message(lambda: kx.SmoothGrad(linear_model)) == (
        "explainer: expected a gradient explainer instance (GradientSaliency, IntegratedGradients, "
        "GradCAM or GradCAMPlusPlus), received a Functional object."
    )
    assert _message(lambda: kx.GradientSaliency("model.keras")) == (
        "model: expected a Keras 3 model (keras.Model), received 'model.keras'."
    )
    assert _message(lambda: kx.GradCAM(small_cnn, layer="conv_z")) == (
        "layer: expected the name of a layer in model 'small_cnn' (the last ones are 'conv_a', "
        "'conv_b', 'pool', 'head'), received 'conv_z'."
    )
    assert _message(lambda: kx.GradCAM(linear_model)) == (
        "layer: expected a model with a 2D convolution to pick automatically, received model "
        f"{linear_model.name!r} with none; pass layer= the name of a layer whose output is a feature map "
        "(N, h, w, c)."
    )


def test_target_errors(linear_model, rows):
    explainer = kx.GradientSaliency(linear_model)
    assert _message(lambda: explainer.explain(rows, targets=3)) == (
        "targets: expected output indices between 0 and 2 for a model with 3 output(s), received 3."
    )
    assert _message(lambda: explainer.explain(rows, targets=np.arange(4))) == (
        "targets: expected one output index per example, shape (11,), received an array of shape "
        "(4,) and dtype int64."
    )
    assert _message(lambda: explainer.explain(rows, targets=1.0)) == (
        "targets: expected None, an int or an int array of shape (11,), received 1.0."
    )
    ig = kx.IntegratedGradients(linear_model, steps=3)
    assert _message(lambda: ig.explain(rows, targets=-1)) == (
        "targets: expected output indices between 0 and 2 for a model with 3 output(s), received -1."
    )


def test_resolve_targets_rules():
    predictions = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    np.testing.assert_array_equal(resolve_targets(None, 2, predictions), [1, 0])
    np.testing.assert_array_equal(resolve_targets(None, 2, np.ones((2, 1))), [0, 0])
    np.testing.assert_array_equal(resolve_targets(np.int32(2), 2, predictions), [2, 2])
    np.testing.assert_array_equal(resolve_targets(None, 2, num_outputs=4), [-1, -1])
    np.testing.assert_array_equal(resolve_targets(None, 2, num_outputs=1), [0, 0])
    assert resolve_targets([0, 2], 2, predictions).dtype == np.int64
