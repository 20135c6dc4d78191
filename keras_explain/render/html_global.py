"""The global view of a report: what matters across the examples, as tables and pictures.

A report section gains this view for a global explanation
(PermutationImportance) or a table of many rows (`GLOBAL_ROWS`): the summary
table (`keras_explain.summaries.summarize`: per feature the mean
|attribution|, the mean attribution and their spreads, strongest first), the
same by explained class, and as inline PNGs the bar and beeswarm summary
plots and the dependence plot of the strongest feature. Every number a plot
shows is in a table beside it; every name is escaped.

```python
from keras_explain.render import html_global

html_global.wants_global(e)                 # True for 20 rows or more, or a global explanation
html_global.summary_rows(kx.summarize(e), max_features=5)
```
"""

import math

import numpy as np

from keras_explain.feature_views import is_global, table_view
from keras_explain.render import blocks, global_images, global_plots
from keras_explain.render.blocks import escape, number
from keras_explain.summaries import summarize

#: Tabular explanations of at least this many rows get a global view ("auto").
GLOBAL_ROWS = 20
#: The most classes the by-class table has a column for.
MAX_CLASSES = 10
#: Resolution of the plots' pictures (dots per inch).
PLOT_DPI = 100


def wants_global(explanation, global_view="auto"):
    """Whether a report section of `explanation` shows the global view.

    Args:
        explanation: an explanation of one model input.
        global_view: "auto" (a global explanation, or a table of at least
            `GLOBAL_ROWS` rows), True (any table or global explanation) or
            False (never). Defaults to "auto".

    Returns:
        bool; False for images and for explanations of several inputs.
    """
    if global_view is False or isinstance(explanation.attributions, list):
        return False
    if is_global(explanation):
        return True
    tabular = np.ndim(explanation.attributions) == 2
    return tabular and (global_view is True or len(explanation) >= GLOBAL_ROWS)


def summary_rows(summary, max_features):
    """The rows of the summary table: the `max_features` strongest features of a `Summary`.

    Returns:
        list of dicts with "rank" (1 first), "index" (the feature's column),
        "feature" (its label) and the floats "mean_abs", "mean", "std_abs"
        and "std", by decreasing mean |attribution|.
    """
    labels = summary.labels
    return [
        {
            "rank": rank,
            "index": int(j),
            "feature": str(labels[j]),
            **{name: float(getattr(summary, name)[j]) for name in ("mean_abs", "mean", "std_abs", "std")},
        }
        for rank, j in enumerate(summary.order[:max_features], start=1)
    ]


def summary_table(summary, max_features):
    """The summary table as HTML: per feature its statistics and a bar, strongest first.

    For a global explanation the columns are the importance and its standard
    deviation over the repeats, the bar signed by the importance; otherwise
    the mean |attribution|, the mean attribution and the standard deviation
    of both, the bar as long as the mean |attribution| and coloured by the
    sign of the mean attribution.
    """
    rows = summary_rows(summary, max_features)
    largest = max((row["mean_abs"] for row in rows), default=0.0)
    if summary.kind == "global":
        head = ["importance", "std"]
        cells = [(row["mean"], row["std"]) for row in rows]
        signed = [row["mean"] for row in rows]
    else:
        head = ["mean |attribution|", "mean attribution", "std |attribution|", "std attribution"]
        cells = [(row["mean_abs"], row["mean"], row["std_abs"], row["std"]) for row in rows]
        signed = [math.copysign(row["mean_abs"], row["mean"]) for row in rows]
    body = "".join(
        f'<tr><td class="num">{row["rank"]}</td><td>{escape(row["feature"])}</td>'
        + "".join(f'<td class="num">{escape(number(v))}</td>' for v in values)
        + f"<td>{blocks.bar(weight, largest)}</td></tr>"
        for row, values, weight in zip(rows, cells, signed)
    )
    header = "".join(f"<th>{escape(h)}</th>" for h in ["#", "feature"] + head + [""])
    return f'<table class="summary"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def class_table(summary, max_features, class_names=None):
    """The mean |attribution| of the strongest features per explained class, as HTML ("" without classes).

    Rows follow the overall order; a column per class (at most
    `MAX_CLASSES`), headed by the class and its count of examples.
    """
    if not summary.per_class:
        return ""
    classes = summary.classes[:MAX_CLASSES]
    rows = summary_rows(summary, max_features)
    header = "".join(
        f"<th>{escape(blocks.output_text(c, class_names))} ({summary.per_class[c].count})</th>" for c in classes
    )
    body = "".join(
        f'<tr><td class="num">{row["rank"]}</td><td>{escape(row["feature"])}</td>'
        + "".join(
            f'<td class="num">{escape(number(summary.per_class[c].mean_abs[row["index"]]))}</td>' for c in classes
        )
        + "</tr>"
        for row in rows
    )
    more = len(summary.classes) - len(classes)
    note = f'<p class="note">and {more} more classes, in summary.csv and Summary.per_class</p>' if more else ""
    return (
        '<h3>Mean |attribution| by explained class</h3><table class="by-class"><thead><tr><th>#</th>'
        f"<th>feature</th>{header}</tr></thead><tbody>{body}</tbody></table>{note}"
    )


