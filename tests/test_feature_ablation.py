"""FeatureAblation: exact drops of linear models, brute-force groups, tables, errors."""

import keras
import numpy as np
import pandas as pd
import pytest

from keras_explain.engine import registry
from keras_explain.methods.perturbation.feature_ablation import FeatureAblation

IMAGE_SHAPE = (6, 6, 2)


@pytest.fixture(scope="module")
def linear_image():
    """Flatten + Dense(3) with fixed weights on (6, 6, 2) images: (model, kernel, images)."""
    rng = np.random.default_rng(20)
    kernel = rng.normal(size=IMAGE_SHAPE + (3,)).astype("float32")
    model = keras.Sequential([keras.Input(IMAGE_SHAPE), keras.layers.Flatten(), keras.layers.Dense(3)])
    model.layers[-1].set_weights([kernel.reshape(-1, 3), rng.normal(size=3).astype("float32")])
    x = np.random.default_rng(21).uniform(size=(4,) + IMAGE_SHAPE).astype("float32")
    return model, kernel, x


def _group_drops(x, kernel, target, baseline, masks):
    """Every element gets the sum of w.(x - baseline) over its group, one group at a time."""
    weights = kernel[..., target].astype(np.float64)
    delta = (x - np.broadcast_to(baseline, x.shape)).astype(np.float64)
    result = np.zeros(x.shape)
    for i, mask in enumerate(masks):
        mask = np.broadcast_to(mask.reshape(mask.shape + (1,) * (x.ndim - 1 - mask.ndim)), x.shape[1:])
        for group in np.unique(mask):
            inside = mask == group
            result[i][inside] = (weights[inside] * delta[i][inside]).sum()
    return result


BASELINES = {
    "zero": 0.0,
    "number": -0.4,
    "mean": "mean",
    "one_example": np.linspace(-1.0, 1.0, 5).astype("float32"),
}


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_single_features_of_a_linear_model_are_w_times_x_minus_baseline(
    linear_model, linear_weights, rows, name
):
    kernel, _ = linear_weights
    baseline = BASELINES[name]
    targets = (np.arange(len(rows)) + 1) % 3
    e = FeatureAblation(linear_model, baseline=baseline).explain(rows, targets)
    reference = rows.mean(axis=1, keepdims=True) if name == "mean" else baseline
    np.testing.assert_allclose(e.attributions, kernel[:, targets].T * (rows - reference), atol=1e-6)
    np.testing.assert_array_equal(e.num_groups, np.full(len(rows), 5))
    assert "groups" not in e.extras


def test_a_baseline_per_example_given_to_explain(linear_model, linear_weights, rows):
    kernel, _ = linear_weights
    per_example = np.random.default_rng(4).normal(size=rows.shape).astype("float32")
    e = FeatureAblation(linear_model).explain(rows, targets=0, baseline=per_example)
    np.testing.assert_allclose(e.attributions, kernel[:, 0] * (rows - per_example), atol=1e-6)


def test_an_image_segmentation_applies_to_every_channel(linear_image):
    model, kernel, x = linear_image
    # Ids need be neither contiguous nor consecutive: 7 appears in two corners.
    segments = np.full((6, 6), 7)
    segments[:3, 3:] = -2
    segments[3:, :3] = 40
    segments[2:4, 2:4] = 3
    e = FeatureAblation(model, baseline=0.3, feature_groups=segments).explain(x, targets=2)
    expected = _group_drops(x, kernel, 2, 0.3, [segments] * len(x))
    np.testing.assert_allclose(e.attributions, expected, atol=1e-5)
    np.testing.assert_array_equal(e.num_groups, np.full(len(x), 4))
    # Groups are numbered in the order of their ids: -2, 3, 7, 40.
    np.testing.assert_array_equal(e.groups[0], np.searchsorted([-2, 3, 7, 40], segments))


