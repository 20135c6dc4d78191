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


def caption_names(explanation, class_names=None, input_names=None):
    """The class and input names captions use: the ones given, else the explanation's parts.

    Args:
        explanation: the explanation.
        class_names: output names, or None for the `class_names` part.
        input_names: sample names, or None for the `input_names` part.

    Returns:
        (list of class names or None, list of input names or None).

    Raises:
        ValueError: for names that are not a list, or of the wrong length.
    """
    predictions = np.asarray(explanation.predictions)
    if predictions.ndim == 2:
        class_names = card.resolve_names(explanation, "class_names", class_names, predictions.shape[1])
    else:
        class_names = None
    input_names = card.resolve_names(explanation, "input_names", input_names, len(explanation))
    return class_names, input_names


def panel_title(explanation, i, class_names=None, limit=40, separator="; "):
    """The title of sample `i` in `plot_explanation`.

    Reads "#0 explained: 1 'yes' (0.731)": the explained output (named when
    `class_names` are given) and the model's value for it, followed by
    "; predicted: 0 'no' (0.269)" when the model predicts another output.

    Args:
        explanation: the explanation.
        i: the sample.
        class_names: output names, or None.
        limit: the longest class name kept. Defaults to 40.
        separator: the text before "predicted". Defaults to "; ".

    Returns:
        str, safe to draw with matplotlib.
    """
    summary = card.prediction_summary(explanation, i, class_names, top=0)
    text = f"#{i} explained: {plain_text(card.output_label(summary['target'], class_names), limit)}"
    if summary["target_score"] is not None:
        text += f" ({summary['target_score']:.3g})"
    predicted = summary["predicted"]
    if predicted is not None and predicted != summary["target"]:
        text += (
            f"{separator}predicted: {plain_text(card.output_label(predicted, class_names), limit)}"
            f" ({summary['score']:.3g})"
        )
    return text


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
    strongest at the top, positive in red and negative in blue; each bar is
    labelled by the `feature_labels` part (LIME's conditions, such as
    "petal width > 0.87") when the explanation has it, else by the feature's
    name. Each sample is titled as `panel_title` says, naming outputs by the
    explanation's `class_names` when it has them, for example
    "#0 explained: 1 'yes' (0.731)".

    Args:
        explanation: an `Explanation`.
        indices: samples to draw. Defaults to the first `max_samples`.
        reduce: channel reduction, as in `Explanation.heatmap`. Defaults to "sum".
        max_samples: limit when `indices` is None. Defaults to 8.
        save: optional path; the figure is written there.
        cmap, clip_percentile, alpha: colouring, as in `overlay`.
        feature_names: names for tabular features without `feature_labels`.
            Defaults to the `feature_names` part, else "x0", "x1", ...
        top_k: bars per tabular sample. Defaults to 10.

    Returns:
        matplotlib.figure.Figure.

    Raises:
        ValueError: for indices out of range, attributions that are neither
            tables nor images, or `class_names` that are not one per output.
    """
    chosen = chosen_indices(explanation, indices, max_samples)
    class_names, _ = caption_names(explanation)
    if check_drawable(explanation.attributions):
        figure = _bar_figure(explanation, chosen, feature_names, top_k, class_names)
    else:
        figure = _image_figure(explanation, chosen, reduce, cmap, clip_percentile, alpha, class_names)
    if save is not None:
        figure.savefig(save, dpi=120)
    return figure


def _image_figure(explanation, chosen, reduce, cmap, clip_percentile, alpha, class_names):
    maps = explanation.heatmap(reduce=reduce)
    figure = new_figure(7.5, 2.4 * len(chosen))
    axes = figure.subplots(len(chosen), 3, squeeze=False)
    for row, i in zip(axes, chosen):
        image = explanation.inputs[i]
        heat = maps[i]
        vmin, vmax, symmetric = colors.color_limits(heat, None, clip_percentile)
        row[0].imshow(colors.to_rgb_uint8(image), interpolation="nearest")
        row[0].set_title(panel_title(explanation, i, class_names, 16, "\n"), fontsize=9)
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


def _bar_figure(explanation, chosen, feature_names, top_k, class_names):
    size = explanation.attributions.shape[1]
    figure = new_figure(6.0, max(2.0, 0.3 * min(top_k, size) + 0.8) * len(chosen))
    axes = figure.subplots(len(chosen), 1, squeeze=False)[:, 0]
    for axis, i in zip(axes, chosen):
        rows = card.top_features(explanation, i, top_k, used_only=False, names=feature_names)
        rows = rows[::-1]  # the strongest at the top
        weights = [row["weight"] for row in rows]
        # Positions, not category names: two equal labels still get a bar each.
        axis.barh(np.arange(len(rows)), weights, color=bar_colors(weights))
        axis.set_yticks(np.arange(len(rows)), [plain_text(row["label"], 48) for row in rows])
        axis.axvline(0.0, color="black", linewidth=0.8)
        axis.set_title(panel_title(explanation, i, class_names), fontsize=9)
        axis.tick_params(labelsize=8)
    return figure
