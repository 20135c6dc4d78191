"""How the global and local plots hand back their figure and the numbers they drew.

Every plot of `keras_explain.viz` that draws numbers (summary, dependence,
waterfall, force, LIME list, class averages, extremes) returns the matplotlib
Figure and attaches what it drew as a dict, `figure.keras_explain_data`; the
Axes it drew on carry the same dict as `axes.keras_explain_data`, so several
plots drawn on one figure with `ax=` each keep theirs (the figure's is the
last one drawn). Arrays are numpy, names are str.

```python
figure = kx.viz.summary_plot(e, kind="bar")
figure.keras_explain_data["values"]       # the bar lengths, strongest first
```
"""

import numpy as np

from keras_explain.engine.errors import check_int, fail
from keras_explain.render import colors, figures

#: The attribute of the Figure (and Axes) holding the numbers a plot drew.
DATA_ATTRIBUTE = "keras_explain_data"


def axes_for(ax, width, height):
    """(root Figure, Axes): the given Axes and its figure, else a new figure of `width` x `height` inches."""
    if ax is None:
        figure = figures.new_figure(width, height)
        return figure, figure.add_subplot()
    if not hasattr(ax, "get_figure") or not hasattr(ax, "barh"):
        fail("ax", "a matplotlib Axes or None", ax)
    return ax.get_figure(root=True), ax


def finish(figure, data, save=None, axes=()):
    """Attach `data` to the figure and `axes`, write the figure to `save` when given, return it."""
    setattr(figure, DATA_ATTRIBUTE, data)
    for axis in axes:
        setattr(axis, DATA_ATTRIBUTE, data)
    if save is not None:
        figure.savefig(save, dpi=120)
    return figure


def seeded_rows(count, max_points, random_state):
    """(sorted row indices, sampled?): every row, or a seeded choice of `max_points` rows beyond it."""
    max_points = check_int("max_points", max_points, minimum=1, allow_none=True)
    random_state = check_int("random_state", random_state, minimum=0, allow_none=True)
    if max_points is None or count <= max_points:
        return np.arange(count), False
    chosen = np.random.default_rng(random_state).choice(count, size=max_points, replace=False)
    return np.sort(chosen), True


def scaled_values(values):
    """Feature values on a [0, 1] colour scale between their 5th and 95th percentiles (NaN stays NaN).

    Values beyond the percentiles saturate, so that a few outliers do not
    wash out the colours; when the percentiles meet, the minimum and maximum
    are used, and a constant feature sits at 0.5.
    """
    values = np.asarray(values, np.float64)
    known = values[np.isfinite(values)]
    if known.size == 0:
        return values.copy()
    low, high = np.percentile(known, [5.0, 95.0])
    if high <= low:
        low, high = known.min(), known.max()
    if high <= low:
        return np.where(np.isfinite(values), 0.5, np.nan)
    return np.clip((values - low) / (high - low), 0.0, 1.0)


def resolve_feature(names, feature, name="feature"):
    """The column index of `feature`, given by name or index among `names`."""
    count = len(names)
    if isinstance(feature, str):
        if feature in names:
            return names.index(feature)
        shown = ", ".join(repr(n) for n in names[:8]) + (", ..." if count > 8 else "")
        raise ValueError(f"{name}: expected a feature name ({shown}) or an index below {count}, received {feature!r}.")
    return check_int(name, feature, minimum=0, maximum=count - 1)


#: The colours of feature values, low to high: blue through purple to red.
VALUE_COLORS = (colors.NEGATIVE_COLOR, "#7b3294", colors.POSITIVE_COLOR)


def value_colormap(cmap=None):
    """The colour map of feature values: `cmap` by name when given, else `VALUE_COLORS`."""
    if cmap is not None:
        return colors.colormap(cmap)
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("keras_explain_values", VALUE_COLORS)


def value_colorbar(figure, ax, cmap, label="feature value"):
    """A colour bar of feature values reading "low" to "high", beside `ax`."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    bar = figure.colorbar(ScalarMappable(Normalize(0.0, 1.0), cmap), ax=ax, shrink=0.8, aspect=30)
    bar.set_ticks([0.0, 1.0], labels=["low", "high"])
    bar.set_label(figures.plain_text(label, 40), fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return bar