def test_a_mask_like_one_example_and_masks_per_example(linear_image):
    model, kernel, x = linear_image
    rng = np.random.default_rng(22)
    full = rng.integers(0, 5, size=IMAGE_SHAPE)
    e = FeatureAblation(model, feature_groups=full).explain(x, targets=0)
    np.testing.assert_allclose(e.attributions, _group_drops(x, kernel, 0, 0.0, [full] * 4), atol=1e-5)
    # Example 2 has 2 groups and the others 6: its 4 padding pairs hide nothing.
    masks = rng.integers(0, 6, size=(4, 6, 6))
    masks[2] = np.arange(36).reshape(6, 6) % 2
    ablation = FeatureAblation(model, baseline="mean")
    e = ablation.explain(x, targets=1, feature_groups=masks)
    means = x.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(e.attributions, _group_drops(x, kernel, 1, means, masks), atol=1e-5)
    np.testing.assert_array_equal(e.num_groups, [6, 6, 2, 6])
    assert ablation.feature_groups is None


def test_groups_of_a_nonlinear_model_match_brute_force(tanh_mlp, rows):
    groups = [[0, 2], [4]]
    e = FeatureAblation(tanh_mlp, baseline=0.5, feature_groups=groups).explain(rows, targets=1)
    full = tanh_mlp(rows).numpy()[:, 1].astype(np.float64)
    expected = np.zeros(rows.shape)
    for columns in ([0, 2], [4], [1], [3]):  # the columns named in no group stand alone
        hidden = rows.copy()
        hidden[:, columns] = 0.5
        drop = full - tanh_mlp(hidden).numpy()[:, 1]
        expected[:, columns] = drop[:, None]
    np.testing.assert_allclose(e.attributions, expected, atol=1e-6)
    np.testing.assert_array_equal(e.groups[0], [0, 2, 0, 3, 1])


def test_dataframe_columns_by_name(linear_model, linear_weights, rows):
    kernel, _ = linear_weights
    frame = pd.DataFrame(rows, columns=["age", "height", "weight", "income", "debt"])
    groups = [["weight", "height"], ["debt", "income"]]
    e = FeatureAblation(linear_model, feature_groups=groups).explain(frame, targets=2)
    drops = kernel[:, 2] * rows
    expected = np.stack(
        [drops[:, 0], *[drops[:, 1] + drops[:, 2]] * 2, *[drops[:, 3] + drops[:, 4]] * 2], axis=1
    )
    np.testing.assert_allclose(e.attributions, expected, atol=1e-6)
    assert e.feature_names == list(frame.columns)
    np.testing.assert_array_equal(e.groups[0], [2, 0, 0, 1, 1])
    np.testing.assert_array_equal(e.inputs, rows)
    # The same groups by index, on the array.
    by_index = FeatureAblation(linear_model, feature_groups=[[2, 1], [4, 3]]).explain(rows, targets=2)
    np.testing.assert_array_equal(by_index.attributions, e.attributions)


def test_results_do_not_depend_on_the_batch_size(small_cnn, images, tanh_mlp, rows):
    blocks = np.arange(36).reshape(6, 6).repeat(2, axis=0).repeat(2, axis=1)
    default = FeatureAblation(small_cnn, feature_groups=blocks).explain(images)
    single = FeatureAblation(small_cnn, feature_groups=blocks, batch_size=1).explain(images)
    np.testing.assert_allclose(single.attributions, default.attributions, atol=1e-6)
    plain = FeatureAblation(tanh_mlp, baseline="mean").explain(rows)
    again = FeatureAblation(tanh_mlp, baseline="mean", batch_size=1).explain(rows)
    np.testing.assert_allclose(again.attributions, plain.attributions, atol=1e-6)


