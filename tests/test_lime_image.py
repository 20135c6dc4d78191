"""LimeImage: parity with the lime package, seeds, batching and bad input."""

import keras
import numpy as np
import pytest

import keras_explain as kx
from keras_explain.viz import lime_image_and_mask

lime_image = pytest.importorskip("lime.lime_image")

SIZE = 24


def _grid_segments(size=SIZE, cells=4):
    """A regular grid of cells x cells superpixels."""
    step = size // cells
    rows, cols = np.indices((size, size)) // step
    return (rows * cells + cols).astype(np.int64)


@pytest.fixture(scope="module")
def colour_task():
    """RGB images with one bright square on a textured background; label = its colour."""
    rng = np.random.default_rng(0)

    def make(count):
        x = rng.uniform(0.0, 0.4, size=(count, SIZE, SIZE, 3)).astype("float32")
        y = rng.integers(0, 3, size=count)
        for i, label in enumerate(y):
            top, left = rng.integers(0, SIZE - 6, size=2)
            x[i, top : top + 6, left : left + 6] = 0.1
            x[i, top : top + 6, left : left + 6, label] = 1.0
        return x, y

    keras.utils.set_random_seed(1)
    x_train, y_train = make(1500)
    x_test, y_test = make(20)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=4, batch_size=64, verbose=0)
    return model, x_test, y_test


def _lime_masks(seed, num_samples, num_segments):
    """The masks lime's LimeImageExplainer(random_state=seed) draws in explain_instance."""
    state = np.random.RandomState(seed)
    state.randint(0, high=1000)  # the segmentation seed it draws first
    masks = state.randint(0, 2, num_samples * num_segments).reshape(num_samples, num_segments)
    masks[0, :] = 1
    return masks


def _lime_explanation(model, image, segments, label, num_samples, seed, **options):
    explainer = lime_image.LimeImageExplainer(
        random_state=seed, feature_selection=options.pop("feature_selection", "auto")
    )
    return explainer.explain_instance(
        image.astype("float64"),
        lambda batch: model(batch.astype("float32")).numpy().astype("float64"),
        labels=(label,),
        top_labels=None,
        num_samples=num_samples,
        batch_size=100,
        segmentation_fn=lambda _: segments,
        **options,
    )


@pytest.mark.parametrize(
    "options",
    [{}, {"hide_color": 0.0}, {"feature_selection": "forward_selection", "num_features": 4},
     {"feature_selection": "highest_weights", "num_features": 6}],
    ids=["mean_colour", "hide_color", "forward_selection", "highest_weights"],
)
def test_parity_with_lime_given_the_same_segments_and_masks(colour_task, options):
    model, x_test, _ = colour_task
    segments = _grid_segments()
    num_samples = 300
    for index in range(3):
        image = x_test[index]
        label = int(np.argmax(model(image[None]).numpy()))
        theirs = _lime_explanation(model, image, segments, label, num_samples, seed=index, **dict(options))
        masks = _lime_masks(index, num_samples, 16)
        ours_explainer = kx.LimeImage(
            model,
            num_samples=num_samples,
            segmentation=segments[None],
            hide_color=options.get("hide_color"),
            feature_selection=options.get("feature_selection", "auto"),
            mask_sampler=lambda s, f, rng: masks,
        )
        ours = ours_explainer.explain(image[None], num_features=options.get("num_features"))
        expected = np.zeros(16)
        for feature, weight in theirs.local_exp[label]:
            expected[feature] = weight
        assert ours.targets[0] == label
        np.testing.assert_allclose(ours.segment_weights[0, 0], expected, atol=1e-4)
        assert ours.intercept[0, 0] == pytest.approx(theirs.intercept[label], abs=1e-4)
        assert ours.score[0, 0] == pytest.approx(theirs.score, abs=1e-4)
        assert ours.local_pred[0, 0] == pytest.approx(theirs.local_pred[0], abs=1e-4)
        np.testing.assert_allclose(ours.attributions[0], expected[segments], atol=1e-4)
        for positive_only, negative_only in ((True, False), (False, True), (False, False)):
            kwargs = dict(positive_only=positive_only, negative_only=negative_only, num_features=3)
            their_image, their_mask = theirs.get_image_and_mask(label, **kwargs)
            our_image, our_mask = lime_image_and_mask(ours, 0, **kwargs)
            np.testing.assert_array_equal(our_mask, their_mask)
            np.testing.assert_allclose(our_image, their_image, atol=1e-6)


def test_top_segments_agree_with_lime_without_injection(colour_task):
    model, x_test, _ = colour_task
    segments = _grid_segments()
    ours = kx.LimeImage(model, segmentation=np.repeat(segments[None], len(x_test), 0), random_state=0)
    e = ours.explain(x_test)
    agree = []
    for index, image in enumerate(x_test):
        label = int(e.targets[index])
        theirs = _lime_explanation(model, image, segments, label, 1000, seed=100 + index)
        their_top = {f for f, _ in theirs.local_exp[label][:3]}
        our_top = set(np.argsort(-np.abs(e.segment_weights[index, 0]))[:3])
        agree.append(their_top == our_top)
    assert np.mean(agree) >= 0.8, np.mean(agree)


def test_seeds_and_batch_size(colour_task):
    model, x_test, _ = colour_task
    images = x_test[:3]

    def run(seed, batch_size=None):
        lime = kx.LimeImage(model, num_samples=200, segmentation="slic", random_state=seed, batch_size=batch_size)
        return lime.explain(images, top_labels=2)

    first, again, small_batches = run(3), run(3), run(3, batch_size=7)
    np.testing.assert_array_equal(first.segments, again.segments)
    np.testing.assert_array_equal(first.segment_weights, again.segment_weights)
    np.testing.assert_allclose(small_batches.segment_weights, first.segment_weights, atol=1e-5)
    assert first.labels.shape == (3, 2)
    np.testing.assert_array_equal(first.labels[:, 0], first.targets)
    assert np.abs(run(4).segment_weights - first.segment_weights).max() > 1e-3


