"""LIME for images: superpixel masks composited and classified in compiled TF."""

import numpy as np
import tensorflow as tf

import keras_explain.methods.lime.surrogate as surrogate
from keras_explain.engine.errors import check_float, check_int, describe, fail
from keras_explain.engine.explainer import Plan
from keras_explain.engine.registry import register
from keras_explain.methods.lime.base import LimeBase, explained_labels

SEGMENTATIONS = ("quickshift", "slic", "felzenszwalb")
#: With segmentation=None, images whose smaller side has fewer pixels than
#: this are cut into a grid (quickshift's defaults give them one segment).
QUICKSHIFT_MIN_SIDE = 64
_DEFAULT_OPTIONS = {
    # LIME's own defaults for quickshift.
    "quickshift": {"kernel_size": 4, "max_dist": 200, "ratio": 0.2},
    "slic": {"n_segments": 50, "compactness": 10.0, "start_label": 0},
    "felzenszwalb": {"scale": 1.0, "sigma": 0.8, "min_size": 20},
}


def random_masks(num_samples, num_segments, rng):
    """LIME's sampler: each segment on or off with probability 1/2; row 0 all on.

    Args:
        num_samples: S, rows to draw.
        num_segments: F, segments of the image.
        rng: a numpy Generator.

    Returns:
        np.ndarray int (S, F) of 0 and 1.
    """
    masks = rng.integers(0, 2, size=(num_samples, num_segments))
    masks[0, :] = 1
    return masks


def _segmentation_image(image):
    """The image as an RGB float array in [0, 1] for scikit-image."""
    image = np.asarray(image, dtype=np.float64)
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    low, high = image.min(), image.max()
    if low < 0.0 or high > 1.0:
        image = (image - low) / ((high - low) or 1.0)
    return image


