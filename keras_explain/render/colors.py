"""Colour maps, colour scales and the heatmap-on-image blend.

Signed maps use a diverging colour map centred on 0 (blue negative, red
positive); magnitudes use a sequential one. Everything here takes and
returns numpy arrays; matplotlib is only used for its colour tables.
"""

import functools

import numpy as np

from keras_explain.engine.errors import check_float, fail

#: Colour map of signed attributions (blue negative, white 0, red positive).
DIVERGING = "RdBu_r"
#: Colour map of magnitudes (dark to bright).
SEQUENTIAL = "inferno"
#: Bar colours of tabular charts: attributions for the explained output, and against it.
POSITIVE_COLOR = "#b2182b"
NEGATIVE_COLOR = "#2166ac"
#: Colour of LIME superpixel boundaries, RGB in [0, 1].
BOUNDARY_COLOR = (1.0, 1.0, 0.0)


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


def cmap_name(cmap, symmetric):
    """`cmap` when given, else the diverging map for symmetric scales, the sequential one otherwise."""
    return cmap or (DIVERGING if symmetric else SEQUENTIAL)


@functools.lru_cache(maxsize=32)
def colormap(name):
    """The matplotlib colour map called `name`, its lookup table built once."""
    import matplotlib

    table = matplotlib.colormaps[name]
    table(0.0)  # build the lookup table once
    return table


def colormap_stops(cmap, count=11):
    """`count` evenly spaced colours of a colour map as "#rrggbb" strings (for CSS legends)."""
    colours = colormap(cmap)(np.linspace(0.0, 1.0, count))[:, :3]
    return ["#" + "".join(f"{int(round(c * 255)):02x}" for c in colour) for colour in colours]


def _scaled_colours(heatmap, limits, cmap):
    """(colours RGB floats (H, W, 3), positions in [0, 1] on the scale) of a heatmap."""
    vmin, vmax, symmetric = limits
    scaled = np.clip((heatmap - vmin) / (vmax - vmin), 0.0, 1.0)
    return colormap(cmap_name(cmap, symmetric))(scaled)[..., :3], scaled


def colorize(heatmap, cmap=None, symmetric=None, clip_percentile=99.5):
    """Map a 2-D heatmap to RGB floats in [0, 1] (H, W, 3)."""
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim != 2:
        fail("heatmap", "a 2-D map (H, W)", heatmap)
    colours, _ = _scaled_colours(heatmap, color_limits(heatmap, symmetric, clip_percentile), cmap)
    return colours


def fit_heatmap(heatmap, shape):
    """A 2-D heatmap as float64, resized (bilinear) to `shape` (H, W) when its size differs."""
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.shape != tuple(shape):
        from skimage.transform import resize

        heatmap = resize(heatmap, tuple(shape), order=1, mode="edge", anti_aliasing=False)
    return heatmap


def blend(image, heatmap, limits, cmap=None, alpha=0.6):
    """`overlay` with given colour limits (for several pictures on one scale).

    Each pixel's opacity grows with the strength of its attribution: |value|
    against the largest |limit| on a symmetric scale, its position between
    the limits otherwise.

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
    colours, scaled = _scaled_colours(heatmap, limits, cmap)
    strength = np.abs(heatmap) / max(abs(vmin), abs(vmax)) if symmetric else scaled
    opacity = alpha * np.clip(strength, 0.0, 1.0)[..., None]
    blended = (1.0 - opacity) * base + opacity * colours
    return np.clip(np.round(blended * 255.0), 0, 255).astype(np.uint8)


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
    rgb = to_rgb_uint8(image)
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim != 2:
        fail("heatmap", "a 2-D map (h, w)", heatmap)
    heatmap = fit_heatmap(heatmap, rgb.shape[:2])
    limits = color_limits(heatmap, symmetric, clip_percentile)
    return blend(rgb, heatmap, limits, cmap=cmap, alpha=alpha)


def display_scale(shape, minimum=128, side="longer"):
    """The integer factor that brings one side of an image to at least `minimum` pixels.

    Args:
        shape: (H, W, ...) of the image.
        minimum: the smallest size of that side. Defaults to 128.
        side: "longer" or "shorter": which side must reach `minimum`.
            Defaults to "longer".
    """
    sides = (int(shape[0]), int(shape[1]))
    length = max(sides) if side == "longer" else min(sides)
    return max(1, int(np.ceil(minimum / max(length, 1))))


def enlarge(rgb, scale):
    """Enlarge an image by an integer factor, each pixel a `scale` x `scale` block."""
    scale = int(scale)
    rgb = np.asarray(rgb)
    if scale <= 1:
        return rgb
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
