"""Explanation: files that round-trip exactly, heatmaps, overlays and figures."""

import matplotlib
import numpy as np
import pytest

import keras_explain as kx
from keras_explain import viz


@pytest.fixture(scope="module")
def explained(small_cnn, images):
    return kx.IntegratedGradients(small_cnn, steps=5, baseline=0.2).explain(images)


def test_save_load_round_trips_exactly(explained, tmp_path):
    path = explained.save(tmp_path / "run")
    assert path.endswith("run.npz")
    loaded = kx.Explanation.load(path)
    for name in ("attributions", "inputs", "targets", "predictions", "completeness_gap", "baseline_scores"):
        original, copy = getattr(explained, name), getattr(loaded, name)
        assert original.dtype == copy.dtype, name
        np.testing.assert_array_equal(original, copy, err_msg=name)
    assert loaded.method == explained.method == "integrated_gradients"
    assert loaded.config == explained.config
    assert loaded.config["baseline"] == 0.2 and loaded.config["steps"] == 5


def test_scalar_extras_and_config_round_trip(tmp_path):
    e = kx.Explanation(
        attributions=np.array([[0.1, -1e-30]]),
        inputs=np.array([[1, 2]], dtype=np.int16),
        targets=[0],
        predictions=np.array([[0.3]]),
        method="custom",
        config={"shape": (2, 3), "rate": 1 / 3, "array": np.zeros((4, 4))},
        note="naïve <b>",
        ratio=np.float32(0.5),
    )
    loaded = kx.Explanation.load(e.save(tmp_path / "e.npz"))
    assert loaded.config == {"shape": [2, 3], "rate": 1 / 3, "array": {"array_shape": [4, 4], "dtype": "float64"}}
    assert loaded.note == "naïve <b>" and loaded.ratio == 0.5
    assert loaded.inputs.dtype == np.int16
    np.testing.assert_array_equal(loaded.attributions, e.attributions)


def test_load_refuses_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError) as error:
        kx.Explanation.load(path)
    assert str(error.value) == f"path: expected a file written by Explanation.save(), received {str(path)!r}."


def test_heatmap_reductions(explained):
    a = explained.attributions
    np.testing.assert_allclose(explained.heatmap(), a.sum(axis=-1))
    np.testing.assert_allclose(explained.heatmap("abs"), np.abs(a).sum(axis=-1))
    np.testing.assert_allclose(explained.heatmap("max_abs"), np.abs(a).max(axis=-1))
    np.testing.assert_allclose(explained.heatmap("l2"), np.sqrt((a**2).sum(axis=-1)), rtol=1e-6)
    assert explained.heatmap().shape == (7, 12, 12)
    with pytest.raises(ValueError) as error:
        explained.heatmap("median")
    assert str(error.value) == (
        "reduce: expected one of 'sum', 'mean', 'abs', 'max_abs', 'l2', received 'median'."
    )


def test_missing_extra_names_what_exists(explained):
    with pytest.raises(AttributeError) as error:
        explained.segments
    assert "its extras are ['baseline_scores', 'completeness_gap']" in str(error.value)


def test_overlay_blends_image_and_colour_map():
    image = np.linspace(0, 1, 16, dtype="float32").reshape(4, 4)
    heat = np.array([[-2.0, 0.0, 1.0, 2.0]] * 4)
    grey = viz.to_rgb_uint8(image)
    assert grey.shape == (4, 4, 3) and grey.dtype == np.uint8 and grey[3, 3, 0] == 255
    np.testing.assert_array_equal(viz.overlay(image, heat, alpha=0.0), grey)
    full = viz.overlay(image, heat, alpha=1.0, clip_percentile=100)
    colours = matplotlib.colormaps["RdBu_r"]
    np.testing.assert_array_equal(full[0, 0], np.round(np.array(colours(0.0)[:3]) * 255).astype(np.uint8))
    np.testing.assert_array_equal(full[0, 1], grey[0, 1])  # no attribution: the image shows
    half = np.round(0.5 * grey[0, 2] + 0.5 * np.array(colours(0.75)[:3]) * 255).astype(np.uint8)
    np.testing.assert_array_equal(full[0, 2], half)
    np.testing.assert_array_equal(full[0, 3], np.round(np.array(colours(1.0)[:3]) * 255).astype(np.uint8))
    positive = viz.overlay(image, np.abs(heat), alpha=1.0, clip_percentile=100)
    inferno = matplotlib.colormaps["inferno"]
    np.testing.assert_array_equal(positive[0, 1], grey[0, 1])
    np.testing.assert_array_equal(positive[0, 0], np.round(np.array(inferno(1.0)[:3]) * 255).astype(np.uint8))


def test_overlay_resizes_and_scales_any_range():
    image = np.full((8, 8, 3), 1000.0)
    image[0, 0] = -1000.0
    rgb = viz.overlay(image, np.ones((2, 2)), alpha=0.0)
    assert rgb.shape == (8, 8, 3)
    assert tuple(rgb[0, 0]) == (0, 0, 0) and tuple(rgb[1, 1]) == (255, 255, 255)
    with pytest.raises(ValueError) as error:
        viz.overlay(np.zeros((4, 4, 2, 1)), np.zeros((4, 4)))
    assert str(error.value) == (
        "image: expected an image of shape (H, W) or (H, W, C), received an array "
        "of shape (4, 4, 2, 1) and dtype float64."
    )
    two_channels = np.stack([np.zeros((4, 4)), np.ones((4, 4))], axis=-1)
    assert tuple(viz.to_rgb_uint8(two_channels)[0, 0]) == (128, 128, 128)


def test_plot_draws_three_panels_per_sample_and_saves(explained, tmp_path):
    path = tmp_path / "ig.png"
    figure = explained.plot(indices=[0, 3], save=path)
    images = [axis for axis in figure.axes if axis.images]
    assert len(images) == 6  # input, heatmap, overlay for two samples
    heat = images[1].images[0]
    vmin, vmax = heat.get_clim()
    assert vmin == -vmax  # a signed map is centred on 0
    np.testing.assert_allclose(heat.get_array(), explained.heatmap()[0])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_tabular_bars(linear_model, rows):
    e = kx.GradientSaliency(linear_model).explain(rows[:2], targets=0)
    figure = e.plot(feature_names=list("abcde"), top_k=3)
    axis = figure.axes[0]
    widths = [patch.get_width() for patch in axis.patches]
    expected = sorted(e.attributions[0], key=abs)[-3:]
    np.testing.assert_allclose(widths, expected)
    labels = [tick.get_text() for tick in axis.get_yticklabels()]
    assert labels == [list("abcde")[j] for j in np.argsort(-np.abs(e.attributions[0]))[:3][::-1]]
