"""Pictures of explanations: colour maps, overlays and figures.

Signed maps use a diverging colour map centred on 0 (blue negative, red
positive); magnitudes use a sequential one. Figures are built without pyplot,
so they work headless and never pop up windows; pass `save=` to write a file.
"""

import functools

import numpy as np

from keras_explain.engine.errors import check_float, describe, fail

DIVERGING = "RdBu_r"
SEQUENTIAL = "inferno"


def to_rgb_uint8(image):
    """An image as RGB uint8 (H, W, 3).

    Args:
        image: (H, W) or (H, W, C). One channel is grey, three are RGB, a
            fourth (alpha) is dropped, and any other count is shown as the
            channel mean in grey. uint8 is kept; floats in [0, 1] are scaled
            by 255, floats in [0, 255] are kept, any other range is stretched
            to [0, 255].

    Returns:
        np.ndarray uint8 (H, W, 3).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        fail("image", "an image of shape (H, W) or (H, W, C)", image)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    elif image.ndim == 3 and image.shape[-1] != 3:
        image = image.mean(axis=-1) if image.shape[-1] != 1 else image[..., 0]
    if image.dtype != np.uint8:
        image = image.astype(np.float64)
        low, high = float(image.min()), float(image.max())
        if low >= 0.0 and high <= 1.0:
            image = image * 255.0
        elif not (low >= 0.0 and high <= 255.0):
            image = (image - low) / ((high - low) or 1.0) * 255.0
        image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    return image


def color_limits(heatmap, symmetric=None, clip_percentile=99.5):
    """(vmin, vmax, symmetric) for a heatmap.

    Args:
        heatmap: array of values.
        symmetric: centre the scale on 0; None decides from the data (True
            when it holds negative values).
        clip_percentile: values beyond this percentile of |heatmap| saturate,
            so one extreme pixel does not wash out the rest. Defaults to 99.5.
    """
    heatmap = np.asarray(heatmap, dtype=np.float64)
    check_float("clip_percentile", clip_percentile, minimum=0.0, maximum=100.0, strict_minimum=True)
    if symmetric is None:
        symmetric = bool(np.any(heatmap < 0))
    if symmetric:
        limit = float(np.percentile(np.abs(heatmap), clip_percentile)) or 1.0
        return -limit, limit, True
    low = float(heatmap.min()) if heatmap.size else 0.0
    high = float(np.percentile(heatmap, clip_percentile)) if heatmap.size else 1.0
    if high <= low:
        high = low + 1.0
    return low, high, False


@functools.lru_cache(maxsize=32)
def _colormap(name):
    import matplotlib

    colormap = matplotlib.colormaps[name]
    colormap(0.0)  # build the lookup table once
    return colormap


def colorize(heatmap, cmap=None, symmetric=None, clip_percentile=99.5):
    """Map a 2-D heatmap to RGB floats in [0, 1] (H, W, 3)."""
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim != 2:
        fail("heatmap", "a 2-D map (H, W)", heatmap)
    vmin, vmax, symmetric = color_limits(heatmap, symmetric, clip_percentile)
    cmap = _colormap(cmap or (DIVERGING if symmetric else SEQUENTIAL))
    scaled = np.clip((heatmap - vmin) / (vmax - vmin), 0.0, 1.0)
    return cmap(scaled)[..., :3]


def overlay(image, heatmap, alpha=0.6, cmap=None, symmetric=None, clip_percentile=99.5):
    """Blend a coloured heatmap over an image.

    Each pixel's opacity grows with the strength of its attribution (|value|
    for signed maps, distance from the minimum for magnitudes), so pixels
    with no attribution show the image unchanged.

    Args:
        image: (H, W), (H, W, 1) or (H, W, 3), any numeric range (see
            `to_rgb_uint8`).
        heatmap: (h, w) map; resized to (H, W) when its size differs.
        alpha: opacity of the strongest attributions, in [0, 1]. Defaults to 0.6.
        cmap: matplotlib colour map name. Defaults to "RdBu_r" for signed maps
            and "inferno" for magnitudes.
        symmetric: centre colours on 0; None decides from the data.
        clip_percentile: saturation percentile. Defaults to 99.5.

    Returns:
        np.ndarray uint8 (H, W, 3).

    Example:

    ```python
    rgb = kx.viz.overlay(x[0], e.heatmap()[0])
    ```
    """
    alpha = check_float("alpha", alpha, minimum=0.0, maximum=1.0)
    base = to_rgb_uint8(image).astype(np.float64) / 255.0
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim != 2:
        fail("heatmap", "a 2-D map (h, w)", heatmap)
    if heatmap.shape != base.shape[:2]:
        from skimage.transform import resize

        heatmap = resize(heatmap, base.shape[:2], order=1, mode="edge", anti_aliasing=False)
    vmin, vmax, symmetric = color_limits(heatmap, symmetric, clip_percentile)
    colours = colorize(heatmap, cmap, symmetric, clip_percentile)
    if symmetric:
        strength = np.abs(heatmap) / vmax
    else:
        strength = (heatmap - vmin) / (vmax - vmin)
    opacity = alpha * np.clip(strength, 0.0, 1.0)[..., None]
    blended = (1.0 - opacity) * base + opacity * colours
    return np.clip(np.round(blended * 255.0), 0, 255).astype(np.uint8)


def save_image(path, rgb):
    """Write an RGB uint8 array (H, W, 3) as a PNG file and return the path."""
    import matplotlib.image

    matplotlib.image.imsave(path, np.asarray(rgb))
    return path


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _indices(explanation, indices, max_samples):
    count = len(explanation)
    if indices is None:
        return list(range(min(count, max_samples)))
    indices = [int(i) for i in np.atleast_1d(indices)]
    for i in indices:
        if not -count <= i < count:
            fail("indices", f"indices between 0 and {count - 1}", i)
    return indices


def _title(explanation, i):
    target = int(explanation.targets[i])
    score = float(explanation.predictions[i, target]) if explanation.predictions.ndim == 2 else None
    text = f"#{i} target {target}"
    return text if score is None else f"{text} ({score:.3g})"


def plot_explanation(
    explanation,
    indices=None,
    reduce="sum",
    max_samples=8,
    save=None,
    cmap=None,
    clip_percentile=99.5,
    alpha=0.6,
    feature_names=None,
    top_k=10,
):
    """A figure of an explanation: per sample, the input, the map and the overlay.

    Image explanations get three panels per sample (input, heatmap with a
    colour bar, overlay). Tabular explanations (N, n_features) get a
    horizontal bar chart of the `top_k` largest attributions per sample,
    positive in red and negative in blue.

    Args:
        explanation: an `Explanation`.
        indices: samples to draw. Defaults to the first `max_samples`.
        reduce: channel reduction, as in `Explanation.heatmap`. Defaults to "sum".
        max_samples: limit when `indices` is None. Defaults to 8.
        save: optional path; the figure is written there.
        cmap, clip_percentile, alpha: colouring, as in `overlay`.
        feature_names: names for tabular features. Defaults to "x0", "x1", ...
        top_k: bars per tabular sample. Defaults to 10.

    Returns:
        matplotlib.figure.Figure.
    """
    chosen = _indices(explanation, indices, max_samples)
    attributions = explanation.attributions
    if attributions.ndim == 2:
        figure = _bar_figure(explanation, chosen, feature_names, top_k)
    elif attributions.ndim in (3, 4):
        figure = _image_figure(explanation, chosen, reduce, cmap, clip_percentile, alpha)
    else:
        raise ValueError(
            f"explanation: expected attributions of shape (N, features), (N, H, W) or "
            f"(N, H, W, C), received {describe(attributions)}."
        )
    if save is not None:
        figure.savefig(save, dpi=120)
    return figure


def _image_figure(explanation, chosen, reduce, cmap, clip_percentile, alpha):
    maps = explanation.heatmap(reduce=reduce)
    figure = _figure(7.5, 2.4 * len(chosen))
    axes = figure.subplots(len(chosen), 3, squeeze=False)
    for row, i in zip(axes, chosen):
        image = explanation.inputs[i]
        heat = maps[i]
        vmin, vmax, symmetric = color_limits(heat, None, clip_percentile)
        row[0].imshow(to_rgb_uint8(image), interpolation="nearest")
        row[0].set_title(_title(explanation, i), fontsize=9)
        shown = row[1].imshow(
            heat,
            cmap=cmap or (DIVERGING if symmetric else SEQUENTIAL),
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        row[1].set_title(explanation.method, fontsize=9)
        figure.colorbar(shown, ax=row[1], shrink=0.8)
        row[2].imshow(
            overlay(image, heat, alpha=alpha, cmap=cmap, clip_percentile=clip_percentile),
            interpolation="nearest",
        )
        row[2].set_title("overlay", fontsize=9)
        for axis in row:
            axis.set_axis_off()
    return figure


def _bar_figure(explanation, chosen, feature_names, top_k):
    values = explanation.attributions
    names = feature_names or explanation.extras.get("feature_names")
    if names is None:
        names = [f"x{j}" for j in range(values.shape[1])]
    figure = _figure(6.0, max(2.0, 0.3 * min(top_k, values.shape[1]) + 0.8) * len(chosen))
    axes = figure.subplots(len(chosen), 1, squeeze=False)[:, 0]
    for axis, i in zip(axes, chosen):
        order = np.argsort(-np.abs(values[i]))[:top_k][::-1]
        shown = values[i][order]
        axis.barh(
            [str(names[j]) for j in order],
            shown,
            color=["#b2182b" if v > 0 else "#2166ac" for v in shown],
        )
        axis.axvline(0.0, color="black", linewidth=0.8)
        axis.set_title(_title(explanation, i), fontsize=9)
        axis.tick_params(labelsize=8)
    return figure


def lime_image_and_mask(
    explanation,
    index=0,
    label=0,
    positive_only=True,
    negative_only=False,
    num_features=5,
    hide_rest=False,
    min_weight=0.0,
):
    """The image and superpixel mask of a LIME image explanation, as LIME draws them.

    Superpixels are taken by decreasing |weight|. With `positive_only` (or
    `negative_only`) the mask is 1 on up to `num_features` superpixels whose
    weight is above `min_weight` (or below -`min_weight`). With neither, the
    mask is +1/-1 on the `num_features` strongest superpixels with |weight| >=
    `min_weight`, and those superpixels are tinted: green channel raised for
    positive weights, red for negative.

    Args:
        explanation: an `Explanation` from `LimeImage`.
        index: which image. Defaults to 0.
        label: position in `explanation.labels[index]` (0 is the target).
            Defaults to 0.
        positive_only, negative_only: keep only supporting / opposing
            superpixels. Defaults to True / False.
        num_features: superpixels shown. Defaults to 5.
        hide_rest: zero the pixels of superpixels not shown. Defaults to False.
        min_weight: smallest |weight| shown. Defaults to 0.0.

    Returns:
        (image (H, W, C) float like the input, mask (H, W) int).

    Raises:
        ValueError: if both `positive_only` and `negative_only` are set.
    """
    if positive_only and negative_only:
        raise ValueError(
            "positive_only: expected positive_only and negative_only not both True, received both True."
        )
    segments = explanation.segments[index]
    image = np.asarray(explanation.inputs[index], dtype=np.float64)
    count = int(explanation.num_segments[index])
    weights = np.asarray(explanation.segment_weights)[index, label, :count]
    order = np.argsort(-np.abs(weights), kind="stable")
    shown = np.zeros_like(image) if hide_rest else image.copy()
    mask = np.zeros(segments.shape, dtype=np.int64)
    if positive_only or negative_only:
        sign = 1.0 if positive_only else -1.0
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


def segment_boundaries(image, segments, color=(1.0, 1.0, 0.0)):
    """Draw superpixel boundaries over an image.

    Args:
        image: (H, W) or (H, W, C), any range (see `to_rgb_uint8`).
        segments: integer labels (H, W).
        color: RGB boundary colour in [0, 1]. Defaults to yellow.

    Returns:
        np.ndarray uint8 (H, W, 3).
    """
    from skimage.segmentation import find_boundaries

    rgb = to_rgb_uint8(image).copy()
    segments = np.asarray(segments)
    if segments.shape != rgb.shape[:2]:
        fail("segments", f"labels of shape {rgb.shape[:2]}", segments)
    edges = find_boundaries(segments, mode="inner")
    rgb[edges] = np.round(np.asarray(color) * 255).astype(np.uint8)
    return rgb


# -- contact sheets and picture helpers (the keras-explain command, HTML reports) --

#: Bar colours of tabular charts: attributions for the explained output, and against it.
POSITIVE_COLOR = "#b2182b"
NEGATIVE_COLOR = "#2166ac"
#: Colour of LIME superpixel boundaries, RGB in [0, 1].
BOUNDARY_COLOR = (1.0, 1.0, 0.0)


def plain_text(text, limit=None):
    """`text` safe to draw with matplotlib: "$" does not start math, long text is cut.

    Args:
        text: any value; converted with `str`.
        limit: the longest length kept (with "..." appended). Defaults to None.
    """
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 3, 1)] + "..."
    return text.replace("$", r"\$")


def output_label(index, class_names=None):
    """ "3 'three'" with class names, else "3"."""
    index = int(index)
    if class_names is not None and 0 <= index < len(class_names):
        return f"{index} {class_names[index]!r}"
    return str(index)


def heatmap_limits(maps, symmetric=None, clip_percentile=99.5):
    """(vmin, vmax, symmetric) shared by several heatmaps, as `color_limits` does for one.

    Args:
        maps: array or list of arrays of attribution values.
        symmetric: centre the scale on 0; None decides from the data (True
            when any value is negative).
        clip_percentile: values beyond this percentile saturate. Defaults to 99.5.
    """
    if isinstance(maps, (list, tuple)):
        values = np.concatenate([np.asarray(m, dtype=np.float64).reshape(-1) for m in maps])
    else:
        values = np.asarray(maps, dtype=np.float64).reshape(-1)
    return color_limits(values, symmetric, clip_percentile)


def blend(image, heatmap, limits, cmap=None, alpha=0.6):
    """`overlay` with given colour limits (for several pictures on one scale).

    Args:
        image: (H, W), (H, W, 1) or (H, W, 3), any range (see `to_rgb_uint8`).
        heatmap: (H, W) map of the image's size.
        limits: (vmin, vmax, symmetric), for example from `heatmap_limits`.
        cmap: colour map name. Defaults to "RdBu_r" for symmetric limits,
            "inferno" otherwise.
        alpha: opacity of the strongest attributions. Defaults to 0.6.

    Returns:
        np.ndarray uint8 (H, W, 3).
    """
    alpha = check_float("alpha", alpha, minimum=0.0, maximum=1.0)
    vmin, vmax, symmetric = limits
    base = to_rgb_uint8(image).astype(np.float64) / 255.0
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.shape != base.shape[:2]:
        fail("heatmap", f"a map of the image's size {base.shape[:2]}", heatmap)
    colormap = _colormap(cmap or (DIVERGING if symmetric else SEQUENTIAL))
    scaled = np.clip((heatmap - vmin) / (vmax - vmin), 0.0, 1.0)
    colours = colormap(scaled)[..., :3]
    strength = np.abs(heatmap) / max(abs(vmin), abs(vmax)) if symmetric else scaled
    opacity = alpha * np.clip(strength, 0.0, 1.0)[..., None]
    blended = (1.0 - opacity) * base + opacity * colours
    return np.clip(np.round(blended * 255.0), 0, 255).astype(np.uint8)


def enlarge(rgb, scale):
    """Enlarge an image by an integer factor, each pixel a `scale` x `scale` block."""
    scale = int(scale)
    rgb = np.asarray(rgb)
    if scale <= 1:
        return rgb
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)


def display_scale(shape, minimum=128):
    """The integer factor that brings an image's longer side to at least `minimum` pixels."""
    return max(1, int(np.ceil(minimum / max(int(shape[0]), int(shape[1]), 1))))


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
    rgb = to_rgb_uint8(image)
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.shape != rgb.shape[:2]:
        from skimage.transform import resize

        heatmap = resize(heatmap, rgb.shape[:2], order=1, mode="edge", anti_aliasing=False)
    if limits is None:
        limits = color_limits(heatmap, None, clip_percentile)
    mixed = blend(rgb, heatmap, limits, cmap=cmap, alpha=alpha)
    rgb, mixed = enlarge(rgb, scale), enlarge(mixed, scale)
    if segments is not None:
        mixed = segment_boundaries(mixed, enlarge(np.asarray(segments), scale), BOUNDARY_COLOR)
    return rgb, mixed


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


