"""Explanation's typed parts: where each method's results live, annotations, files."""

import json

import numpy as np
import pytest

import keras_explain as kx
from keras_explain.parts import Checks, SurrogateFit, TableFeatures


def test_each_method_fills_its_parts(tanh_mlp, rows):
    ig = kx.IntegratedGradients(tanh_mlp, steps=64).explain(rows)
    assert list(ig.parts) == ["checks"]
    assert isinstance(ig.parts["checks"], Checks)
    assert ig.parts["checks"].completeness_gap is ig.completeness_gap
    assert ig.parts["checks"].additivity_gap is None
    lime = kx.LimeTabular(tanh_mlp, rows * 2, num_samples=100, random_state=0, class_names=["a", "b", "c"])
    e = lime.explain(rows[:3])
    assert sorted(e.parts) == ["surrogate", "table"]
    assert isinstance(e.parts["surrogate"], SurrogateFit) and isinstance(e.parts["table"], TableFeatures)
    assert e.parts["table"].feature_names == ["0", "1", "2", "3", "4"]
    assert e.class_names == ["a", "b", "c"]
    assert e.parts["surrogate"].score.shape == (3,)
    with pytest.raises(AttributeError, match=r"has no attribute 'segments'; its extras are \["):
        e.segments


def test_annotations_are_checked_and_round_trip(tanh_mlp, rows, tmp_path):
    e = kx.GradientSaliency(tanh_mlp).explain(rows[:4])
    e.annotate(model_file="model.keras", input_names=["a", "b", "c", "d"], weights=np.arange(4.0))
    e.extras["preprocess"] = "raw"
    with pytest.raises(ValueError) as error:
        e.annotate(input_names=["a", "b"])
    assert str(error.value) == "input_names: expected one entry per example (4), received ['a', 'b'] (list)."
    with pytest.raises(ValueError, match=r"^completeness_gap: expected one entry per example \(4\)"):
        e.annotate(completeness_gap=np.zeros(3))
    loaded = kx.Explanation.load(e.save(tmp_path / "annotated"))
    assert loaded.annotations == {
        "model_file": "model.keras",
        "input_names": ["a", "b", "c", "d"],
        "weights": loaded.annotations["weights"],
        "preprocess": "raw",
    }
    np.testing.assert_array_equal(loaded.weights, np.arange(4.0))
    assert loaded.parts == {}
    del loaded.extras["preprocess"]
    assert "preprocess" not in loaded.extras
    with pytest.raises(KeyError):
        del loaded.extras["attributions"]


def test_every_part_round_trips_exactly(small_cnn, images, tmp_path):
    segments = np.repeat((np.arange(12)[:, None] // 4 * 3 + np.arange(12)[None, :] // 4)[None], 7, 0)
    e = kx.LimeImage(small_cnn, num_samples=30, segmentation=segments.astype(np.int32), random_state=0).explain(
        images, top_labels=2
    )
    assert sorted(e.parts) == ["superpixels", "surrogate"]
    loaded = kx.Explanation.load(e.save(tmp_path / "lime"))
    assert sorted(loaded.parts) == sorted(e.parts)
    for name, part in e.parts.items():
        for field, value in vars(part).items():
            again = getattr(loaded.parts[name], field)
            if value is None:
                assert again is None
            else:
                np.testing.assert_array_equal(again, value, err_msg=f"{name}.{field}")
                assert np.asarray(again).dtype == np.asarray(value).dtype


def test_a_file_of_the_first_release_loads(tmp_path):
    """The first release wrote method results flat, as "extra.<name>" arrays and JSON."""
    meta = {
        "format": "keras_explain.Explanation",
        "version": 1,
        "method": "lime_tabular",
        "config": {"num_samples": 10},
        "extras": {"feature_names": ["a", "b"], "mode": "classification", "class_names": ["no", "yes"]},
        "array_extras": ["intercept", "feature_labels", "used"],
    }
    path = tmp_path / "old.npz"
    np.savez_compressed(
        path,
        attributions=np.array([[0.5, -0.25]], np.float32),
        inputs=np.array([[1.0, 2.0]], np.float32),
        targets=np.array([1]),
        predictions=np.array([[0.2, 0.8]], np.float32),
        **{
            "extra.intercept": np.array([0.1]),
            "extra.feature_labels": np.array([["a <= 1.00", "b > 1.50"]]),
            "extra.used": np.array([[True, True]]),
            "meta.json": np.frombuffer(json.dumps(meta).encode(), np.uint8),
        },
    )
    e = kx.Explanation.load(path)
    assert e.parts["table"].feature_names == ["a", "b"]
    assert e.parts["table"].mode == "classification"
    np.testing.assert_array_equal(e.parts["surrogate"].intercept, [0.1])
    assert e.class_names == ["no", "yes"]
    assert e.as_list(0) == [("a <= 1.00", 0.5), ("b > 1.50", -0.25)]
