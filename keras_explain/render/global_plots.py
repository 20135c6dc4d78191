"""Global plots of tabular explanations: the summary (beeswarm, bar, violin) and dependence plots.

They read what shap's `summary_plot` and `dependence_plot` show, drawn
statically with matplotlib (no pyplot, no JavaScript), for the explanations
of any method. Each returns the Figure with the numbers it drew in
`figure.keras_explain_data` (see `keras_explain.render.plot_output`).
"""

import numpy as np

from keras_explain.engine.errors import check_choice, describe
from keras_explain.feature_views import check_max_features, table_view
from keras_explain.render import colors, figures
from keras_explain.render.plot_output import (
    axes_for,
    finish,
    resolve_feature,
    scaled_values,
    seeded_rows,
    value_colorbar,
    value_colormap,
)
from keras_explain.summaries import Summary, read_summary, summarize

KINDS = ("auto", "beeswarm", "bar", "violin")
#: Bins of the attribution axis in which beeswarm points stack.
SWARM_BINS = 100
#: Interaction strengths read at most this many rows (a seeded choice beyond).
INTERACTION_ROWS = 10_000


def _read(explanations, by_class, kind):
    """(Summary, Table or None, the kind drawn) of what a summary plot was given."""
    if isinstance(explanations, (Summary, dict)):
        summary, table = read_summary(explanations), None
    else:
        items = list(explanations) if isinstance(explanations, (list, tuple)) else [explanations]
        summary = summarize(items, by_class=by_class, keep=False)
        table = None if summary.kind == "global" or summary.map_shape is not None else table_view(items, "summary_plot")
    if summary.map_shape is not None:
        raise ValueError(
            f"summary_plot: expected tabular attributions (N, n_features), received image attributions "
            f"of maps {summary.map_shape}; use kx.viz.class_average_plot or kx.viz.extremes_sheet."
        )
    if kind == "auto":
        kind = "bar" if table is None else "beeswarm"
    if kind != "bar" and table is None:
        given = "a global explanation" if summary.kind == "global" else describe(explanations)
        raise ValueError(
            f"kind: expected 'bar' for a summary without per-example attributions (kind={kind!r} needs them), "
            f"received {given}."
        )
    return summary, table, kind


def summary_plot(
    explanations,
    kind="auto",
    max_features=20,
    ax=None,
    save=None,
    max_points=5000,
    by_class="auto",
    random_state=0,
    cmap=None,
    class_names=None,
):
    """Which features matter across the examples, strongest at the top, as shap.summary_plot shows it.

    Features are ordered by mean |attribution| (`Summary.order`).

    * "beeswarm": one point per example and feature at its attribution,
      stacked where points crowd, coloured by the feature's value from low
      (blue) to high (red) between its 5th and 95th percentiles (grey when
      the inputs are not the feature values). Beyond `max_points` examples,
      a seeded choice of `max_points` of them is drawn (the same for every
      feature), and the title says so.
    * "bar": the mean |attribution| per feature; by class (several
      explained classes, see `summarize`), one bar per class; for a global
      explanation (PermutationImportance) the importances with their
      standard deviation as error bars.
    * "violin": the distribution of each feature's attributions, with its
      quartiles marked.

    Args:
        explanations: an `Explanation` of a table (N, F), a list of them
            (shards), or a `Summary` (bars only).
        kind: "auto", "beeswarm", "bar" or "violin". Defaults to "auto":
            "beeswarm" for per-example explanations, "bar" for a Summary or
            a global explanation.
        max_features: features drawn. Defaults to 20.
        ax: a matplotlib Axes to draw on. Defaults to None (a new figure).
        save: optional path; the figure is written there.
        max_points: the most examples a beeswarm draws; None draws all.
            Defaults to 5000.
        by_class: per-class bars, as in `summarize`. Defaults to "auto".
        random_state: seed of the choice beyond `max_points`. Defaults to 0.
        cmap: colour map name of the feature values. Defaults to blue, purple, red.
        class_names: names of the classes in the legend of per-class bars.
            Defaults to the explanation's `class_names`.

    Returns:
        matplotlib.figure.Figure; `figure.keras_explain_data` holds "kind",
        "features" (names, top first), "order" (their indices), "mean_abs",
        and per kind: "rows" (examples drawn), "sampled", "points" (beeswarm),
        "values" (bar lengths: (features,) or (features, classes)), "std",
        "classes" (bar), "quartiles" (features, 3) (violin).

    Raises:
        ValueError: for another kind, images (see `class_average_plot`), a
            beeswarm or violin of a Summary or of a global explanation.

    Example:

    ```python
    e = kx.KernelShap(model, background).explain(x_test)
    kx.viz.summary_plot(e, save="summary.png")
    kx.viz.summary_plot(e, kind="bar").keras_explain_data["values"]
    ```
    """
    check_choice("kind", kind, KINDS)
    max_features = check_max_features(max_features)
    summary, table, kind = _read(explanations, by_class, kind)
    shown = summary.order[:max_features]
    figure, axis = axes_for(ax, 7.0 if kind != "bar" else 6.0, 0.9 + 0.32 * len(shown))
    data = {"kind": kind, "features": [summary.labels[j] for j in shown], "order": shown,
            "mean_abs": summary.mean_abs[shown]}
    if kind == "beeswarm":
        data.update(_beeswarm(figure, axis, table, shown, max_points, random_state, cmap))
    elif kind == "violin":
        data.update(_violins(axis, table, shown))
    else:
        data.update(_bars(axis, summary, shown, class_names or _class_names(explanations)))
    _feature_axis(axis, summary, data, random_state)
    return finish(figure, data, save, [axis])