def test_names_config_and_no_retrace(tanh_mlp, rows):
    assert registry.explainer_class("feature_ablation") is FeatureAblation
    assert registry.explainer_class("ablation") is FeatureAblation
    ablation = FeatureAblation(tanh_mlp, baseline=0.5, feature_groups=((0, 1), (3,)), batch_size=4)
    config = ablation.get_config()
    assert config == {
        "output": None, "batch_size": 4, "run_eagerly": False, "verbose": "auto",
        "baseline": 0.5, "feature_groups": [[0, 1], [3]],
    }
    rebuilt = FeatureAblation.from_config(config, tanh_mlp)
    assert repr(rebuilt) == repr(ablation)
    before = dict(vars(ablation))
    first = ablation.explain(rows, verbose=0)
    traces = ablation.trace_count
    ablation.explain(rows[:3], verbose=0)
    assert ablation.trace_count == traces
    assert {k: v is before[k] for k, v in vars(ablation).items()} == {k: True for k in before}
    np.testing.assert_array_equal(rebuilt.explain(rows, verbose=0).attributions, first.attributions)
    assert first.method == "feature_ablation"


def _refused(call, expected):
    """`call()` raises a ValueError whose message is exactly `expected`."""
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == expected


def test_bad_input_is_refused_with_exact_messages(linear_image, linear_model, rows):
    model, _, x = linear_image
    _refused(lambda: FeatureAblation(model, feature_groups=np.zeros((6, 5), int)).explain(x), (
        "feature_groups: expected an integer mask of shape (6, 6, 2) or (6, 6) (one example) "
        "or (4, 6, 6, 2) or (4, 6, 6) (one per example), received an array of shape (6, 5) "
        "and dtype int64."
    ))
    _refused(lambda: FeatureAblation(linear_model, feature_groups=np.zeros(4, int)).explain(rows), (
        "feature_groups: expected an integer mask of shape (5,) (one example) or (11, 5) "
        "(one per example), received an array of shape (4,) and dtype int64."
    ))
    _refused(lambda: FeatureAblation(linear_model, baseline=np.zeros((3, 5))).explain(rows), (
        "baseline: expected a number, 'mean', an array of shape (5,) (one example) or (11, 5) "
        "(one per example), received an array of shape (3, 5) and dtype float32."
    ))
    _refused(lambda: FeatureAblation(model, feature_groups=np.zeros((6, 6))), (
        "feature_groups: expected None, an integer mask array or a list of lists of columns, "
        "received an array of shape (6, 6) and dtype float64."
    ))
    _refused(lambda: FeatureAblation(model, feature_groups=[[0], []]), (
        "feature_groups: expected non-empty groups of columns, received [[0], []] (list)."
    ))
    frame = pd.DataFrame(rows, columns=list("abcde"))
    named = FeatureAblation(linear_model, feature_groups=[["a", "z"]])
    _refused(lambda: named.explain(frame), (
        "feature_groups: expected column names of x ('a', 'b', 'c', 'd', 'e'), received 'z'."
    ))
    _refused(lambda: FeatureAblation(linear_model, feature_groups=[["a"]]).explain(rows), (
        "feature_groups: expected column indices (x is not a DataFrame), received 'a'."
    ))
    _refused(lambda: FeatureAblation(linear_model, feature_groups=[[0, 5]]).explain(rows), (
        "feature_groups: expected column indices between 0 and 4, received 5."
    ))
    twice = FeatureAblation(linear_model, feature_groups=[["a", "b"], ["c"], ["b"]])
    _refused(lambda: twice.explain(frame), (
        "feature_groups: expected every column in at most one group, received 'b' in groups 0 and 2."
    ))
    _refused(lambda: FeatureAblation(model, feature_groups=[[0]]).explain(x), (
        "feature_groups: expected an integer mask for examples of shape (6, 6, 2); lists of "
        "columns group the features of tables (N, n_features)."
    ))
    text = frame.assign(e=["u"] * len(frame))
    _refused(lambda: FeatureAblation(linear_model).explain(text), (
        "x: expected numeric columns, received a DataFrame with non-numeric columns ['e']."
    ))
