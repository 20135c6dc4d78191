"""Global views of image explanations: class-average maps and the extremes as a contact sheet.

Each returns the Figure with the numbers it drew in
`figure.keras_explain_data` (see `keras_explain.render.plot_output`).
"""

import numpy as np

from keras_explain.engine.errors import check_float, check_int, fail
from keras_explain.feature_views import check_explanations, example_scores
from keras_explain.render import colors, figures, sheets
from keras_explain.render.plot_output import finish
from keras_explain.summaries import Summary, read_summary, summarize


def class_average_plot(explanations, class_names=None, cmap=None, clip_percentile=99.5, columns=None, save=None):
    """The mean |attribution| map of each explained class: where the model looks, per class.

    One panel per class (one panel of all examples when the summary is not
    by class), on one sequential colour scale from 0 to the
    `clip_percentile` of every map, with one colour bar. Channels of
    (N, H, W, C) attributions are summed as |attribution| (see `summarize`).

    Args:
        explanations: an image `Explanation` (N, H, W) or (N, H, W, C), a
            list of them, or a `Summary` of one.
        class_names: output names for the titles. Defaults to the
            explanation's `class_names`.
        cmap: colour map name. Defaults to "inferno".
        clip_percentile: maps saturate beyond this percentile of all of
            them. Defaults to 99.5.
        columns: panels per row. Defaults to min(4, panels).
        save: optional path; the figure is written there.

    Returns:
        matplotlib.figure.Figure; `figure.keras_explain_data` holds
        "classes" (list, [None] for all examples), "maps" (class -> (H, W)
        mean |attribution|), "counts" (class -> examples) and "limits"
        (vmin, vmax).

    Raises:
        ValueError: for tabular explanations (see `summary_plot`).

    Example:

    ```python
    kx.viz.class_average_plot(kx.GradCAM(model).explain(x_test), save="classes.png")
    ```
    """
    check_float("clip_percentile", clip_percentile, minimum=0.0, maximum=100.0, strict_minimum=True)
    if isinstance(explanations, (Summary, dict)):
        summary, first = read_summary(explanations), None
    else:
        items = list(explanations) if isinstance(explanations, (list, tuple)) else [explanations]
        summary, first = summarize(items, by_class=True, keep=False), items[0]
    if summary.map_shape is None:
        raise ValueError(
            "explanations: expected image attributions (N, H, W) or (N, H, W, C), received attributions of "
            f"{len(summary.order)} table features; for tables use kx.viz.summary_plot."
        )
    names = class_names if class_names is not None else (first.extras.get("class_names") if first else None)
    classes = list(summary.classes) if summary.classes else [None]
    maps = {c: summary.maps["mean_abs" if c is None else f"mean_abs/{c}"] for c in classes}
    counts = {c: summary.count if c is None else summary.per_class[c].count for c in classes}
    vmin, vmax, _ = colors.heatmap_limits(list(maps.values()), symmetric=False, clip_percentile=clip_percentile)
    vmin = 0.0
    columns = check_int("columns", columns, minimum=1, allow_none=True) or min(4, len(classes))
    rows = -(-len(classes) // columns)
    figure = figures.new_figure(columns * 2.2 + 0.9, rows * 2.4 + 0.5)
    axes = figure.subplots(rows, columns, squeeze=False)
    shown = None
    for axis, c in zip(axes.reshape(-1), classes):
        shown = axis.imshow(maps[c], cmap=colors.cmap_name(cmap, False), vmin=vmin, vmax=vmax,
                            interpolation="nearest")
        label = "all examples" if c is None else f"class {figures.plain_text(_class_label(c, names), 24)}"
        axis.set_title(f"{label}\n{counts[c]} example{'s' if counts[c] != 1 else ''}", fontsize=8)
    for axis in axes.reshape(-1):
        axis.set_axis_off()
    bar = figure.colorbar(shown, ax=axes, shrink=0.8)
    bar.set_label("mean |attribution|", fontsize=8)
    figure.suptitle(f"{figures.plain_text(summary.method)}: mean |attribution| per explained class", fontsize=9)
    data = {"classes": classes, "maps": maps, "counts": counts, "limits": (vmin, vmax)}
    return finish(figure, data, save, list(axes.reshape(-1)))


def _class_label(c, names):
    if names is not None and 0 <= c < len(names):
        return f"{c} {names[c]!r}"
    return str(c)


def extreme_indices(scores, k):
    """(the k examples of highest score, highest first; the k of lowest, lowest first), disjoint.

    Ties keep the example order. With fewer than 2k examples, the lowest
    take what the highest left.
    """
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    highest = [int(i) for i in order[:k]]
    rest = [int(i) for i in order[len(highest):][::-1]]
    return highest, rest[:k]


def extremes_sheet(explanation, k=4, save=None, **kwargs):
    """The examples with the highest and the lowest explained scores, as a contact sheet.

    The score of an example is its prediction for the explained output,
    `predictions[i, targets[i]]`. The first row shows the `k` highest
    (highest first), the second row the `k` lowest (lowest first), drawn by
    `contact_sheet` (one colour scale for all cells), each captioned with
    its name (cut to 10 characters) followed by "explained <score>".

    Args:
        explanation: an `Explanation` (images or tables).
        k: examples per row. Defaults to 4.
        save: optional path; the figure is written there.
        **kwargs: passed to `contact_sheet` (class_names, input_names,
            reduce, cmap, clip_percentile, alpha, shared_scale, top_k).

    Returns:
        matplotlib.figure.Figure; `figure.keras_explain_data` holds
        "highest" and "lowest" (example indices, as drawn), "highest_scores"
        and "lowest_scores".

    Raises:
        ValueError: for k < 1 or the errors of `contact_sheet`.

    Example:

    ```python
    kx.viz.extremes_sheet(e, k=6, class_names=names, save="extremes.png")
    ```
    """
    check_explanations([explanation], "explanation")
    k = check_int("k", k, minimum=1)
    for name in ("indices", "columns", "title", "max_samples"):
        if name in kwargs:
            raise TypeError(f"extremes_sheet() chooses {name!r} itself; received {name}={kwargs[name]!r}.")
    scores = example_scores(explanation)
    highest, lowest = extreme_indices(scores, k)
    title = (
        f"{explanation.method}: the {len(highest)} highest explained scores (first row)"
        + (f" and the {len(lowest)} lowest (second row)" if lowest else "")
        + f" of {len(scores)}"
    )
    named = kwargs.pop("input_names", None) or explanation.extras.get("input_names")
    named = [str(n) for n in named] if named is not None else [f"#{i}" for i in range(len(scores))]
    if len(named) != len(scores):
        fail("input_names", f"one name per example ({len(scores)})", named)
    # Captions keep 24 characters: a long name is cut so that the score stays.
    kwargs["input_names"] = [
        f"{name if len(name) <= 10 else name[:9] + '~'}, explained {score:.3g}" for name, score in zip(named, scores)
    ]
    figure = sheets.contact_sheet(explanation, indices=highest + lowest, columns=len(highest), title=title, **kwargs)
    data = {"highest": highest, "lowest": lowest, "highest_scores": scores[highest], "lowest_scores": scores[lowest]}
    return finish(figure, data, save)
