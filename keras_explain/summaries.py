"""Global views: what matters across the examples of one or several explanations.

`summarize` reads explanations by duck typing (`attributions`, `inputs`,
`targets`, `predictions`, `method`, `len()` and an `extras` mapping) and
returns a `Summary`: per feature the mean |attribution|, the mean
attribution and the spread of both, the features ranked, and the same per
explained class. Tables (N, F) summarize their F columns; images
(N, H, W[, C]) summarize their H x W pixels, channels reduced by the sum of
|attribution| for the magnitude and by the sum for the signed mean (as
`Explanation.heatmap(reduce="abs")` and `heatmap(reduce="sum")` do).

A global explanation (PermutationImportance: one "example" with
`importances_std`) summarizes to its importances.

```python
s = kx.summarize(e)                      # or e.summary(), or kx.summarize([shard_a, shard_b])
s.order[:5], s.mean_abs[s.order[:5]]
s.to_dataframe()                         # one row per feature (per class when by class)
```
"""

import dataclasses
from typing import Optional

import numpy as np

from keras_explain.engine.errors import check_bool, describe, fail
from keras_explain.feature_views import (
    check_explanations,
    example_scores,
    is_global,
    pixel_labels,
    reduced_values,
)

__all__ = ["Summary", "summarize"]

#: The per-feature arrays of a Summary, all (F,) float64 but `order` (F,) int64.
STATISTICS = ("mean_abs", "mean", "std_abs", "std")
_ARRAYS = STATISTICS + ("order", "scores")


