"""Global summaries: hand-computed statistics, shap's order, shards, files and clear errors."""

import numpy as np
import pytest

import keras_explain as kx
from keras_explain.summaries import Moments, Summary

FIELDS = ("mean_abs", "mean", "std_abs", "std", "order", "scores")


@pytest.fixture(scope="module")
def deepshap(tanh_mlp, rows):
    """DeepShap of the tanh MLP, explaining the classes 0, 1, 2 in turn (so per class is on)."""
    targets = np.arange(len(rows)) % 3
    names = ["age", "bmi", "dose", "pulse", "weight"]
    return kx.DeepShap(tanh_mlp, rows[:4] * 0.5, verbose=0).explain(rows, targets=targets).annotate(
        feature_names=names
    )


def _copy(e, rows=slice(None)):
    """A fresh Explanation of some rows of `e` (no kept summary)."""
    return kx.Explanation(e.attributions[rows], e.inputs[rows], e.targets[rows], e.predictions[rows], e.method,
                          feature_names=e.extras.get("feature_names"))


def _by_hand(attributions, values_rows):
    a = np.asarray(attributions, np.float64)[values_rows]
    mean_abs = np.abs(a).mean(axis=0)
    # The strongest first; among equal means the lower column first.
    order = sorted(range(a.shape[1]), key=lambda j: (-mean_abs[j], j))
    return {"mean_abs": mean_abs, "mean": a.mean(axis=0), "std_abs": np.abs(a).std(axis=0),
            "std": a.std(axis=0), "order": np.array(order)}


def _assert_same(summary, expected):
    for name, value in expected.items():
        np.testing.assert_allclose(getattr(summary, name), value, rtol=1e-12, atol=1e-15, err_msg=name)


def test_table_summary_equals_the_statistics_by_hand(deepshap):
    e = _copy(deepshap)
    s = kx.summarize(e)
    _assert_same(s, _by_hand(e.attributions, slice(None)))
    assert s.method == "deepshap" and s.count == 11 and s.kind == "examples"
    assert s.feature_names == ["age", "bmi", "dose", "pulse", "weight"]
    scores = e.predictions.astype(np.float64)[np.arange(11), e.targets]
    np.testing.assert_array_equal(s.scores, scores)
    assert s.classes == [0, 1, 2]
    for c in (0, 1, 2):
        rows = e.targets == c
        _assert_same(s.per_class[c], _by_hand(e.attributions, rows))
        assert s.per_class[c].count == rows.sum()
        np.testing.assert_array_equal(s.per_class[c].scores, scores[rows])
    assert s.maps == {}


def test_per_class_of_a_linear_model_is_its_weight_columns(linear_model, linear_weights, rows):
    # The gradient of a linear model for class c is column c of its kernel, for every row.
    kernel, _ = linear_weights
    targets = np.array([2, 0, 2, 1, 0, 2, 2, 1, 0, 0, 2])
    s = kx.GradientSaliency(linear_model, verbose=0).explain(rows, targets=targets).summary()
    for c in (0, 1, 2):
        np.testing.assert_allclose(s.per_class[c].mean_abs, np.abs(kernel[:, c]), rtol=1e-6)
        np.testing.assert_allclose(s.per_class[c].mean, kernel[:, c], rtol=1e-6)
        np.testing.assert_allclose(s.per_class[c].std, 0.0, atol=1e-6)
        assert s.per_class[c].count == (targets == c).sum()
    counts = np.array([(targets == c).sum() for c in (0, 1, 2)])
    np.testing.assert_allclose(s.mean, kernel @ counts / counts.sum(), rtol=1e-6)


def test_by_class_options(deepshap):
    e = _copy(deepshap)
    assert kx.summarize(e, by_class=False).per_class == {}
    assert kx.summarize(e, by_class=False).classes is None
    one = _copy(deepshap, deepshap.targets == 1)
    assert kx.summarize(one).classes is None  # "auto": one explained class
    assert kx.summarize(one, by_class=True).classes == [1]


def test_summary_order_equals_shaps_order(deepshap):
    shap = pytest.importorskip("shap")
    s = kx.summarize(_copy(deepshap))
    theirs = shap.Explanation(values=deepshap.attributions.astype(np.float64)).abs.mean(0).values
    np.testing.assert_allclose(s.mean_abs, theirs, rtol=1e-12)
    np.testing.assert_array_equal(s.order, np.argsort(-theirs))
    # The same through our own conversion.
    converted = deepshap.to_shap()
    np.testing.assert_array_equal(s.order, np.argsort(-converted.abs.mean(0).values))


