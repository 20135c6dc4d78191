"""Pictures as arrays: overlays with superpixel boundaries, LIME masks, PNG encoding."""

import numbers

import numpy as np

from keras_explain.engine.errors import fail
from keras_explain.render import colors


def segment_boundaries(image, segments, color=colors.BOUNDARY_COLOR):
    """Draw superpixel boundaries over an image.

    Args:
        image: (H, W) or (H, W, C), any range (see `to_rgb_uint8`).
        segments: integer labels (H, W).
        color: RGB boundary colour in [0, 1]. Defaults to yellow.

    Returns:
        np.ndarray uint8 (H, W, 3).
    """
    from skimage.segmentation import find_boundaries

    rgb = colors.to_rgb_uint8(image).copy()
    segments = np.asarray(segments)
    if segments.shape != rgb.shape[:2]:
        fail("segments", f"labels of shape {rgb.shape[:2]}", segments)
    edges = find_boundaries(segments, mode="inner")
    rgb[edges] = np.round(np.asarray(color) * 255).astype(np.uint8)
    return rgb


def sample_pictures(
    image, heatmap, segments=None, limits=None, cmap=None, clip_percentile=99.5, alpha=0.6, scale=1
):
    """The input and its overlay as RGB uint8 pictures, enlarged by `scale`.

    Args:
        image: one input (H, W) or (H, W, C).
        heatmap: its attribution map (h, w); resized to (H, W) when it differs.
        segments: optional superpixel labels (H, W) (LIME); their boundaries
            are drawn over the overlay in yellow.
        limits: (vmin, vmax, symmetric) shared with other pictures; None
            scales this heatmap alone, as `overlay` does.
        cmap, clip_percentile, alpha: colouring, as in `overlay`.
        scale: integer enlargement (pixels become blocks). Defaults to 1.

    Returns:
        (input RGB uint8, overlay RGB uint8), both (H * scale, W * scale, 3).
    """
    rgb = colors.to_rgb_uint8(image)
    heatmap = colors.fit_heatmap(heatmap, rgb.shape[:2])
    if limits is None:
        limits = colors.color_limits(heatmap, None, clip_percentile)
    mixed = colors.blend(rgb, heatmap, limits, cmap=cmap, alpha=alpha)
    rgb, mixed = colors.enlarge(rgb, scale), colors.enlarge(mixed, scale)
    if segments is not None:
        enlarged = colors.enlarge(np.asarray(segments), scale)
        mixed = segment_boundaries(mixed, enlarged, colors.BOUNDARY_COLOR)
    return rgb, mixed


def shrink(rgb, largest=320):
    """An RGB uint8 picture resized (Lanczos) so that its longer side is `largest` pixels."""
    from PIL import Image

    height, width = rgb.shape[:2]
    factor = largest / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def lime_label_position(explanation, index=0, label=None, label_index=None):
    """Which image and which of its explained labels a LIME image view shows.

    Args:
        explanation: an `Explanation` from `LimeImage` (its `labels` part
            (N, L) lists the explained class ids of each image, the target
            first; without it, the targets alone).
        index: which image; negative counts from the end. Defaults to 0.
        label: a class id among `labels[index]`, as lime's
            `get_image_and_mask(label)`. Defaults to None.
        label_index: a position in `labels[index]`, between 0 and L - 1.
            Defaults to None.

    Returns:
        (image index >= 0, position in `labels[index]`); with neither
        `label` nor `label_index`, position 0 (the target).

    Raises:
        ValueError: for an image index out of range, a class id that was not
            explained for that image, a position out of range, or both
            `label` and `label_index`.
    """
    count = len(explanation.targets)
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not -count <= index < count:
        fail("index", f"an image index between {-count} and {count - 1}", index)
    index = int(index) % count
    labels = explanation.extras.get("labels")
    labels = np.asarray(explanation.targets)[:, None] if labels is None else np.asarray(labels)
    explained = [int(c) for c in labels[index]]
    if label is not None:
        if label_index is not None:
            fail("label_index", "None when label is given", label_index)
        if isinstance(label, bool) or not isinstance(label, numbers.Integral):
            fail("label", f"an integer class id, one of the labels explained for image {index}, "
                 f"{explained}", label)
        if int(label) not in explained:
            fail("label", f"one of the labels explained for image {index}, {explained}", label)
        return index, explained.index(int(label))
    if label_index is None:
        return index, 0
    if (
        isinstance(label_index, bool)
        or not isinstance(label_index, numbers.Integral)
        or not 0 <= label_index < len(explained)
    ):
        fail("label_index", f"a position in labels[{index}] between 0 and {len(explained) - 1}",
             label_index)
    return index, int(label_index)