def colormap_stops(cmap, count=11):
    """`count` evenly spaced colours of a colour map as "#rrggbb" strings (for CSS legends)."""
    colormap = _colormap(cmap)
    colours = colormap(np.linspace(0.0, 1.0, count))[:, :3]
    return ["#" + "".join(f"{int(round(c * 255)):02x}" for c in colour) for colour in colours]


def _names(explanation, key, given, count):
    names = given if given is not None else explanation.extras.get(key)
    if names is None:
        return None
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(f"{key}: expected {count} names, received {len(names)}.")
    return names


def sample_title(explanation, i, class_names=None, input_names=None, limit=24):
    """A short caption of sample `i`: its name, the prediction and the explained output."""
    name = input_names[i] if input_names is not None else f"#{i}"
    lines = [plain_text(name, limit)]
    predictions = explanation.predictions
    target = int(explanation.targets[i])
    if predictions.ndim == 2 and predictions.shape[1] > 1:
        predicted = int(np.argmax(predictions[i]))
        label = plain_text(output_label(predicted, class_names), limit)
        lines.append(f"{label} ({float(predictions[i, predicted]):.3g})")
        if target != predicted:
            lines.append(f"explains {plain_text(output_label(target, class_names), limit)}")
    elif predictions.ndim == 2 and predictions.shape[1] == 1:
        lines.append(f"output {float(predictions[i, 0]):.4g}")
    return "\n".join(lines)