@dataclasses.dataclass(eq=False)
class Summary:
    """The per-feature summary of one or several explanations (see `summarize`).

    Attributes:
        method: str, the method of the explanations.
        count: int, the examples summarized (1 for a global explanation).
        feature_names: list of F str for tables ("x0", "x1", ... without
            names); None for images, whose F = H x W pixels read row by row.
        mean_abs, mean: np.ndarray float64 (F,), per feature the mean
            |attribution| and the mean attribution over the examples.
        std_abs, std: np.ndarray float64 (F,), the population standard
            deviations (ddof=0) of |attribution| and of the attribution.
        order: np.ndarray int64 (F,), feature indices by decreasing
            `mean_abs`, the lower index first among ties.
        scores: np.ndarray float64 (N,), each example's explained score
            (`predictions[i, targets[i]]`), in the order of the examples.
        classes: sorted list of the explained classes (int) when summarized
            by class, else None.
        per_class: dict class -> Summary of the examples explained for that
            class (the same fields, no classes of its own); {} otherwise.
        maps: for images, dict "mean_abs" and "mean" -> (H, W), and per class
            "mean_abs/<class>" and "mean/<class>" -> (H, W); {} for tables.
        kind: "examples" for per-example explanations, "global" for a global
            explanation, whose `mean` is the importances, `mean_abs` their
            absolute values and `std` = `std_abs` = `importances_std`.
        map_shape: (H, W) for images, else None.
    """

    method: str
    count: int
    feature_names: Optional[list]
    mean_abs: np.ndarray
    mean: np.ndarray
    std_abs: np.ndarray
    std: np.ndarray
    order: np.ndarray
    scores: np.ndarray
    classes: Optional[list] = None
    per_class: dict = dataclasses.field(default_factory=dict)
    maps: dict = dataclasses.field(default_factory=dict)
    kind: str = "examples"
    map_shape: Optional[tuple] = None

    @property
    def labels(self):
        """The F feature labels: `feature_names`, or "(row, column)" of each pixel for images."""
        if self.feature_names is not None:
            return list(self.feature_names)
        return pixel_labels(self.map_shape)

    def __repr__(self):
        top = ", ".join(f"{self.labels[j]}={self.mean_abs[j]:.3g}" for j in self.order[:3])
        by_class = f", classes={self.classes}" if self.classes is not None else ""
        return f"Summary(method={self.method!r}, count={self.count}, features={len(self.order)}{by_class}, top=[{top}])"

    def to_dataframe(self, by_class=None):
        """The summary as a pandas DataFrame, one row per feature, by rank.

        Args:
            by_class: one row per (class, feature) with a "class" column;
                None does so when the summary is by class. Defaults to None.

        Returns:
            pandas.DataFrame with columns "feature", "mean_abs", "mean",
            "std_abs", "std" and "rank" (1 for the largest mean |attribution|),
            plus "class" first when by class.

        Raises:
            ImportError: when pandas is not installed.
            ValueError: for by_class=True on a summary that is not by class.
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "Summary.to_dataframe() needs pandas, which keras_explain does not install: "
                "pip install pandas (or read the arrays mean_abs, mean, std_abs, std and order)."
            ) from None
        if by_class not in (None, True, False):
            fail("by_class", "None, True or False", by_class)
        if by_class and not self.per_class:
            fail("by_class", "False or None for a summary that is not by class", by_class)
        if by_class is False or not self.per_class:
            return pd.DataFrame(self._rows())
        frames = [pd.DataFrame({"class": c, **self.per_class[c]._rows()}) for c in self.classes]
        return pd.concat(frames, ignore_index=True)

    def _rows(self):
        labels = np.asarray(self.labels, dtype=object)
        table = {"feature": labels[self.order]}
        table.update({name: getattr(self, name)[self.order] for name in STATISTICS})
        table["rank"] = np.arange(1, len(self.order) + 1)
        return table

    def as_dict(self):
        """The summary as a flat dict of arrays and JSON-safe values (what `Explanation.save` writes).

        Keys: "method", "kind", "count", "feature_names", "classes",
        "map_shape", the arrays "mean_abs", "mean", "std_abs", "std", "order",
        "scores", "maps/<key>" per map, and per class "per_class/<c>/<array>"
        and "per_class/<c>/count".
        """
        flat = {
            "method": self.method,
            "kind": self.kind,
            "count": int(self.count),
            "feature_names": None if self.feature_names is None else [str(n) for n in self.feature_names],
            "classes": None if self.classes is None else [int(c) for c in self.classes],
            "map_shape": None if self.map_shape is None else [int(s) for s in self.map_shape],
        }
        flat.update({name: np.asarray(getattr(self, name)) for name in _ARRAYS})
        flat.update({f"maps/{key}": np.asarray(value) for key, value in self.maps.items()})
        for c, part in self.per_class.items():
            flat.update({f"per_class/{c}/{name}": np.asarray(getattr(part, name)) for name in _ARRAYS})
            flat[f"per_class/{c}/count"] = int(part.count)
        return flat

    @classmethod
    def from_dict(cls, flat):
        """The Summary that `as_dict` wrote (also after `Explanation.save` and `load`).

        Raises:
            ValueError: for a dict that `as_dict` did not write.
        """
        missing = [k for k in ("method", "count") + _ARRAYS if not isinstance(flat, dict) or k not in flat]
        if missing:
            fail("summary", f"a dict written by Summary.as_dict() (missing {missing})", flat)
        shape = None if flat.get("map_shape") is None else tuple(int(s) for s in flat["map_shape"])
        classes = None if flat.get("classes") is None else [int(c) for c in flat["classes"]]
        maps = {key[len("maps/"):]: np.asarray(v) for key, v in flat.items() if key.startswith("maps/")}
        common = {
            "method": str(flat["method"]),
            "feature_names": None if flat.get("feature_names") is None else list(flat["feature_names"]),
            "kind": str(flat.get("kind", "examples")),
            "map_shape": shape,
        }
        per_class = {}
        for c in classes or ():
            arrays = {name: np.asarray(flat[f"per_class/{c}/{name}"]) for name in _ARRAYS}
            own = {s: maps[f"{s}/{c}"] for s in ("mean_abs", "mean") if f"{s}/{c}" in maps}
            per_class[c] = cls(count=int(flat[f"per_class/{c}/count"]), maps=own, **common, **arrays)
        arrays = {name: np.asarray(flat[name]) for name in _ARRAYS}
        return cls(count=int(flat["count"]), classes=classes, per_class=per_class, maps=maps, **common, **arrays)


class Moments:
    """Streaming count, mean and sum of squared deviations of rows (F,), merged batch by batch.

    Batches combine with Chan, Golub and LeVeque's pairwise update, so the
    result does not depend on how the rows are split into shards.
    """

    def __init__(self, size):
        self.count = 0
        self.mean = np.zeros(size)
        self.m2 = np.zeros(size)

    def add(self, rows):
        """Fold rows (n, F) float64 into the moments."""
        n = len(rows)
        if n == 0:
            return
        mean = rows.mean(axis=0)
        m2 = ((rows - mean) ** 2).sum(axis=0)
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * n / total)
        self.count = total

    def std(self):
        return np.sqrt(self.m2 / max(self.count, 1))


def _ranked(mean_abs):
    return np.argsort(-mean_abs, kind="stable").astype(np.int64)


def summarize(explanations, by_class="auto", keep=True):
    """Per feature, how much and which way the attributions go across examples.

    Args:
        explanations: an `Explanation`, or a list of them (for example the
            shards of one dataset): one method, one model input, the same
            features (and feature names) in each. Tables (N, F) and images
            (N, H, W) or (N, H, W, C) are summarized; a global explanation
            (PermutationImportance) summarizes to its importances.
        by_class: "auto" (per class when the examples explain more than one
            class), True or False. Defaults to "auto".
        keep: with a single explanation, keep the summary in it, as
            `as_dict()`, in its part "global" (field "summary", saved by
            `Explanation.save`). Defaults to True.

    Returns:
        `Summary`.

    Raises:
        ValueError: for an empty list, explanations of several methods or
            of other features, a model with several inputs, attributions
            that are neither tables nor images, several global explanations,
            or another `by_class`.

    Example:

    ```python
    e = kx.DeepShap(model, background).explain(x)
    s = kx.summarize(e)
    [s.feature_names[j] for j in s.order[:3]]     # the three strongest features
    s.per_class[1].mean_abs                       # over the examples explained for class 1
    ```
    """
    single = not isinstance(explanations, (list, tuple))
    items = check_explanations([explanations] if single else list(explanations), "explanations")
    if not (isinstance(by_class, (bool, np.bool_)) or (isinstance(by_class, str) and by_class == "auto")):
        fail("by_class", "'auto', True or False", by_class)
    keep = check_bool("keep", keep)
    if is_global(items[0]):
        if len(items) != 1:
            raise ValueError(
                f"explanations: expected one global explanation (one row of importances), received "
                f"{len(items)} of them; summarize each on its own."
            )
        summary = _global_summary(items[0])
    else:
        summary = _example_summary(items, by_class)
    if keep and len(items) == 1 and hasattr(items[0], "annotate"):
        items[0].annotate(summary=summary.as_dict())
    return summary


def _global_summary(explanation):
    importances = np.asarray(explanation.attributions, np.float64).reshape(-1)
    spread = np.asarray(explanation.extras["importances_std"], np.float64).reshape(-1)
    if spread.shape != importances.shape:
        fail("importances_std", f"one spread per importance ({importances.size})", spread)
    names = explanation.extras.get("feature_names") or [f"x{j}" for j in range(importances.size)]
    magnitude = np.abs(importances)
    return Summary(
        method=explanation.method,
        count=len(explanation),
        feature_names=[str(n) for n in names],
        mean_abs=magnitude,
        mean=importances,
        std_abs=spread,
        std=spread.copy(),
        order=_ranked(magnitude),
        scores=example_scores(explanation),
        kind="global",
    )


def _example_summary(items, by_class):
    targets = np.concatenate([np.asarray(e.targets, np.int64) for e in items])
    classes = sorted(int(c) for c in np.unique(targets))
    split = bool(by_class) if by_class != "auto" else len(classes) > 1
    keys = [None] + (classes if split else [])
    moments, shape = {}, None
    for e in items:
        magnitude, signed, shape = reduced_values(e)
        size = magnitude.shape[1]
        for key in keys:
            rows = slice(None) if key is None else np.asarray(e.targets) == key
            pair = moments.setdefault(key, (Moments(size), Moments(size)))
            pair[0].add(magnitude[rows])
            pair[1].add(signed[rows])
    names = None
    if shape is None:
        names = [str(n) for n in items[0].extras.get("feature_names") or [f"x{j}" for j in range(size)]]
    scores = np.concatenate([example_scores(e) for e in items])
    common = {"method": items[0].method, "feature_names": names, "map_shape": shape}
    parts = {
        key: from_moments(*moments[key], scores if key is None else scores[targets == key], common)
        for key in keys
    }
    overall = parts.pop(None)
    if split:
        overall.classes, overall.per_class = classes, parts
        for c, part in parts.items():
            overall.maps.update({f"{name}/{c}": value for name, value in part.maps.items()})
    return overall


def from_moments(magnitude, signed, scores, common):
    """A `Summary` from running moments of |attribution| and attribution per feature.

    Args:
        magnitude: moments of |attribution| (`count`, `mean`, `std()`), per feature.
        signed: moments of the signed attribution, per feature.
        scores: the explained outputs' scores, (N,).
        common: the fields shared by every summary of one run (`map_shape`,
            feature names, method, ...), as `summarize` builds them.

    Returns:
        A `Summary`; per-pixel maps when `common["map_shape"]` is set.
    """
    shape = common["map_shape"]
    summary = Summary(
        count=magnitude.count,
        mean_abs=magnitude.mean,
        mean=signed.mean,
        std_abs=magnitude.std(),
        std=signed.std(),
        order=_ranked(magnitude.mean),
        scores=np.asarray(scores, np.float64),
        **common,
    )
    if shape is not None:
        summary.maps = {"mean_abs": magnitude.mean.reshape(shape), "mean": signed.mean.reshape(shape)}
    return summary


def read_summary(value):
    """A `Summary` from a Summary, a dict written by `Summary.as_dict` or an explanation that kept one.

    Raises:
        ValueError: for anything else, or an explanation without a kept summary.
    """
    if isinstance(value, Summary):
        return value
    if isinstance(value, dict):
        return Summary.from_dict(value)
    extras = getattr(value, "extras", None)
    if extras is not None and extras.get("summary") is not None:
        return Summary.from_dict(extras["summary"])
    raise ValueError(
        f"summary: expected a Summary, a dict from Summary.as_dict() or an explanation that kept "
        f"its summary (call e.summary() first), received {describe(value)}."
    )
