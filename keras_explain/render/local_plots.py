"""Local plots of one example: waterfall, force (static) and LIME's explanation list.

Each returns the Figure with the numbers it drew in
`figure.keras_explain_data` (see `keras_explain.render.plot_output`). The
walk from the base value E[f] to f(x) starts where
`keras_explain.feature_views.base_values` says: the explanation's
`expected_value` (DeepShap, KernelShap, GradientShap), its `baseline_scores`
(Integrated Gradients), else f(x) - sum(attributions).
"""

import numpy as np

from keras_explain.engine.errors import check_int
from keras_explain.feature_views import check_index, check_max_features, local_view
from keras_explain.render import card, colors, figures
from keras_explain.render.plot_output import axes_for, finish

_OTHER_COLOR = "#9e9e9e"


def folded_features(local, max_features):
    """(feature indices shown, the indices folded together): the strongest by |attribution| first.

    With more than `max_features` features, the `max_features - 1` strongest
    are shown and the rest fold into one "N other features" entry.
    """
    order = np.argsort(-np.abs(local.values), kind="stable")
    if len(order) <= max_features:
        return order, order[:0]
    return order[: max_features - 1], order[max_features - 1 :]


def _others(count):
    return f"{count} other feature{'s' if count != 1 else ''}"


def _label(local, j):
    name = figures.plain_text(local.names[j], 28)
    shown = local.shown[j]
    return f"{name} = {figures.plain_text(shown, 14)}" if shown else name


def _output_text(explanation, local, class_names):
    names = class_names if class_names is not None else explanation.extras.get("class_names")
    return figures.plain_text(card.output_label(local.target, names), 30)


def waterfall_plot(explanation, i, max_features=10, ax=None, save=None, class_names=None):
    """How each feature pushes example `i` from the base value E[f] to f(x), as shap's waterfall.

    Read from the bottom: the walk starts at E[f] (see the module), each bar
    adds one feature's attribution (red up, blue down), the weakest at the
    bottom and the strongest at the top, where it ends at
    E[f] + sum(attributions), which is f(x) for additive methods; the
    features beyond `max_features - 1` fold into one "N other features" bar
    at the bottom. When the walk's end differs from the model's f(x) (a
    completeness gap), f(x) is marked apart.

    Args:
        explanation: an `Explanation` (tables (N, F); images are read pixel
            by pixel).
        i: the example.
        max_features: bars drawn, the "other features" bar included.
            Defaults to 10.
        ax: a matplotlib Axes to draw on. Defaults to None (a new figure).
        save: optional path; the figure is written there.
        class_names: output names for the title. Defaults to the
            explanation's `class_names`.

    Returns:
        matplotlib.figure.Figure; `figure.keras_explain_data` holds "labels"
        and "values" of the bars (top to bottom), "features" (the feature
        index of each bar, -1 for the folded one), "starts" (where each bar
        starts), "base", "base_source", "end" (base + sum of the bars),
        "score" (the model's f(x)), "gap" (score - end) and "other_count".

    Raises:
        ValueError: for an index out of range or a model with several inputs.

    Example:

    ```python
    e = kx.DeepShap(model, background).explain(x)
    figure = kx.viz.waterfall_plot(e, 0)
    sum(figure.keras_explain_data["values"])   # == f(x) - E[f]
    ```
    """
    max_features = check_max_features(max_features)
    local = local_view(explanation, i, "waterfall_plot")
    shown, folded = folded_features(local, max_features)
    values = [float(local.values[j]) for j in shown]
    labels = [_label(local, j) for j in shown]
    features = [int(j) for j in shown]
    if len(folded):
        values.append(float(local.values[folded].sum()))
        labels.append(_others(len(folded)))
        features.append(-1)
    values = np.asarray(values)
    # Bar r starts where the bars below it (r + 1, ...) have taken the walk.
    starts = local.base + np.concatenate([np.cumsum(values[::-1])[::-1][1:], [0.0]])
    end = local.base + float(values.sum())
    figure, axis = axes_for(ax, 6.5, 1.2 + 0.38 * len(values))
    _walk_bars(axis, values, starts, local, folded=len(folded) > 0)
    axis.axvline(end, color="#222222", linewidth=0.8)
    axis.set_yticks(np.arange(len(values))[::-1], labels)
    axis.tick_params(labelsize=8)
    gap = local.score - end
    note = f"E[f] = {local.base:.4g} ({local.base_source})    f(x) = {local.score:.4g}"
    if abs(gap) > 1e-6 * max(1.0, abs(local.score)):
        axis.axvline(local.score, color=colors.POSITIVE_COLOR, linestyle=":", linewidth=1.0)
        note += f"    E[f] + sum = {end:.4g} (gap {gap:.3g})"
    axis.set_xlabel(note, fontsize=8)
    axis.set_title(f"{figures.plain_text(explanation.method)}: example #{local.index}, output "
                   f"{_output_text(explanation, local, class_names)}", fontsize=9)
    data = {"labels": labels, "values": values, "features": features, "starts": starts, "base": local.base,
            "base_source": local.base_source, "end": end, "score": local.score, "gap": gap,
            "other_count": len(folded)}
    return finish(figure, data, save, [axis])