def _feature_axis(axis, summary, data, random_state):
    """The features' names on the rows, the strongest at the top, and the title (with the sampling)."""
    shown = len(data["order"])
    axis.set_yticks(np.arange(shown)[::-1], [figures.plain_text(n, 32) for n in data["features"]])
    axis.set_ylim(-0.7, shown - 0.3)
    axis.tick_params(labelsize=8)
    title = f"{summary.method}: {shown} of {len(summary.order)} features by mean |attribution|"
    if data.get("sampled"):
        drawn = f"{len(data['rows']):,} of {summary.count:,} examples drawn"
        title += f"\n{drawn} (seeded choice, random_state={random_state})"
    axis.set_title(figures.plain_text(title), fontsize=9)


def _class_names(explanations):
    first = explanations[0] if isinstance(explanations, (list, tuple)) and explanations else explanations
    extras = getattr(first, "extras", None)
    return None if extras is None else extras.get("class_names")


def swarm_offsets(values, bins=SWARM_BINS):
    """Vertical offsets in [-0.4, 0.4] that stack points of close values, as a beeswarm does.

    The values' range is cut into `bins` equal bins; the k-th point of a bin
    (in row order) goes up (odd k) or down (even k) by (k + 1) // 2 steps,
    one step being 0.4 / the most steps of any bin.
    """
    values = np.asarray(values, np.float64)
    if values.size == 0:
        return values.copy()
    low, span = values.min(), np.ptp(values)
    index = np.zeros(values.size, np.int64) if span == 0 else np.minimum(
        ((values - low) / span * bins).astype(np.int64), bins - 1
    )
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    rank = np.arange(values.size) - np.searchsorted(sorted_index, sorted_index, side="left")
    steps = (rank + 1) // 2 * np.where(rank % 2 == 1, 1, -1)
    offsets = np.empty(values.size)
    offsets[order] = steps
    return offsets * (0.4 / max(int(np.abs(steps).max()), 1))


def _beeswarm(figure, axis, table, shown, max_points, random_state, cmap):
    rows, sampled = seeded_rows(len(table.attributions), max_points, random_state)
    xs, ys, shades = [], [], []
    for position, j in zip(np.arange(len(shown))[::-1], shown):
        x = table.attributions[rows, j]
        xs.append(x)
        ys.append(position + swarm_offsets(x))
        shades.append(scaled_values(table.values[rows, j]))
    x, y, shade = np.concatenate(xs), np.concatenate(ys), np.concatenate(shades)
    known = np.isfinite(shade)
    colormap = value_colormap(cmap)
    axis.scatter(x[~known], y[~known], s=9, color="#999999", linewidths=0, rasterized=True)
    axis.scatter(x[known], y[known], c=shade[known], cmap=colormap, vmin=0.0, vmax=1.0, s=9,
                 linewidths=0, rasterized=True)
    axis.axvline(0.0, color="#555555", linewidth=0.8, zorder=0)
    axis.set_xlabel(f"attribution ({figures.plain_text(table.method)})", fontsize=9)
    value_colorbar(figure, axis, colormap)
    return {"rows": rows, "sampled": sampled, "points": int(x.size)}


