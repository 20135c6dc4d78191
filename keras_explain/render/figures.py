"""Matplotlib figures of explanations: per-sample panels and bar charts.

Figures are built without pyplot, so they work headless and never pop up
windows; pass `save=` to write a file.
"""

import numpy as np

from keras_explain.engine.errors import describe, fail
from keras_explain.render import card, colors


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


def sample_title(explanation, i, class_names=None, input_names=None, limit=24):
    """A short caption of sample `i`: its name, the prediction and the explained output."""
    name = input_names[i] if input_names is not None else f"#{i}"
    lines = [plain_text(name, limit)]
    summary = card.prediction_summary(explanation, i, class_names, top=0)
    if summary["predicted"] is not None:
        label = plain_text(card.output_label(summary["predicted"], class_names), limit)
        lines.append(f"{label} ({summary['score']:.3g})")
        if summary["target"] != summary["predicted"]:
            explained = plain_text(card.output_label(summary["target"], class_names), limit)
            lines.append(f"explains {explained}")
    elif summary["output"] is not None:
        lines.append(f"output {summary['output']:.4g}")
    return "\n".join(lines)


def new_figure(width, height):
    """A matplotlib Figure of `width` x `height` inches with a constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def chosen_indices(explanation, indices, max_samples):
    """The samples to draw: `indices` checked against the explanation, else the first `max_samples`."""
    count = len(explanation)
    if indices is None:
        return list(range(min(count, max_samples)))
    indices = [int(i) for i in np.atleast_1d(indices)]
    for i in indices:
        if not -count <= i < count:
            fail("indices", f"indices between 0 and {count - 1}", i)
    return indices


def check_drawable(attributions):
    """True for tabular attributions (N, features); images (N, H, W[, C]) give False.

    Raises:
        ValueError: for attributions of any other rank.
    """
    if attributions.ndim not in (2, 3, 4):
        raise ValueError(
            f"explanation: expected attributions of shape (N, features), (N, H, W) or "
            f"(N, H, W, C), received {describe(attributions)}."
        )
    return attributions.ndim == 2


def figure_pixels(figure):
    """A matplotlib figure drawn to an RGB uint8 array (H, W, 3)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _title(explanation, i):
    score = card.prediction_summary(explanation, i, top=0)["target_score"]
    text = f"#{i} target {int(explanation.targets[i])}"
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
    chosen = chosen_indices(explanation, indices, max_samples)
    if check_drawable(explanation.attributions):
        figure = _bar_figure(explanation, chosen, feature_names, top_k)
    else:
        figure = _image_figure(explanation, chosen, reduce, cmap, clip_percentile, alpha)
    if save is not None:
        figure.savefig(save, dpi=120)
    return figure


def _image_figure(explanation, chosen, reduce, cmap, clip_percentile, alpha):
    maps = explanation.heatmap(reduce=reduce)
    figure = new_figure(7.5, 2.4 * len(chosen))
    axes = figure.subplots(len(chosen), 3, squeeze=False)
    for row, i in zip(axes, chosen):
        image = explanation.inputs[i]
        heat = maps[i]
        vmin, vmax, symmetric = colors.color_limits(heat, None, clip_percentile)
        row[0].imshow(colors.to_rgb_uint8(image), interpolation="nearest")
        row[0].set_title(_title(explanation, i), fontsize=9)
        shown = row[1].imshow(
            heat,
            cmap=colors.cmap_name(cmap, symmetric),
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        row[1].set_title(explanation.method, fontsize=9)
        figure.colorbar(shown, ax=row[1], shrink=0.8)
        row[2].imshow(
            colors.overlay(image, heat, alpha=alpha, cmap=cmap, clip_percentile=clip_percentile),
            interpolation="nearest",
        )
        row[2].set_title("overlay", fontsize=9)
        for axis in row:
            axis.set_axis_off()
    return figure


def bar_colors(weights):
    """One bar colour per weight: `POSITIVE_COLOR` above 0, `NEGATIVE_COLOR` otherwise."""
    return [colors.POSITIVE_COLOR if w > 0 else colors.NEGATIVE_COLOR for w in weights]


def _bar_figure(explanation, chosen, feature_names, top_k):
    size = explanation.attributions.shape[1]
    figure = new_figure(6.0, max(2.0, 0.3 * min(top_k, size) + 0.8) * len(chosen))
    axes = figure.subplots(len(chosen), 1, squeeze=False)[:, 0]
    for axis, i in zip(axes, chosen):
        rows = card.top_features(explanation, i, top_k, used_only=False, names=feature_names)
        rows = rows[::-1]  # the strongest at the top
        weights = [row["weight"] for row in rows]
        axis.barh([row["name"] for row in rows], weights, color=bar_colors(weights))
        axis.axvline(0.0, color="black", linewidth=0.8)
        axis.set_title(_title(explanation, i), fontsize=9)
        axis.tick_params(labelsize=8)
    return figure