def test_to_shap_round_trips_values_and_base_values(deepshap):
    pytest.importorskip("shap")
    converted = deepshap.to_shap()
    np.testing.assert_array_equal(converted.values, deepshap.attributions)
    np.testing.assert_array_equal(converted.base_values, deepshap.expected_value.astype(np.float64))
    np.testing.assert_array_equal(converted.data, deepshap.inputs)
    assert list(converted.feature_names) == ["age", "bmi", "dose", "pulse", "weight"]
    # base + sum(values) is the explained score, as shap's waterfall reads it.
    scores = deepshap.predictions[np.arange(11), deepshap.targets]
    np.testing.assert_allclose(converted.base_values + converted.values.sum(axis=1), scores, atol=1e-5)


def test_to_shap_base_value_without_expected_value_completes_the_sum(linear_model, rows):
    pytest.importorskip("shap")
    e = kx.GradientSaliency(linear_model, verbose=0).explain(rows)
    converted = e.to_shap()
    scores = e.predictions.astype(np.float64)[np.arange(11), e.targets]
    np.testing.assert_allclose(converted.base_values + e.attributions.astype(np.float64).sum(axis=1), scores,
                               rtol=1e-12)
    assert converted.feature_names is None


def test_shards_summarize_to_the_concatenation(deepshap):
    whole = kx.summarize(_copy(deepshap))
    shards = [_copy(deepshap, slice(0, 4)), _copy(deepshap, slice(4, 5)), _copy(deepshap, slice(5, None))]
    joined = kx.summarize(shards)
    for name in FIELDS:
        np.testing.assert_allclose(getattr(joined, name), getattr(whole, name), rtol=1e-12, atol=1e-15)
    for c in whole.classes:
        for name in FIELDS:
            np.testing.assert_allclose(getattr(joined.per_class[c], name), getattr(whole.per_class[c], name),
                                       rtol=1e-12, atol=1e-15)
    # A summary of several explanations is not kept in any of them.
    assert all("summary" not in shard.extras for shard in shards)


