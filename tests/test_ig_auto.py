"""Integrated Gradients with steps="auto": the fewest steps that meet a tolerance."""

import numpy as np
import pytest

import keras_explain as kx
from keras_explain.methods.gradients import ig_steps
from keras_explain.methods.gradients.integrated_gradients import CompletenessWarning


def relative(e):
    difference = e.predictions[np.arange(len(e)), e.targets].astype(np.float64) - e.baseline_scores
    return np.abs(e.completeness_gap) / np.maximum(np.abs(difference), 1e-2)


@pytest.fixture(scope="module")
def cases(tanh_mlp, rows, small_cnn, images):
    return {"mlp": (tanh_mlp, rows), "cnn": (small_cnn, images[:6])}


@pytest.mark.parametrize("name", ["mlp", "cnn"])
@pytest.mark.parametrize("rule", ["trapezoid", "gauss_legendre", "midpoint"])
def test_auto_meets_its_tolerance_and_equals_the_fixed_run(cases, name, rule):
    model, x = cases[name]
    e = kx.IntegratedGradients(model, steps="auto", rule=rule, tolerance=1e-3, verbose=0).explain(x)
    assert np.all(relative(e) <= 1e-3)
    assert e.steps.shape == (len(x),) and e.config["steps"] == "auto"
    for steps in np.unique(e.steps):
        chosen = np.flatnonzero(e.steps == steps)
        fixed = kx.IntegratedGradients(model, steps=int(steps), rule=rule, verbose=0).explain(x[chosen])
        scale = np.abs(fixed.attributions).max()
        np.testing.assert_allclose(e.attributions[chosen], fixed.attributions, rtol=0, atol=1e-6 * scale)
    levels = [ig_steps.rule_points(rule, n) for n in ig_steps.levels(rule, 512)]
    if rule == "trapezoid":
        # Nested points: every gradient evaluated once.
        np.testing.assert_array_equal(e.gradient_evaluations, e.steps)
    else:
        expected = [sum(levels[: levels.index(s) + 1]) for s in e.steps]
        np.testing.assert_array_equal(e.gradient_evaluations, expected)


def test_examples_stop_at_different_levels(tanh_mlp, rows):
    e = kx.IntegratedGradients(tanh_mlp, steps="auto", tolerance=1e-3, verbose=0).explain(rows)
    assert len(np.unique(e.steps)) > 1
    # Each example stopped at the first level under the tolerance: one level fewer is above it.
    for i in np.flatnonzero(e.steps > 9):
        fewer = (e.steps[i] - 1) // 2 + 1
        before = kx.IntegratedGradients(tanh_mlp, steps=int(fewer), verbose=0).explain(rows[i : i + 1])
        assert relative(before)[0] > 1e-3


def test_auto_does_not_depend_on_the_batch_size(tanh_mlp, rows):
    runs = [
        kx.IntegratedGradients(tanh_mlp, steps="auto", batch_size=b, verbose=0).explain(rows)
        for b in (1, 5, 64)
    ]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.steps, runs[0].steps)
        np.testing.assert_allclose(other.attributions, runs[0].attributions, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_gauss_legendre_reaches_300_trapezoid_steps_with_a_quarter(cases, name):
    model, x = cases[name]
    trapezoid = kx.IntegratedGradients(model, steps=300, verbose=0).explain(x)
    legendre = kx.IntegratedGradients(model, steps=75, rule="gauss_legendre", verbose=0).explain(x)
    assert np.abs(legendre.completeness_gap).max() <= np.abs(trapezoid.completeness_gap).max()


def test_a_tolerance_out_of_reach_warns(tanh_mlp, rows):
    ig = kx.IntegratedGradients(tanh_mlp, steps="auto", rule="left", tolerance=1e-6, max_steps=16, verbose=0)
    with pytest.warns(CompletenessWarning) as caught:
        e = ig.explain(rows)
    short = int((relative(e) > 1e-6).sum())
    assert short > 0 and np.all(e.steps == 16)
    expected = (
        f"Integrated Gradients: {short} of {len(rows)} example(s) did not reach the tolerance 1e-06 within "
        f"max_steps=16 (left rule); raise max_steps or use rule='gauss_legendre'."
    )
    assert expected in [str(w.message) for w in caught]


def test_config_and_bad_input(tanh_mlp):
    ig = kx.IntegratedGradients(tanh_mlp, steps="auto", tolerance=0.01, max_steps=64)
    config = ig.get_config()
    assert (config["steps"], config["tolerance"], config["max_steps"]) == ("auto", 0.01, 64)
    assert repr(kx.IntegratedGradients.from_config(config, tanh_mlp)) == repr(ig)
    with pytest.raises(ValueError, match=r"^tolerance: expected a number between 0 and 1"):
        kx.IntegratedGradients(tanh_mlp, steps="auto", tolerance=0)
    with pytest.raises(ValueError, match=r"^max_steps: "):
        kx.IntegratedGradients(tanh_mlp, steps="auto", max_steps=8)
    with pytest.raises(ValueError, match=r"^steps: "):
        kx.IntegratedGradients(tanh_mlp, steps="fast")
    with pytest.raises(ValueError) as raised:
        kx.SmoothGrad(kx.IntegratedGradients(tanh_mlp, steps="auto"))
    assert str(raised.value) == (
        "explainer: expected an explainer with a fixed number of steps, received "
        "IntegratedGradients(steps='auto'), whose steps adapt per example; give it an integer "
        "number of steps to wrap it in SmoothGrad."
    )