def test_quickshift_default_and_grayscale():
    keras.utils.set_random_seed(2)
    from skimage import data, transform

    grey = transform.resize(data.camera(), (64, 64))[None, ..., None].astype("float32")
    model = keras.Sequential(
        [keras.Input((64, 64, 1)), keras.layers.Conv2D(2, 3), keras.layers.GlobalAveragePooling2D(),
         keras.layers.Dense(2)]
    )
    e = kx.LimeImage(model, num_samples=50, random_state=0).explain(grey)
    assert e.inputs.shape == (1, 64, 64, 1)
    from skimage.segmentation import quickshift

    picture = np.repeat(grey[0], 3, axis=-1).astype("float64")
    seed = int(np.random.default_rng(0).integers(0, 2**31 - 1))
    expected = quickshift(picture, kernel_size=4, max_dist=200, ratio=0.2, rng=seed)
    _, renumbered = np.unique(expected, return_inverse=True)
    np.testing.assert_array_equal(e.segments[0], renumbered.reshape(64, 64))
    assert e.num_segments[0] == len(np.unique(expected)) > 2


def _error(call):
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


def test_bad_input(colour_task):
    model, x_test, _ = colour_task
    lime = kx.LimeImage(model, num_samples=20, segmentation="slic")
    bad = x_test[:2].copy()
    bad[1, 3, 4, 0] = np.nan
    assert _error(lambda: lime.explain(bad)) == (
        "x: expected finite values, received 1 NaN or infinite value(s) (the first at index (1, 3, 4, 0))."
    )
    assert _error(lambda: lime.explain(x_test[0])) == (
        f"x: expected an array of rank 4 with shape (N, {SIZE}, {SIZE}, 3), received an array of shape "
        f"({SIZE}, {SIZE}, 3) and dtype float32 (a single input needs a batch dimension: pass x[None])."
    )
    assert _error(lambda: kx.LimeImage(model, num_samples=1)) == (
        "num_samples: expected an integer >= 2, received 1."
    )
    assert _error(lambda: kx.LimeImage(model, segmentation="watershed")) == (
        "segmentation: expected one of 'quickshift', 'slic', 'felzenszwalb', a callable or an integer "
        "label array (N, H, W), received 'watershed'."
    )
    short = np.zeros((1, SIZE, SIZE - 1), dtype=int)
    assert _error(lambda: lime.explain(x_test[:1], segments=short)) == (
        f"segmentation: expected a label array of shape (1, {SIZE}, {SIZE}), received an array of shape "
        f"(1, {SIZE}, {SIZE - 1}) and dtype int64."
    )
    holes = _grid_segments()[None].copy()
    holes[0, 0, 0] = -1
    assert _error(lambda: lime.explain(x_test[:1], segments=holes)) == (
        "segmentation: expected every pixel of image 0 to belong to a segment (labels >= 0), received label -1."
    )
    assert _error(lambda: lime.explain(x_test[:1], segments=np.zeros((1, SIZE, SIZE), dtype=int))) == (
        "segmentation: expected at least 2 segments in image 0, received 1; use a finer segmentation "
        "(for example segmentation='slic' with segmentation_options={'n_segments': 50})."
    )
    assert _error(lambda: lime.explain(x_test[:1], top_labels=4)) == (
        "top_labels: expected at most 3 (the model's outputs), received 4."
    )


def test_composites_are_the_image_or_the_fill_bit_for_bit():
    rng = np.random.default_rng(3)
    count, size = 6, 8
    image = rng.normal(size=(size, size, 3)).astype("float32")
    fill = rng.normal(size=(size, size, 3)).astype("float32")
    fill[0, 0] = -0.0
    segments = _grid_segments(size, cells=2).astype(np.int32)
    keep = rng.integers(0, 2, size=(count, 4)).astype("float32")
    flatten = keras.Sequential([keras.Input((size, size, 3)), keras.layers.Flatten()])
    lime = kx.LimeImage(flatten, num_samples=count, segmentation=segments[None])
    rows = {
        "x": np.repeat(image[None], count, 0),
        "fill": np.repeat(fill[None], count, 0),
        "segments": np.repeat(segments[None], count, 0),
        "keep": keep,
        "labels": np.tile(np.arange(size * size * 3, dtype=np.int32), (count, 1)),
    }
    composites = lime.sample(rows)[1].numpy()
    expected = np.where(keep[:, segments][..., None] > 0, image[None], fill[None])
    np.testing.assert_array_equal(composites, expected)
    assert 0 < keep.mean() < 1


@pytest.mark.parametrize("size", [8, 24, 28, 32, 48, 64])
def test_the_default_segmentation_fits_small_and_large_images(size):
    """MNIST and CIFAR sizes get a grid; from 64 pixels up LIME's quickshift."""
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((size, size, 1)), keras.layers.Conv2D(2, 3, padding="same"),
         keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)]
    )
    x = np.random.default_rng(size).uniform(size=(2, size, size, 1)).astype("float32")
    e = kx.LimeImage(model, num_samples=20, random_state=0).explain(x)
    if size < 64:
        side = max(2, size // 8)
        cells = -(-size // side)
        expected = (np.arange(size)[:, None] // side) * cells + np.arange(size)[None, :] // side
        np.testing.assert_array_equal(e.segments[0], expected)
        assert list(e.num_segments) == [cells * cells] * 2
    else:
        assert e.num_segments.min() > 2