def test_moments_merge_like_numpy():
    rows = np.random.default_rng(0).normal(size=(23, 3)) * [1.0, 1e3, 1e-3] + [5.0, -2e4, 0.0]
    moments = Moments(3)
    for part in np.split(rows, [1, 2, 10, 20]):
        moments.add(part)
    assert moments.count == 23
    np.testing.assert_allclose(moments.mean, rows.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(moments.std(), rows.std(axis=0), rtol=1e-10)


def test_image_summary_reduces_channels_and_keeps_class_maps(small_cnn, images):
    targets = np.array([0, 1, 0, 2, 1, 0, 2])
    e = kx.GradientSaliency(small_cnn, verbose=0).explain(images, targets=targets)
    s = kx.summarize(e)
    a = e.attributions.astype(np.float64)
    magnitude, signed = np.abs(a).sum(axis=-1), a.sum(axis=-1)
    assert s.map_shape == (12, 12) and s.feature_names is None and len(s.labels) == 144
    np.testing.assert_allclose(s.maps["mean_abs"], magnitude.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.maps["mean"], signed.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.mean_abs, magnitude.mean(axis=0).reshape(-1), rtol=1e-12)
    np.testing.assert_allclose(s.std, signed.std(axis=0).reshape(-1), rtol=1e-10, atol=1e-15)
    for c in (0, 1, 2):
        np.testing.assert_allclose(s.maps[f"mean_abs/{c}"], magnitude[targets == c].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(s.maps[f"mean/{c}"], signed[targets == c].mean(axis=0), rtol=1e-12)
    top = np.unravel_index(s.order[0], (12, 12))
    assert s.labels[s.order[0]] == f"({top[0]}, {top[1]})"
    assert magnitude.mean(axis=0)[top] == magnitude.mean(axis=0).max()


def test_gradcam_maps_have_no_channels(small_cnn, images):
    e = kx.GradCAM(small_cnn, verbose=0).explain(images)
    s = kx.summarize(e, by_class=False)
    np.testing.assert_allclose(s.maps["mean_abs"], np.abs(e.attributions.astype(np.float64)).mean(axis=0))


def test_permutation_importance_summarizes_to_its_importances(method_cases):
    case = method_cases["permutation_importance"]
    e = case.build().explain(case.x, case.labels, verbose=0)
    s = e.summary()
    importances = e.attributions[0].astype(np.float64)
    assert s.kind == "global" and s.count == 1 and s.classes is None
    np.testing.assert_array_equal(s.mean, importances)
    np.testing.assert_array_equal(s.mean_abs, np.abs(importances))
    np.testing.assert_array_equal(s.std, e.importances_std[0].astype(np.float64))
    np.testing.assert_array_equal(s.order, np.argsort(-np.abs(importances), kind="stable"))
    assert s.feature_names == ["x0", "x1", "x2", "x3", "x4"]
    with pytest.raises(ValueError) as error:
        kx.summarize([e, e])
    assert str(error.value) == (
        "explanations: expected one global explanation (one row of importances), received 2 of them; "
        "summarize each on its own."
    )


def test_saved_explanation_keeps_its_summary(deepshap, small_cnn, images, tmp_path):
    for e in (_copy(deepshap), kx.GradientSaliency(small_cnn, verbose=0).explain(images, targets=np.arange(7) % 2)):
        s = e.summary()
        assert "summary" in e.extras and e.parts["global"].summary is not None
        loaded = kx.Explanation.load(e.save(tmp_path / f"{e.method}.npz"))
        back = Summary.from_dict(loaded.extras["summary"])
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(back, name), getattr(s, name))
        assert (back.method, back.count, back.classes, back.feature_names, back.map_shape) == (
            s.method, s.count, s.classes, s.feature_names, s.map_shape)
        assert sorted(back.maps) == sorted(s.maps)
        for key in s.maps:
            np.testing.assert_array_equal(back.maps[key], s.maps[key])
        for c in s.classes:
            for name in FIELDS:
                np.testing.assert_array_equal(getattr(back.per_class[c], name), getattr(s.per_class[c], name))
            assert back.per_class[c].count == s.per_class[c].count


def test_dataframe_one_row_per_feature_and_class(deepshap):
    s = kx.summarize(_copy(deepshap))
    table = s.to_dataframe()
    assert list(table.columns) == ["class", "feature", "mean_abs", "mean", "std_abs", "std", "rank"]
    assert len(table) == 15
    two = table[table["class"] == 2]
    expected = _by_hand(deepshap.attributions, deepshap.targets == 2)
    names = np.array(["age", "bmi", "dose", "pulse", "weight"])
    assert list(two["feature"]) == list(names[expected["order"]])
    np.testing.assert_allclose(two["mean_abs"], expected["mean_abs"][expected["order"]], rtol=1e-12)
    assert list(two["rank"]) == [1, 2, 3, 4, 5]
    overall = s.to_dataframe(by_class=False)
    assert list(overall.columns) == ["feature", "mean_abs", "mean", "std_abs", "std", "rank"]
    np.testing.assert_allclose(overall["std"], s.std[s.order], rtol=1e-12)


def test_errors_say_what_was_expected(deepshap, tanh_mlp, rows):
    e = _copy(deepshap)
    other = kx.Explanation(e.attributions, e.inputs, e.targets, e.predictions, "kernel_shap")
    with pytest.raises(ValueError) as error:
        kx.summarize([e, other])
    assert str(error.value) == (
        "explanations: expected explanations of one method, received 'deepshap' (explanation 0) and "
        "'kernel_shap' (explanation 1)."
    )
    narrow = kx.Explanation(e.attributions[:, :4], e.inputs[:, :4], e.targets, e.predictions, "deepshap")
    with pytest.raises(ValueError) as error:
        kx.summarize([e, narrow])
    assert str(error.value) == (
        "explanations: expected explanations of the same features, received attributions of shape (N, 5) "
        "in explanation 0 and (N, 4) in explanation 1."
    )
    renamed = _copy(deepshap).annotate(feature_names=["a", "b", "c", "d", "e"])
    with pytest.raises(ValueError, match=r"^explanations: expected explanations with the same feature names, "):
        kx.summarize([e, renamed])
    two_inputs = kx.Explanation([e.attributions, e.attributions], [e.inputs, e.inputs], e.targets,
                                e.predictions, "saliency")
    with pytest.raises(ValueError) as error:
        kx.summarize(two_inputs)
    assert str(error.value) == (
        "explanations: expected explanations of a model with one input, received one of a model with 2 inputs "
        "(explanation 0); global views read one input's attributions."
    )
    with pytest.raises(ValueError) as error:
        kx.summarize([])
    assert str(error.value) == "explanations: expected an Explanation or a non-empty list of them, received [] (list)."
    with pytest.raises(ValueError) as error:
        kx.summarize(e, by_class="yes")
    assert str(error.value) == "by_class: expected 'auto', True or False, received 'yes'."
    with pytest.raises(ValueError) as error:
        kx.summarize(e, keep=1)
    assert str(error.value) == "keep: expected True or False, received 1."
    with pytest.raises(ValueError) as error:
        Summary.from_dict({"method": "x"})
    assert str(error.value).startswith("summary: expected a dict written by Summary.as_dict() (missing ['count', ")