def _violins(axis, table, shown):
    positions = np.arange(len(shown))[::-1]
    quartiles = np.percentile(table.attributions[:, shown], [25, 50, 75], axis=0).T
    spread = np.ptp(table.attributions[:, shown], axis=0) > 0
    if spread.any():
        parts = axis.violinplot(
            [table.attributions[:, j] for j in shown[spread]],
            positions=positions[spread],
            orientation="horizontal",
            widths=0.8,
            showextrema=False,
        )
        for body in parts["bodies"]:
            body.set_facecolor("#8fa8c8")
            body.set_edgecolor("#4a6590")
            body.set_alpha(0.8)
    axis.hlines(positions, quartiles[:, 0], quartiles[:, 2], color="#333333", linewidth=2.0)
    axis.scatter(quartiles[:, 1], positions, color="white", edgecolors="#333333", s=16, zorder=3)
    axis.axvline(0.0, color="#555555", linewidth=0.8, zorder=0)
    axis.set_xlabel(f"attribution ({figures.plain_text(table.method)}); bar: quartiles, dot: median", fontsize=9)
    return {"quartiles": quartiles}


def _bars(axis, summary, shown, class_names):
    positions = np.arange(len(shown))[::-1]
    if summary.kind == "global":
        values, spread = summary.mean[shown], summary.std[shown]
        axis.barh(positions, values, xerr=spread, color=figures.bar_colors(values), capsize=2)
        axis.axvline(0.0, color="black", linewidth=0.8)
        axis.set_xlabel("importance (the drop of the score); error bars: standard deviation", fontsize=9)
        return {"values": values, "std": spread, "classes": None}
    if not summary.per_class:
        values = summary.mean_abs[shown]
        axis.barh(positions, values, color=colors.POSITIVE_COLOR)
        axis.set_xlabel("mean |attribution|", fontsize=9)
        return {"values": values, "std": summary.std_abs[shown], "classes": None}
    classes = summary.classes
    values = np.stack([summary.per_class[c].mean_abs[shown] for c in classes], axis=1)
    height = 0.8 / len(classes)
    palette = colors.colormap("tab10")
    for k, c in enumerate(classes):
        label = f"{c}" if class_names is None or not 0 <= c < len(class_names) else f"{c} {class_names[c]!r}"
        offset = 0.4 - height * (k + 0.5)
        axis.barh(positions + offset, values[:, k], height=height, color=palette(k % 10),
                  label=figures.plain_text(f"class {label} ({summary.per_class[c].count})", 40))
    axis.legend(fontsize=7, loc="lower right", title="explained class (examples)", title_fontsize=7)
    axis.set_xlabel("mean |attribution| over the examples explained for each class", fontsize=9)
    return {"values": values, "std": None, "classes": list(classes)}