def _walk_bars(axis, values, starts, local, folded):
    """The waterfall's bars (top to bottom) with their values, and the base value's line."""
    positions = np.arange(len(values))[::-1]
    bar_colors = figures.bar_colors(values)
    if folded:
        bar_colors[-1] = _OTHER_COLOR
    axis.barh(positions, values, left=starts, color=bar_colors, height=0.7)
    edges = np.concatenate([starts, starts + values, [local.base, local.score]])
    span = max(float(np.ptp(edges)), 1e-12)
    axis.set_xlim(edges.min() - 0.15 * span, edges.max() + 0.15 * span)
    for y, start, value in zip(positions, starts, values):
        axis.text(start + value + (0.01 if value >= 0 else -0.01) * span, y, f"{value:+.3g}", va="center",
                  ha="left" if value >= 0 else "right", fontsize=7)
    axis.axvline(local.base, color="#555555", linestyle="--", linewidth=0.8)


def _force_segments(local, max_features):
    """Positive and negative pushes [(label, value)], the strongest first, the rest folded per sign."""
    shown, folded = folded_features(local, max_features + 1)
    sides = {}
    for sign, keep in ((1, local.values > 0), (-1, local.values < 0)):
        pushes = [(_label(local, j), float(local.values[j])) for j in shown if keep[j]]
        rest = [j for j in folded if keep[j]]
        if rest:
            pushes.append((_others(len(rest)), float(local.values[rest].sum())))
        sides[sign] = pushes
    return sides[1], sides[-1]