def grid_segments(height, width):
    """Square cells of side max(2, min(H, W) // 8): about 64 segments, more for oblong images."""
    side = max(2, min(height, width) // 8)
    columns = -(-width // side)
    return (np.arange(height)[:, None] // side) * columns + np.arange(width)[None, :] // side


def segment_image(image, method, options, seed):
    """Superpixels of one image (H, W, C) with a scikit-image algorithm.

    Grayscale images (H, W, 1) are segmented as grey RGB; images outside
    [0, 1] are rescaled to [0, 1] for the segmentation only. The model always
    sees the image unchanged. `method` None picks by size: quickshift with
    LIME's settings when the smaller side has at least `QUICKSHIFT_MIN_SIDE`
    pixels, else `grid_segments`.
    """
    from skimage import segmentation as skseg

    if method is None:
        if min(image.shape[:2]) < QUICKSHIFT_MIN_SIDE:
            return grid_segments(*image.shape[:2])
        method = "quickshift"

    picture = _segmentation_image(image)
    settings = dict(_DEFAULT_OPTIONS[method])
    settings.update(options or {})
    if method == "quickshift":
        if picture.shape[-1] != 3:
            raise ValueError(
                f"segmentation: expected 1 or 3 image channels for quickshift, received "
                f"{image.shape[-1]}; use segmentation='slic' or a callable."
            )
        settings.setdefault("rng", seed)
        return skseg.quickshift(picture, **settings)
    if method == "slic":
        return skseg.slic(picture, channel_axis=-1, **settings)
    return skseg.felzenszwalb(picture, channel_axis=-1, **settings)


def _relabel(labels, index, shape):
    """Check one label map and renumber its segments 0 .. F-1."""
    labels = np.asarray(labels)
    if labels.shape != shape:
        raise ValueError(
            f"segmentation: expected a label map of shape {shape} for image {index}, "
            f"received {describe(labels)}."
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"segmentation: expected integer segment labels for image {index}, "
            f"received {describe(labels)}."
        )
    if labels.min() < 0:
        raise ValueError(
            f"segmentation: expected every pixel of image {index} to belong to a segment "
            f"(labels >= 0), received label {int(labels.min())}."
        )
    _, renumbered = np.unique(labels, return_inverse=True)
    renumbered = renumbered.reshape(shape).astype(np.int32)
    count = int(renumbered.max()) + 1
    if count < 2:
        raise ValueError(
            f"segmentation: expected at least 2 segments in image {index}, received 1; "
            f"use a finer segmentation (for example segmentation='slic' with "
            f"segmentation_options={{'n_segments': 50}})."
        )
    return renumbered, count


def mean_colours(image, segments, count):
    """Each pixel replaced by the mean colour of its segment (LIME's hide_color=None)."""
    flat = image.reshape(-1, image.shape[-1]).astype(np.float64)
    labels = segments.reshape(-1)
    sums = np.zeros((count, flat.shape[1]))
    np.add.at(sums, labels, flat)
    means = sums / np.bincount(labels, minlength=count)[:, None]
    return means[labels].reshape(image.shape)


@register("lime_image", aliases=("lime", "limeimage"))
class LimeImage(LimeBase):
    """LIME for images: which superpixels drive the prediction.

    Each image is cut into superpixels. For `num_samples` random on/off masks
    (the first all on) the hidden superpixels are filled with their mean
    colour (or `hide_color`), the composites are classified in bounded
    batches inside one compiled TensorFlow function, and a weighted ridge
    regression of the outputs on the masks, weighted by an exponential kernel
    of the cosine distance to the all-on mask, gives each superpixel a weight.

    With `num_samples="auto"` each image gets masks in levels of 128, 256,
    512, ... up to `max_samples` and stops when its 5 strongest superpixels
    and their signs hold from one level to the next and every weight's
    standard error is at most `tolerance` times the largest |weight|
    (`keras_explain.methods.lime.base`). Mask k of an image is the same in
    an auto and a fixed run (each image draws its masks from its own
    stream), so an auto result equals the fixed run with `e.samples_used[i]`
    masks; `e.standard_errors` (N, L, F_max) holds the weights' standard
    errors.

    Args:
        model: a Keras 3 image model taking (N, H, W, C).
        num_samples: masks per image, or "auto" (see above). Defaults to 1000.
        segmentation: None (by image size: LIME's quickshift, with
            kernel_size=4, max_dist=200, ratio=0.2, for images at least 64
            pixels on their smaller side, such as 224x224; below that, where
            quickshift finds a single segment (MNIST, CIFAR), a grid of
            square cells of side max(2, min(H, W) // 8), about 64 cells),
            "quickshift", "slic", "felzenszwalb", a callable
            `fn(image (H, W, C)) -> labels (H, W)`, or a precomputed integer
            array (N, H, W) for the images passed to `explain`. Defaults to
            None.
        segmentation_options: keyword arguments for the scikit-image
            algorithm, overriding the defaults. Defaults to None.
        hide_color: the value hidden pixels take; None fills each hidden
            superpixel with its mean colour. Defaults to None.
        kernel_width: width of the exponential kernel on cosine distances.
            Defaults to 0.25.
        feature_selection: "auto", "highest_weights", "forward_selection",
            "lasso_path" or "none", as LIME defines them. Defaults to "auto".
        random_state: int seed for the masks (and quickshift's tie-breaking);
            the same seed gives identical results. Defaults to None.
        mask_sampler: callable `(num_samples, num_segments, rng) -> (S, F)`
            array of 0/1 masks replacing the default sampler (for example to
            reproduce another library's masks); called once per image with
            that image's generator, and with `max_samples` for "auto".
            Defaults to None.
        tolerance: with num_samples="auto", the largest standard error of a
            weight relative to the largest |weight|. Defaults to 0.05.
        max_samples: with num_samples="auto", the most masks per image.
            Defaults to 8192.
        **kwargs: `output`, `batch_size` (composites per model call; bounds
            memory whatever `num_samples` is), `run_eagerly`, `verbose`.

    `explain(images, targets=None, top_labels=None, num_features=None,
    segments=None)`:
        images: (N, H, W, C). targets: as everywhere (None: predicted class).
        top_labels: also explain the k best-scoring labels of each image
            (the explained target first). num_features: superpixels kept per
            surrogate (default: all). segments: a precomputed (N, H, W) label
            array for this call.

    Returns from `explain`: `Explanation` with `attributions` (N, H, W), each
    pixel carrying its superpixel's weight for the target; `segments`
    (N, H, W); `labels` (N, L); `segment_weights` (N, L, F_max) (zero beyond
    an image's `num_segments` and for unselected superpixels); `intercept`,
    `score` (weighted R^2) and `local_pred` (N, L); `num_segments` (N,).

    Raises:
        ValueError: for NaN/inf pixels, a wrong rank, num_samples < 2, a
            segmentation that does not cover the image or has one segment.

    Example:

    ```python
    lime = kx.LimeImage(model, num_samples=1000, random_state=0)
    e = lime.explain(images)
    image, mask = kx.viz.lime_image_and_mask(e, 0, num_features=5)
    e = kx.LimeImage(model, num_samples="auto", random_state=0).explain(images)
    e.samples_used, e.standard_errors[:, 0]   # masks per image, the weights' errors
    ```

    References: Ribeiro, Singh & Guestrin, "Why Should I Trust You?:
    Explaining the Predictions of Any Classifier", KDD 2016; for "auto",
    Zhou, Hooker & Wang, "S-LIME: Stabilized-LIME for Model Explanation",
    KDD 2021 (see `keras_explain.methods.lime.base` for how the rule differs).
    """

    method = "lime_image"
    pair_addressed_draws = True
    config_attributes = ("segmentation", "segmentation_options", "hide_color")
    explain_options = {
        "top_labels": "also explain the k best-scoring labels of each image",
        "num_features": "superpixels kept per surrogate (default: all)",
        "segments": "a precomputed (N, H, W) label array for this call",
    }

    def __init__(
        self,
        model,
        num_samples=1000,
        segmentation=None,
        segmentation_options=None,
        hide_color=None,
        kernel_width=0.25,
        feature_selection="auto",
        random_state=None,
        mask_sampler=None,
        tolerance=0.05,
        max_samples=8192,
        **kwargs,
    ):
        if segmentation is not None and not isinstance(segmentation, str) and not callable(segmentation):
            segmentation = np.asarray(segmentation)
        if (isinstance(segmentation, str) and segmentation not in SEGMENTATIONS) or (
            isinstance(segmentation, np.ndarray)
            and (segmentation.ndim != 3 or segmentation.dtype.kind not in "iu")
        ):
            fail(
                "segmentation",
                f"one of {', '.join(map(repr, SEGMENTATIONS))}, a callable or an "
                f"integer label array (N, H, W)",
                segmentation,
            )
        self.segmentation = segmentation
        if segmentation_options is not None and not isinstance(segmentation_options, dict):
            fail("segmentation_options", "a dict of keyword arguments or None", segmentation_options)
        self.segmentation_options = dict(segmentation_options or {})
        if hide_color is not None:
            hide_color = check_float("hide_color", hide_color)
        self.hide_color = hide_color
        if mask_sampler is not None and not callable(mask_sampler):
            fail("mask_sampler", "a callable (num_samples, num_segments, rng) -> masks", mask_sampler)
        self.mask_sampler = mask_sampler
        super().__init__(
            model, num_samples, kernel_width, feature_selection, random_state, tolerance, max_samples, **kwargs
        )

    def get_config(self):
        config = super().get_config()
        if callable(self.segmentation):
            # Named only: a callable is passed again to `from_config`.
            config["segmentation"] = getattr(self.segmentation, "__name__", "callable")
        return config

    @classmethod
    def from_config(cls, config, model):
        config = dict(config)
        segmentation = config.get("segmentation")
        if isinstance(segmentation, str) and segmentation not in SEGMENTATIONS:
            raise ValueError(
                f"segmentation: a callable cannot be restored from a config; received "
                f"{config['segmentation']!r}, pass the callable again."
            )
        return cls(model, **config)

    # -- plan: segments, fill images, masks ---------------------------------

    def _segments(self, images, segments, rng):
        shape = images.shape[1:3]
        if isinstance(self.segmentation, np.ndarray) and segments is None:
            segments = self.segmentation
        if segments is not None:
            segments = np.asarray(segments)
            if segments.shape != (len(images),) + tuple(shape):
                raise ValueError(
                    f"segmentation: expected a label array of shape ({len(images)}, "
                    f"{shape[0]}, {shape[1]}), received {describe(segments)}."
                )
            raw = list(segments)
        elif callable(self.segmentation):
            raw = [self.segmentation(image) for image in images]
        else:
            seeds = rng.integers(0, 2**31 - 1, size=len(images))
            raw = [
                segment_image(image, self.segmentation, self.segmentation_options, int(seed))
                for image, seed in zip(images, seeds)
            ]
        return [_relabel(labels, i, shape) for i, labels in enumerate(raw)]

    def _masks(self, count, width, rng):
        samples = self.pairs_per_example
        sampled = np.asarray((self.mask_sampler or random_masks)(samples, count, rng))
        if sampled.shape != (samples, count):
            raise ValueError(
                f"mask_sampler: expected masks of shape ({samples}, {count}), "
                f"received {describe(sampled)}."
            )
        padded = np.zeros((samples, width), np.uint8)
        # A superpixel is shown where its mask is positive.
        padded[:, :count] = sampled > 0
        return padded

    def plan(self, x, targets, predictions, top_labels=None, num_features=None, segments=None):
        if x.shape.rank != 4:
            fail("images", "a batch of images (N, H, W, C)", x)
        top_labels = check_int("top_labels", top_labels, minimum=1, allow_none=True)
        num_features = check_int("num_features", num_features, minimum=1, allow_none=True)
        images = x.numpy()
        rng = np.random.default_rng(self.random_state)
        segmented = self._segments(images, segments, rng)
        labels = explained_labels(targets, predictions, top_labels)
        counts = np.array([c for _, c in segmented])
        width = int(counts.max())
        fills, masks = [], []
        # Each image draws from its own stream: mask k is the same for any num_samples.
        streams = [np.random.default_rng(seed) for seed in rng.integers(0, 2**63 - 1, size=len(images))]
        for image, (labels_map, count), stream in zip(images, segmented, streams):
            if self.hide_color is None:
                fills.append(mean_colours(image, labels_map, count))
            else:
                fills.append(np.full(image.shape, self.hide_color))
            masks.append(self._masks(count, width, stream))
        segments = np.stack([s for s, _ in segmented])
        # The all-on mask is each image's own representation.
        own = (np.arange(width)[None, :] < counts[:, None]).astype(np.float64)
        return Plan(
            x=x,
            targets=targets,
            predictions=predictions,
            per_example={
                "fill": tf.constant(np.stack(fills), x.dtype),
                "segments": tf.constant(segments),
                "labels": tf.constant(labels.astype(np.int32)),
                "x_reference": own,
                "y_reference": np.take_along_axis(predictions, labels, axis=1).astype(np.float64),
            },
            pairs=self.pairs_per_example,
            group_size=1,
            per_pair={"keep": np.concatenate(masks)},
            extras={"segments": segments, "feature_counts": counts, "labels": labels,
                    "num_features": num_features},
        )

    def sample(self, rows):
        keep = tf.gather(rows["keep"], rows["segments"], batch_dims=1)  # (B, H, W), 0 or 1
        keep = tf.cast(keep, rows["x"].dtype)[..., None]
        # With keep exactly 0 or 1 both products are exact: each pixel is the
        # image's or the fill's, bit for bit (and cheaper than a broadcast select).
        composite = rows["x"] * keep + rows["fill"] * (1.0 - keep)
        return rows["keep"], composite

    def distance(self, z, rows):
        return surrogate.cosine_distance(z, rows["x_reference"])

    def explain_fit(self, plan, fitted, stats):
        segments = plan.extras["segments"]
        rows = np.arange(len(segments))[:, None, None]
        attributions = fitted["coef"][:, 0, :][rows, segments].astype(np.float32)
        return self.explanation(
            plan,
            attributions,
            segments=segments,
            labels=plan.extras["labels"],
            segment_weights=fitted["coef"],
            intercept=fitted["intercept"],
            score=fitted["score"],
            local_pred=fitted["local_pred"],
            num_segments=plan.extras["feature_counts"],
        )