def interaction_strengths(index, attributions, values, random_state=0):
    """How strongly each feature's value seems to modulate feature `index`'s attribution.

    The rule (in the spirit of shap's `approximate_interactions`): sort the
    examples by feature `index`'s value and cut them into consecutive bins of
    max(1, min(50, N // 10)) examples. Within a bin the feature's own value
    barely changes, so the spread of its attribution there is what its value
    alone does not explain. A feature's strength is the sum over the bins of
    the |Pearson correlation| between that attribution and the feature's
    values within the bin; bins where either is constant add 0, and so do
    NaN values. At most `INTERACTION_ROWS` examples are read (a seeded
    choice beyond).

    Args:
        index: the feature whose attribution is explained.
        attributions: (N, F) float attributions.
        values: (N, F) float feature values.
        random_state: seed of the choice of rows. Defaults to 0.

    Returns:
        np.ndarray float64 (F,), 0 for `index` itself.
    """
    rows, _ = seeded_rows(len(attributions), INTERACTION_ROWS, random_state)
    own = values[rows, index]
    order = rows[np.argsort(np.where(np.isfinite(own), own, np.inf), kind="stable")]
    target, others = attributions[order, index], np.nan_to_num(values[order], nan=0.0)
    size = max(1, min(50, len(order) // 10))
    strengths = np.zeros(values.shape[1])
    for start in range(0, len(order), size):
        a = target[start : start + size] - target[start : start + size].mean()
        v = others[start : start + size] - others[start : start + size].mean(axis=0)
        scale = np.sqrt((a**2).sum() * (v**2).sum(axis=0))
        usable = scale > 0
        strengths[usable] += np.abs((a[:, None] * v[:, usable]).sum(axis=0) / scale[usable])
    strengths[index] = 0.0
    return strengths


def dependence_plot(explanations, feature, color_by="auto", ax=None, save=None, max_points=None, random_state=0,
                    cmap=None):
    """A feature's attribution against its value, coloured by another feature, as shap.dependence_plot.

    Args:
        explanations: an `Explanation` of a table (N, F) whose inputs are
            the feature values, or a list of them.
        feature: the feature, by name or index.
        color_by: "auto" (the feature of `interaction_strengths` with the
            largest strength; none when every strength is 0), a feature
            name or index, or None (one colour). Defaults to "auto".
        ax: a matplotlib Axes to draw on. Defaults to None (a new figure).
        save: optional path; the figure is written there.
        max_points: the most examples drawn (a seeded choice beyond); None
            draws all. Defaults to None.
        random_state: seed of the choices of rows. Defaults to 0.
        cmap: colour map name of the colouring feature. Defaults to blue, purple, red.

    Returns:
        matplotlib.figure.Figure; `figure.keras_explain_data` holds
        "feature" (name), "index", "x" (its values), "y" (its attributions),
        "rows" (examples drawn), "color_by" (name or None), "color_index"
        (index or None) and "interactions" ((F,) strengths, with "auto").

    Raises:
        ValueError: for an unknown feature, images, or inputs that are not
            one value per feature.

    Example:

    ```python
    kx.viz.dependence_plot(e, "age", save="age.png").keras_explain_data["color_by"]
    ```
    """
    items = list(explanations) if isinstance(explanations, (list, tuple)) else [explanations]
    table = table_view(items, "dependence_plot")
    index = resolve_feature(table.names, feature)
    if not np.isfinite(table.values[:, index]).any():
        raise ValueError(
            "dependence_plot: expected explanations whose inputs are the feature values (N, n_features), "
            f"received inputs of another shape for attributions of shape {table.attributions.shape}."
        )
    strengths, colour = None, None
    if isinstance(color_by, str) and color_by == "auto":
        strengths = interaction_strengths(index, table.attributions, table.values, random_state)
        colour = int(np.argmax(strengths)) if strengths.max() > 0 else None
    elif color_by is not None:
        colour = resolve_feature(table.names, color_by, "color_by")
    rows, _ = seeded_rows(len(table.attributions), max_points, random_state)
    x, y = table.values[rows, index], table.attributions[rows, index]
    figure, axis = axes_for(ax, 6.0, 4.2)
    if colour is None:
        axis.scatter(x, y, s=10, color=colors.POSITIVE_COLOR, linewidths=0, rasterized=True)
    else:
        colormap = value_colormap(cmap)
        shade = scaled_values(table.values[rows, colour])
        axis.scatter(x, y, c=shade, cmap=colormap, vmin=0.0, vmax=1.0, s=10, linewidths=0, rasterized=True)
        value_colorbar(figure, axis, colormap, table.names[colour])
    axis.axhline(0.0, color="#555555", linewidth=0.8, zorder=0)
    axis.set_xlabel(figures.plain_text(table.names[index], 60), fontsize=9)
    axis.set_ylabel(f"attribution of {figures.plain_text(table.names[index], 30)}", fontsize=9)
    axis.set_title(f"{figures.plain_text(table.method)}: dependence on {figures.plain_text(table.names[index], 40)}",
                   fontsize=9)
    axis.tick_params(labelsize=8)
    data = {"feature": table.names[index], "index": index, "x": x, "y": y, "rows": rows,
            "color_by": None if colour is None else table.names[colour], "color_index": colour,
            "interactions": strengths}
    return finish(figure, data, save, [axis])
