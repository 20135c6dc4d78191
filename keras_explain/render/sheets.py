"""Contact sheets: many samples of an explanation in one figure, or pages of them."""

import os

import numpy as np

from keras_explain.engine.errors import fail
from keras_explain.render import card, colors, figures, pictures

#: Cell sizes in inches: an image cell (width, height), the title band, the
#: colour bar beside image cells and the width of a table cell.
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
    chosen = figures.chosen_indices(explanation, indices, max_samples)
    captions = figures.caption_names(explanation, class_names, input_names)
    tabular = figures.check_drawable(explanation.attributions)
    figure, axes = _sheet_figure(explanation, chosen, columns, tabular, shared_scale, top_k, title)
    if tabular:
        _table_cells(explanation, chosen, axes, captions, top_k)
        figure.supxlabel("red: for the explained output    blue: against it", fontsize=8)
    else:
        colouring = {"cmap": cmap, "clip_percentile": clip_percentile, "alpha": alpha}
        limits = _image_cells(explanation, chosen, axes, captions, reduce, shared_scale, colouring)
        if limits is not None:
            _shared_colorbar(figure, axes, limits, cmap, clip_percentile)
    if save is not None:
        figure.savefig(save, dpi=100)
    return figure


def _sheet_figure(explanation, chosen, columns, tabular, shared_scale, top_k, title):
    """The empty figure of a sheet and its (rows, columns) axes, unused cells hidden."""
    count = len(explanation)
    columns = int(columns or min(3 if tabular else 6, len(chosen)))
    rows = -(-len(chosen) // columns)
    header = _CELL["header"]
    if title is None:
        title = f"{explanation.method}: {len(chosen)} of {count} sample{'s' if count != 1 else ''}"
    if tabular:
        cell_height = 0.3 * min(top_k, explanation.attributions.shape[1]) + 1.1
        figure = figures.new_figure(columns * _CELL["table_width"], rows * cell_height + header)
    else:
        width, height = _CELL["image"]
        colorbar = _CELL["colorbar"] if shared_scale else 0.0
        figure = figures.new_figure(columns * width + colorbar, rows * height + header)
    figure.suptitle(figures.plain_text(title), fontsize=10)
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis in axes.reshape(-1)[len(chosen) :]:
        axis.set_axis_off()
    return figure, axes


def _image_cells(explanation, chosen, axes, captions, reduce, shared_scale, colouring):
    """Draw one overlay per sample; returns the shared limits, or None without them."""
    maps = explanation.heatmap(reduce=reduce)
    clip_percentile = colouring["clip_percentile"]
    symmetric = bool(np.any(maps[chosen] < 0))
    limits = (
        colors.heatmap_limits([maps[i] for i in chosen], symmetric, clip_percentile)
        if shared_scale
        else None
    )
    segments = explanation.extras.get("segments")
    for axis, i in zip(axes.reshape(-1), chosen):
        image = explanation.inputs[i]
        _, mixed = pictures.sample_pictures(
            image,
            maps[i],
            segments=None if segments is None else segments[i],
            limits=limits or colors.color_limits(maps[i], symmetric, clip_percentile),
            cmap=colouring["cmap"],
            alpha=colouring["alpha"],
            scale=colors.display_scale(np.shape(image)[:2], 64),
        )
        axis.imshow(mixed, interpolation="nearest")
        axis.set_title(figures.sample_title(explanation, i, *captions), fontsize=7)
        axis.set_axis_off()
    return limits


def _shared_colorbar(figure, axes, limits, cmap, clip_percentile):
    """One colour bar for every cell, and a line saying how the scale reads."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    vmin, vmax, symmetric = limits
    mappable = ScalarMappable(Normalize(vmin, vmax), colors.colormap(colors.cmap_name(cmap, symmetric)))
    bar = figure.colorbar(mappable, ax=axes, shrink=0.7, fraction=0.08)
    bar.set_label("attribution", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    figure.supxlabel(
        f"one colour scale for all cells, saturating at the {clip_percentile:g}th percentile"
        f"{' of |attribution|' if symmetric else ''}"
        f"{'; red supports the explained output, blue opposes it' if symmetric else ''}",
        fontsize=7,
    )


def _table_cells(explanation, chosen, axes, captions, top_k):
    """Draw one bar chart of the `top_k` strongest features per sample."""
    for axis, i in zip(axes.reshape(-1), chosen):
        rows = card.top_features(explanation, i, top_k, used_only=False)[::-1]
        weights = [row["weight"] for row in rows]
        axis.barh(np.arange(len(rows)), weights, color=figures.bar_colors(weights))
        axis.set_yticks(
            np.arange(len(rows)), [figures.plain_text(row["label"], 32) for row in rows]
        )
        axis.axvline(0.0, color="black", linewidth=0.8)
        title = figures.sample_title(explanation, i, *captions, limit=40)
        axis.set_title(title, fontsize=8)
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