def _picture(figure, alt, caption):
    uri = blocks.png_uri(blocks.figure_png(figure, dpi=PLOT_DPI))
    return f'<figure><img src="{uri}" alt="{escape(alt)}"><figcaption>{escape(caption)}</figcaption></figure>'


def _plots(items, summary, max_features, class_names):
    """The plots as `<figure>`s: bar, and beeswarm and dependence for per-example tables; class averages for images."""
    shown = min(max_features, len(summary.order))
    if summary.map_shape is not None:
        figure = global_images.class_average_plot(items, class_names=class_names)
        return [_picture(figure, "class-average map", "mean |attribution| per pixel, per explained class")]
    bars = global_plots.summary_plot(items, kind="bar", max_features=max_features, class_names=class_names)
    what = "importance ± std" if summary.kind == "global" else "mean |attribution|"
    parts = [_picture(bars, "summary bar plot", f"{what}, top {shown} features")]
    if summary.kind == "global":
        return parts
    swarm = global_plots.summary_plot(items, kind="beeswarm", max_features=max_features)
    parts.append(
        _picture(swarm, "summary beeswarm plot", "each example's attribution, coloured by the feature's value")
    )
    top = int(summary.order[0])
    values = table_view(items, "report").values[:, top]
    if np.isfinite(values).any():
        figure = global_plots.dependence_plot(items, top)
        data = figure.keras_explain_data
        colour = f", coloured by {data['color_by']}" if data["color_by"] is not None else ""
        parts.append(
            _picture(figure, f"dependence plot of {data['feature']}",
                     f"{data['feature']}: attribution against value{colour}")
        )
    return parts


def global_block(items, max_features=20, class_names=None, number=0):
    """The global view of explanations (a list of one or of shards) as a `<div class="global">`.

    Args:
        items: list of explanations of one method and the same features:
            tables (N, F), one global explanation, or images (their pixels
            are the features, and the class-average maps the picture).
        max_features: features in the tables and plots. Defaults to 20.
        class_names: output names in the by-class table. Defaults to None.
        number: the section's number, for the element id. Defaults to 0.

    Returns:
        str, the markup.
    """
    summary = summarize(items, keep=False)
    shown = min(max_features, len(summary.order))
    if summary.kind == "global":
        heading = "Global importance"
        text = (
            f"{summary.method}: each feature's importance, the mean drop of the score when its values "
            f"are shuffled, ± the standard deviation over the repeats; the top {shown} of "
            f"{len(summary.order)} features by |importance|."
        )
    else:
        heading = f"Across the {summary.count} examples"
        text = (
            f"{summary.method}: per feature the mean |attribution| over the examples, the mean attribution "
            f"and their standard deviations; the top {shown} of {len(summary.order)} features by mean "
            "|attribution|. Bars: mean |attribution|, red where the mean attribution supports the explained "
            "output, blue where it opposes it."
        )
    return (
        f'<div class="global" id="global-{number}"><h3>{escape(heading)}</h3>'
        f'<p class="note">{escape(text)}</p>'
        + summary_table(summary, max_features)
        + class_table(summary, max_features, class_names)
        + '<div class="plots">'
        + "".join(_plots(items, summary, max_features, class_names))
        + "</div></div>"
    )