_CELL = {"image": (1.8, 2.2), "header": 0.6, "colorbar": 1.1, "table_width": 3.6}


def contact_sheet(
    explanation,
    indices=None,
    max_samples=48,
    columns=None,
    class_names=None,
    input_names=None,
    reduce="sum",
    cmap=None,
    clip_percentile=99.5,
    alpha=0.6,
    shared_scale=True,
    top_k=8,
    title=None,
    save=None,
):
    """Many samples of an explanation in one figure, to print or hand over.

    Images get one cell per sample: the overlay of the attribution map on the
    input (LIME explanations with their superpixel boundaries), captioned
    with the input's name, the predicted class and its score. With
    `shared_scale` every cell uses one colour scale, shown by one colour bar:
    diverging and centred on 0 when any attribution is negative, sequential
    otherwise, saturating beyond the `clip_percentile` of all the cells.
    Tables get one horizontal bar chart per sample: the `top_k` largest
    attributions, red for the explained output and blue against it.

    The figure measures `columns` x 1.8 in (+ 1.1 in for the colour bar) by
    rows x 2.2 in (+ 0.6 in for the header) for images, `columns` x 3.6 in by
    rows x (0.3 x top_k + 1.1) in (+ 0.6 in) for tables; saved at 100 dpi.

    Args:
        explanation: an `Explanation`.
        indices: samples to draw. Defaults to the first `max_samples`.
        max_samples: limit when `indices` is None. Defaults to 48.
        columns: cells per row. Defaults to min(6, n) for images, min(3, n)
            for tables.
        class_names: output names for captions. Defaults to the explanation's
            `class_names` extra when present.
        input_names: sample names for captions. Defaults to the explanation's
            `input_names` extra, else "#0", "#1", ...
        reduce: channel reduction, as in `Explanation.heatmap`. Defaults to "sum".
        cmap, clip_percentile, alpha: colouring, as in `overlay`.
        shared_scale: one colour scale for every cell. Defaults to True.
        top_k: bars per tabular sample. Defaults to 8.
        title: text above the cells. Defaults to the method and sample count.
        save: optional path (PNG, PDF, SVG); written at 100 dpi.

    Returns:
        matplotlib.figure.Figure.

    Example:

    ```python
    kx.viz.contact_sheet(e, class_names=names, save="sheet.png")
    ```
    """
    from matplotlib.colors import Normalize
    from matplotlib.cm import ScalarMappable

    chosen = _indices(explanation, indices, max_samples)
    count = len(explanation)
    class_names = (
        _names(explanation, "class_names", class_names, explanation.predictions.shape[-1])
        if explanation.predictions.ndim == 2
        else None
    )
    input_names = _names(explanation, "input_names", input_names, count)
    attributions = explanation.attributions
    tabular = attributions.ndim == 2
    if attributions.ndim not in (2, 3, 4):
        raise ValueError(
            f"explanation: expected attributions of shape (N, features), (N, H, W) or "
            f"(N, H, W, C), received {describe(attributions)}."
        )
    columns = int(columns or min(3 if tabular else 6, len(chosen)))
    rows = -(-len(chosen) // columns)
    header = _CELL["header"]
    if title is None:
        title = f"{explanation.method}: {len(chosen)} of {count} sample{'s' if count != 1 else ''}"
    if tabular:
        cell_height = 0.3 * min(top_k, attributions.shape[1]) + 1.1
        figure = _figure(columns * _CELL["table_width"], rows * cell_height + header)
    else:
        width, height = _CELL["image"]
        colorbar = _CELL["colorbar"] if shared_scale else 0.0
        figure = _figure(columns * width + colorbar, rows * height + header)
    figure.suptitle(plain_text(title), fontsize=10)
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis in axes.reshape(-1)[len(chosen) :]:
        axis.set_axis_off()
    if tabular:
        _table_cells(explanation, chosen, axes, class_names, input_names, top_k)
        figure.supxlabel("red: for the explained output    blue: against it", fontsize=8)
    else:
        maps = explanation.heatmap(reduce=reduce)
        symmetric = bool(np.any(maps[chosen] < 0))
        limits = (
            heatmap_limits([maps[i] for i in chosen], symmetric, clip_percentile)
            if shared_scale
            else None
        )
        segments = explanation.extras.get("segments")
        for axis, i in zip(axes.reshape(-1), chosen):
            image = explanation.inputs[i]
            scale = display_scale(np.shape(image)[:2], 64)
            own = limits or color_limits(maps[i], symmetric, clip_percentile)
            _, mixed = sample_pictures(
                image,
                maps[i],
                segments=None if segments is None else segments[i],
                limits=own,
                cmap=cmap,
                alpha=alpha,
                scale=scale,
            )
            axis.imshow(mixed, interpolation="nearest")
            axis.set_title(sample_title(explanation, i, class_names, input_names), fontsize=7)
            axis.set_axis_off()
        if limits is not None:
            vmin, vmax, symmetric = limits
            mappable = ScalarMappable(
                Normalize(vmin, vmax), _colormap(cmap or (DIVERGING if symmetric else SEQUENTIAL))
            )
            bar = figure.colorbar(mappable, ax=axes, shrink=0.7, fraction=0.08)
            bar.set_label("attribution", fontsize=8)
            bar.ax.tick_params(labelsize=7)
            figure.supxlabel(
                f"one colour scale for all cells, saturating at the {clip_percentile:g}th percentile"
                f"{' of |attribution|' if symmetric else ''}"
                f"{'; red supports the explained output, blue opposes it' if symmetric else ''}",
                fontsize=7,
            )
    if save is not None:
        figure.savefig(save, dpi=100)
    return figure


def _table_cells(explanation, chosen, axes, class_names, input_names, top_k):
    values = explanation.attributions
    labels = explanation.extras.get("feature_labels")
    names = explanation.extras.get("feature_names") or [f"x{j}" for j in range(values.shape[1])]
    for axis, i in zip(axes.reshape(-1), chosen):
        order = np.argsort(-np.abs(values[i]), kind="stable")[:top_k][::-1]
        shown = values[i][order]
        text = [plain_text(labels[i][j] if labels is not None else names[j], 32) for j in order]
        axis.barh(
            np.arange(len(order)),
            shown,
            color=[POSITIVE_COLOR if v > 0 else NEGATIVE_COLOR for v in shown],
        )
        axis.set_yticks(np.arange(len(order)), text)
        axis.axvline(0.0, color="black", linewidth=0.8)
        axis.set_title(sample_title(explanation, i, class_names, input_names, limit=40), fontsize=8)
        axis.tick_params(labelsize=7)


def write_contact_sheet(explanation, path, per_page=48, progress=None, **kwargs):
    """Write contact sheets of every sample: pages of a PDF, or numbered PNG files.

    Args:
        explanation: an `Explanation`.
        path: a ".pdf" file (one page per `per_page` samples) or an image file
            (".png"); further pages of an image go to "name-2.png", "name-3.png", ...
        per_page: samples per page. Defaults to 48.
        progress: optional callable, called once per page written.
        **kwargs: passed to `contact_sheet`.

    Returns:
        list of the paths written.

    Example:

    ```python
    kx.viz.write_contact_sheet(e, "saliency.pdf")
    ```
    """
    import os

    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        fail("per_page", "an integer >= 1", per_page)
    path = os.fspath(path)
    pages = [
        list(range(start, min(start + per_page, len(explanation))))
        for start in range(0, len(explanation), per_page)
    ]
    if path.lower().endswith(".pdf"):
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(path) as pdf:
            for page in pages:
                pdf.savefig(contact_sheet(explanation, indices=page, **kwargs), dpi=100)
                if progress is not None:
                    progress()
        return [path]
    stem, suffix = os.path.splitext(path)
    written = []
    for number, page in enumerate(pages, start=1):
        target = path if number == 1 else f"{stem}-{number}{suffix}"
        contact_sheet(explanation, indices=page, save=target, **kwargs)
        written.append(target)
        if progress is not None:
            progress()
    return written