def lime_image_and_mask(
    explanation,
    index=0,
    label=None,
    positive_only=True,
    negative_only=False,
    num_features=5,
    hide_rest=False,
    min_weight=0.0,
    label_index=None,
):
    """The image and superpixel mask of a LIME image explanation, as LIME draws them.

    Superpixels are taken by decreasing |weight| (ties in segment order) for
    the chosen label. With `positive_only` (or `negative_only`) the mask is 1
    on up to `num_features` superpixels whose weight is above `min_weight`
    (or below -`min_weight`). With neither, the mask is +1/-1 on the
    `num_features` strongest superpixels with |weight| >= `min_weight`, and
    those superpixels are tinted: green channel raised for positive weights,
    red for negative.

    The label is chosen as in lime's `get_image_and_mask(label, ...)`: by
    class id with `label`, or by its position in `explanation.labels[index]`
    with `label_index`; with neither, the explained target.

    Args:
        explanation: an `Explanation` from `LimeImage`.
        index: which image; negative counts from the end. Defaults to 0.
        label: the class id to show, one of `explanation.labels[index]` (the
            labels explained for that image: the target, then the
            `top_labels` best others). Defaults to None.
        positive_only, negative_only: keep only supporting / opposing
            superpixels. Defaults to True / False.
        num_features: superpixels shown. Defaults to 5.
        hide_rest: zero the pixels of superpixels not shown. Defaults to False.
        min_weight: smallest |weight| shown. Defaults to 0.0.
        label_index: the position in `explanation.labels[index]` to show
            instead (0 is the target). Defaults to None.

    Returns:
        (image (H, W, C) float like the input, mask (H, W) int).

    Raises:
        ValueError: for an explanation without superpixels, both
            `positive_only` and `negative_only`, an image index out of range,
            a `label` that was not explained for that image, a `label_index`
            out of range, or both `label` and `label_index`.
    """
    if positive_only and negative_only:
        raise ValueError(
            "positive_only: expected positive_only and negative_only not both True, received both True."
        )
    extras = explanation.extras
    if any(extras.get(key) is None for key in ("segments", "segment_weights", "num_segments")):
        fail("explanation", "a LimeImage explanation (segments, segment_weights, num_segments)",
             explanation)
    index, position = lime_label_position(explanation, index, label, label_index)
    segments = np.asarray(extras.get("segments")[index])
    image = np.asarray(explanation.inputs[index], dtype=np.float64)
    count = int(extras.get("num_segments")[index])
    weights = np.asarray(extras.get("segment_weights"))[index, position, :count]
    sign = 1.0 if positive_only else -1.0 if negative_only else None
    return _masked(image, segments, weights, sign, num_features, hide_rest, min_weight)


def _masked(image, segments, weights, sign, num_features, hide_rest, min_weight):
    """The picture and mask of `lime_image_and_mask` for one image and one label.

    `sign` 1.0 (-1.0) keeps supporting (opposing) superpixels only; None keeps both.
    """
    order = np.argsort(-np.abs(weights), kind="stable")
    shown = np.zeros_like(image) if hide_rest else image.copy()
    mask = np.zeros(segments.shape, dtype=np.int64)
    if sign is not None:
        chosen = [f for f in order if sign * weights[f] > 0 and sign * weights[f] > min_weight]
        for f in chosen[:num_features]:
            region = segments == f
            shown[region] = image[region]
            mask[region] = 1
        return shown, mask
    brightest = image.max()
    for f in order[:num_features]:
        if abs(weights[f]) < min_weight:
            continue
        region = segments == f
        mask[region] = 1 if weights[f] > 0 else -1
        shown[region] = image[region]
        if image.shape[-1] >= 2:
            shown[region, 1 if weights[f] > 0 else 0] = brightest
    return shown, mask


def png_bytes(rgb, optimize=True):
    """Encode an RGB uint8 image (H, W, 3) as PNG bytes, without metadata.

    Args:
        rgb: the image.
        optimize: the smallest file (slower); False encodes fast, with light
            compression. Defaults to True.
    """
    import io

    from PIL import Image

    buffer = io.BytesIO()
    options = {"optimize": True} if optimize else {"compress_level": 1}
    Image.fromarray(np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))).save(
        buffer, format="PNG", **options
    )
    return buffer.getvalue()


def save_image(path, rgb):
    """Write an RGB uint8 array (H, W, 3) as a PNG file and return the path."""
    import matplotlib.image

    matplotlib.image.imsave(path, np.asarray(rgb))
    return path
