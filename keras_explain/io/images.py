"""Images: PNG and JPEG files read as float32 arrays shaped for a model input.

Pillow is imported only when an image is read.
"""

import os

import numpy as np

from keras_explain.io.messages import file_error, one_line

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: How image pixels (0..255) become model inputs, by `preprocess` name.
PREPROCESSING = {
    "none": "kept in [0, 255]",
    "unit": "scaled to [0, 1]",
    "minus-one-one": "scaled to [-1, 1]",
}

_MODE_TEXT = {
    "L": "grey",
    "LA": "grey with alpha",
    "RGB": "RGB",
    "RGBA": "RGBA",
    "P": "palette",
    "1": "black and white",
}


def check_preprocess(preprocess):
    """Check that `preprocess` names one of `PREPROCESSING`; return it.

    Raises:
        ValueError: for any other value.
    """
    if preprocess not in PREPROCESSING:
        raise ValueError(
            f"preprocess: expected one of {', '.join(map(repr, PREPROCESSING))}, received {preprocess!r}."
        )
    return preprocess


def _mode_text(mode):
    return _MODE_TEXT.get(mode, mode)


def read_image(path, size=None, channels=3, preprocess="unit", name="inputs"):
    """Read one PNG or JPEG image as a float32 array the model can take.

    The image is turned upright by its EXIF orientation, converted to grey
    (channels=1 or None; ITU-R 601 luma), RGB (3) or RGBA (4), resized to
    `size` with Pillow's bilinear filter (antialiased when shrinking) when its
    size differs, and scaled per `preprocess`.

    Args:
        path: the image file.
        size: (H, W) the model takes, or None to keep the image's size.
        channels: 1, 3, 4, or None for a model taking (N, H, W) without a
            channel axis. Defaults to 3.
        preprocess: "unit" (pixels / 255, in [0, 1]), "minus-one-one"
            (pixels / 127.5 - 1) or "none" (0..255). Defaults to "unit".
        name: the argument named in error messages. Defaults to "inputs".

    Returns:
        (np.ndarray float32 (H, W, C) or (H, W), note), the note saying what
        was done: "16x16 RGB, converted to grey, resized to 8x8 (bilinear),
        scaled to [0, 1]".

    Raises:
        ValueError: for a file that cannot be decoded, an unknown
            `preprocess` or a channel count other than 1, 3, 4 or None.
    """
    path = os.fspath(path)
    check_preprocess(preprocess)
    if channels not in (None, 1, 3, 4):
        raise ValueError(
            f"{name}: expected a model taking images with 1, 3 or 4 channels, received a "
            f"model input with {channels} channels; pass .npy arrays instead."
        )
    image, parts = _decode(path, name)
    image = _convert(image, channels, parts)
    if size is not None:
        image = _resize(image, size, parts)
    pixels = np.asarray(image, dtype=np.float32)
    if channels == 1:
        pixels = pixels[..., None]
    if preprocess == "unit":
        pixels = pixels / np.float32(255.0)
    elif preprocess == "minus-one-one":
        pixels = pixels / np.float32(127.5) - np.float32(1.0)
    parts.append(PREPROCESSING[preprocess])
    return pixels.astype(np.float32), ", ".join(parts)


def _decode(path, name):
    """(the image turned upright, [the notes so far]) of a PNG or JPEG file."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.copy()
            orientation = opened.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise file_error(
            name, "a PNG or JPEG image", path, f"which cannot be decoded ({one_line(error)})"
        ) from None
    parts = [f"{image.width}x{image.height} {_mode_text(image.mode)}"]
    if orientation not in (None, 1):
        image = ImageOps.exif_transpose(image)
        parts.append("turned upright (EXIF orientation)")
    return image, parts


def _convert(image, channels, parts):
    """The image in the mode that gives `channels` (8 bits), noting what changed."""
    from PIL import Image

    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit or float greys: bring to 8 bits so every image shares one scale.
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I") else max(float(values.max()), 1.0)
        image = Image.fromarray(
            np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8), "L"
        )
        parts.append("reduced to 8 bits")
    target_mode = {None: "L", 1: "L", 3: "RGB", 4: "RGBA"}[channels]
    if image.mode != target_mode:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert(target_mode)
        parts.append(f"converted to {_mode_text(target_mode)}")
        if has_alpha and target_mode != "RGBA":
            parts.append("alpha dropped")
    return image


def _resize(image, size, parts):
    """The image at (H, W) `size` (None keeps that side), bilinear, noting a change."""
    from PIL import Image

    height = image.height if size[0] is None else int(size[0])
    width = image.width if size[1] is None else int(size[1])
    if (width, height) != image.size:
        image = image.resize((width, height), Image.Resampling.BILINEAR)
        parts.append(f"resized to {width}x{height} (bilinear)")
    return image