def force_plot(explanation, i, max_features=10, ax=None, save=None, class_names=None):
    """shap's force plot of example `i`, static: the pushes up and down that meet at f(x).

    On one line, the positive attributions (red) stack from the left up to
    the output E[f] + sum(attributions) (f(x) for additive methods), the
    strongest nearest to it; the negative ones (blue) stack from the right
    down to it. The red block thus starts at E[f] + (sum of negatives) and
    the blue block ends there plus everything: both meet at the output. The
    `max_features` strongest features get a segment each; the others fold
    into one "N other features" segment per side. Segments wider than 4% of
    the line are labelled.

    Args:
        explanation: an `Explanation` (tables (N, F); images pixel by pixel).
        i: the example.
        max_features: features drawn apart. Defaults to 10.
        ax: a matplotlib Axes to draw on. Defaults to None (a new figure).
        save: optional path; the figure is written there.
        class_names: output names for the title. Defaults to the
            explanation's `class_names`.

    Returns:
        matplotlib.figure.Figure; `figure.keras_explain_data` holds "base",
        "base_source", "end", "score", and "positive" / "negative": lists of
        (label, value, left edge) of the segments.

    Example:

    ```python
    kx.viz.force_plot(kx.KernelShap(model, background).explain(x), 0, save="force.png")
    ```
    """
    max_features = check_max_features(max_features)
    local = local_view(explanation, i, "force_plot")
    positive, negative = _force_segments(local, max_features)
    end = local.base + float(local.values.sum())
    figure, axis = axes_for(ax, 9.0, 2.4)
    total = sum(v for _, v in positive) - sum(v for _, v in negative) or 1.0
    drawn = {"positive": [], "negative": []}
    right = end
    for label, value in positive:  # from the output leftwards, the strongest first
        drawn["positive"].append((label, value, right - value))
        right -= value
    left = end
    for label, value in negative:  # from the output rightwards
        drawn["negative"].append((label, value, left))
        left -= value
    for side, color in (("positive", colors.POSITIVE_COLOR), ("negative", colors.NEGATIVE_COLOR)):
        for k, (label, value, start) in enumerate(drawn[side]):
            width = abs(value)
            axis.barh(0.0, width, left=start, height=0.5, color=color, edgecolor="white", linewidth=1.0)
            if width >= 0.04 * total:
                axis.text(start + width / 2, -0.42 - 0.2 * (k % 2), f"{label}\n{value:+.3g}", ha="center",
                          va="top", fontsize=6.5, color=color)
    axis.axvline(end, color="#222222", linewidth=1.0)
    axis.axvline(local.base, color="#555555", linestyle="--", linewidth=0.8)
    axis.text(end, 0.34, f"f(x) = {local.score:.4g}", ha="center", va="bottom", fontsize=8, weight="bold",
              bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    axis.text(local.base, 0.62, f"E[f] = {local.base:.4g}", ha="center", va="bottom", fontsize=7, color="#555555",
              bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    axis.set_ylim(-1.3, 0.9)
    axis.set_yticks([])
    axis.tick_params(labelsize=8)
    axis.set_title(f"{figures.plain_text(explanation.method)}: example #{local.index}, output "
                   f"{_output_text(explanation, local, class_names)}; red pushes up, blue down "
                   f"(base from {local.base_source})", fontsize=8)
    data = {"base": local.base, "base_source": local.base_source, "end": end, "score": local.score, **drawn}
    return finish(figure, data, save, [axis])


def _probabilities(explanation, i, top_classes, class_names):
    """[(label, score, is the explained output)] of the top outputs, "other" last for probabilities."""
    row = np.asarray(explanation.predictions[i], np.float64).reshape(-1)
    target = int(explanation.targets[i])
    order = np.argsort(-row, kind="stable")[:top_classes]
    bars = [(figures.plain_text(card.output_label(k, class_names), 24), float(row[k]), int(k) == target)
            for k in order]
    if card.prediction_kind(np.asarray(explanation.predictions)) == "probability" and len(row) > len(order):
        bars.append(("other", float(max(0.0, 1.0 - row[order].sum())), False))
    return bars


def lime_list_plot(explanation, i, top_classes=5, max_features=None, save=None, class_names=None):
    """LIME's notebook view of table row `i` as a static figure: probabilities, the explanation list, the values.

    Three panels, as `lime`'s `show_in_notebook` shows them: the model's
    top outputs (probabilities, with "other" for the rest, or scores), the
    features of `explanation.as_list(i)` as bars pointing to "NOT <output>"
    (blue, left) or "<output>" (red, right), and a table of those features'
    values.

    Args:
        explanation: a tabular `Explanation` (N, F), LIME's or any other.
        i: the row.
        top_classes: outputs in the first panel. Defaults to 5.
        max_features: features listed; None lists all of `as_list(i)`.
            Defaults to None.
        save: optional path; the figure is written there.
        class_names: output names. Defaults to the explanation's `class_names`.

    Returns:
        matplotlib.figure.Figure; `figure.keras_explain_data` holds
        "probabilities" ([(label, score, explained?)]), "features"
        ([(label, weight)] as `as_list(i)`) and "values" ([(name, value)]).

    Example:

    ```python
    e = kx.LimeTabular(model, x_train, random_state=0).explain(x_test[:5])
    kx.viz.lime_list_plot(e, 0, save="lime.png")
    ```
    """
    i = check_index(explanation, i)
    top_classes = check_int("top_classes", top_classes, minimum=1)
    max_features = check_int("max_features", max_features, minimum=1, allow_none=True)
    listed = explanation.as_list(i)[:max_features]
    names = class_names if class_names is not None else explanation.extras.get("class_names")
    rows = [r for r in card.top_features(explanation, i, top_k=None, used_only=True)
            if explanation.extras.get("used") is not None or r["weight"] != 0][: len(listed)]
    bars = _probabilities(explanation, i, top_classes, names)
    figure = figures.new_figure(11.0, 1.4 + 0.34 * max(len(listed), len(bars)))
    axes = figure.subplots(1, 3, width_ratios=[1.0, 1.7, 1.2])
    _probability_panel(axes[0], bars, card.prediction_kind(np.asarray(explanation.predictions)))
    output = figures.plain_text(card.output_label(int(explanation.targets[i]), names), 24)
    _list_panel(axes[1], listed, output)
    values = [(r["name"], r["value"]) for r in rows]
    _value_panel(axes[2], values, [r["weight"] for r in rows])
    figure.suptitle(f"{figures.plain_text(explanation.method)}: row #{i}", fontsize=9)
    data = {"probabilities": bars, "features": listed, "values": values}
    return finish(figure, data, save, list(axes))


def _probability_panel(axis, bars, kind):
    positions = np.arange(len(bars))[::-1]
    scores = [score for _, score, _ in bars]
    shades = [colors.POSITIVE_COLOR if explained else _OTHER_COLOR for _, _, explained in bars]
    axis.barh(positions, scores, color=shades)
    for y, score in zip(positions, scores):
        axis.text(score, y, f" {score:.2f}", va="center", fontsize=7)
    axis.set_yticks(positions, [label for label, _, _ in bars])
    if kind == "probability":
        axis.set_xlim(0.0, 1.15)
    axis.margins(x=0.15)
    axis.tick_params(labelsize=8)
    axis.set_title("Prediction probabilities" if kind == "probability" else "Model outputs", fontsize=9)


def _list_panel(axis, listed, output):
    positions = np.arange(len(listed))[::-1]
    weights = [w for _, w in listed]
    axis.barh(positions, weights, color=figures.bar_colors(weights))
    axis.set_yticks(positions, [figures.plain_text(label, 36) for label, _ in listed])
    axis.axvline(0.0, color="black", linewidth=0.8)
    for y, weight in zip(positions, weights):
        axis.text(weight, y, f" {weight:+.3g} ", va="center", ha="left" if weight >= 0 else "right", fontsize=7)
    axis.margins(x=0.2)
    axis.tick_params(labelsize=8)
    axis.set_title(f"NOT {output}   |   {output}", fontsize=9)


def _value_panel(axis, values, weights):
    axis.set_axis_off()
    axis.set_title("Feature values", fontsize=9)
    if not values:
        return
    cells = [[figures.plain_text(name, 28), figures.plain_text(value, 16)] for name, value in values]
    table = axis.table(cellText=cells, colLabels=["feature", "value"], loc="upper center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    for row, weight in enumerate(weights, start=1):
        shade = "#f4d6d9" if weight > 0 else "#d6e2f0" if weight < 0 else "white"
        table[row, 1].set_facecolor(shade)
