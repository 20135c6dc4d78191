"""`Explanation`: the one result type every explainer returns."""

import numpy as np

from keras_explain.engine.errors import check_choice, fail
from keras_explain.explanation_files import jsonable, read_explanation, write_explanation
from keras_explain.parts import FIELD_PART, PART_TYPES, PER_EXAMPLE_FIELDS, FieldView, entry_count

__all__ = ["Explanation", "jsonable"]

_REDUCTIONS = ("sum", "mean", "abs", "max_abs", "l2")


def _arrays(value):
    """An array, or a list of arrays when the value holds one per model input."""
    if isinstance(value, (list, tuple)) and value and all(
        isinstance(v, np.ndarray) for v in value
    ):
        return [np.asarray(v) for v in value]
    return np.asarray(value)


class Explanation:
    """Attributions for a batch of inputs, with everything needed to read them.

    Args:
        attributions: np.ndarray. Shape (N, ...) like the inputs for gradient
            and SHAP methods, (N, H, W) for Grad-CAM and LIME images,
            (N, n_features) for tables. For a model with several inputs, a
            list with one array per input, each shaped like that input.
        inputs: np.ndarray (N, ...), the explained inputs (a list of arrays
            for a model with several inputs).
        targets: np.ndarray int (N,), the explained output index per input.
        predictions: np.ndarray (N, K), the model's outputs at the inputs.
        method: str, the registered method name.
        config: dict of JSON-safe settings of the explainer. Defaults to {}.
        **extras: method-specific results, stored in the typed parts of
            `keras_explain.parts` (`checks`, `surrogate`, `superpixels`,
            `table`) or, for `class_names`, as an attribute; any other name
            is a user annotation (see `annotate`). Every one reads as an
            attribute (`e.completeness_gap`, `e.segments`, ...).

    Attributes:
        parts: dict part name -> its dataclass (`e.parts["checks"]`), for
            the parts this explanation has.
        class_names: list of output names, or None.
        explainer: the Explainer that made it (kept in memory, not saved;
            None after `load`); `evaluate` uses its model.
        annotations: dict of user annotations.
        extras: a mapping view of every part field, `class_names` and the
            annotations by name; setting a key goes through `annotate`.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x)
    e.attributions.shape == x.shape
    e.save("saliency.npz")
    same = kx.Explanation.load("saliency.npz")
    ```
    """

    def __init__(self, attributions, inputs, targets, predictions, method, config=None, **extras):
        self.attributions = _arrays(attributions)
        self.inputs = _arrays(inputs)
        self.targets = np.asarray(targets, dtype=np.int64)
        self.predictions = np.asarray(predictions)
        self.method = str(method)
        self.config = jsonable(dict(config or {}))
        self.parts = {}
        self.class_names = None
        self.annotations = {}
        self.explainer = None
        self.annotate(**extras)

    def annotate(self, **values):
        """Set part fields, `class_names` or user annotations, checking their lengths.

        Args:
            **values: name -> value. A part field (see `keras_explain.parts`)
                goes to its part; any other name is a user annotation. An
                array or list given per example must have one entry per
                example (N); other annotations must be a number, a string,
                a bool, None or a dict.

        Returns:
            self.

        Raises:
            ValueError: for a per-example value of the wrong length.
        """
        count = len(self)
        for name, value in values.items():
            if name == "class_names":
                self.class_names = None if value is None else [str(c) for c in value]
                continue
            part = FIELD_PART.get(name)
            per_example = name in PER_EXAMPLE_FIELDS or (
                part is None and isinstance(value, (np.ndarray, list, tuple))
            )
            if per_example and value is not None and entry_count(value) != count:
                fail(name, f"one entry per example ({count})", value)
            if part is None:
                self.annotations[name] = value
                continue
            if part not in self.parts:
                self.parts[part] = PART_TYPES[part]()
            setattr(self.parts[part], name, value)
        return self

    def _fields(self):
        """Every part field that is set, `class_names` and the annotations, by name."""
        found = {}
        for part in self.__dict__.get("parts", {}).values():
            found.update({k: v for k, v in vars(part).items() if v is not None})
        if self.__dict__.get("class_names") is not None:
            found["class_names"] = self.class_names
        found.update(self.__dict__.get("annotations", {}))
        return found

    @property
    def extras(self):
        return FieldView(self)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        fields = self._fields()
        if name in fields:
            return fields[name]
        raise AttributeError(
            f"{type(self).__name__!s} of method {self.__dict__.get('method')!r} has no "
            f"attribute {name!r}; its extras are {sorted(fields)}"
        )

    @property
    def multi_input(self):
        """True when the explained model has several inputs (attributions is a list)."""
        return isinstance(self.attributions, list)

    def __len__(self):
        return len(self.targets)

    def __repr__(self):
        extras = ", ".join(sorted(self.extras))
        shape = (
            [a.shape for a in self.attributions] if self.multi_input else self.attributions.shape
        )
        return (
            f"Explanation(method={self.method!r}, n={len(self)}, "
            f"attributions={shape}, extras=[{extras}])"
        )

    # -- views -------------------------------------------------------------

    def _single_input(self, view):
        if self.multi_input:
            raise ValueError(
                f"{view}: expected the explanation of a model with one input, received one "
                f"of a model with {len(self.attributions)} inputs; use e.attributions[k] for "
                f"input k."
            )

    def heatmap(self, reduce="sum", channel_axis=-1):
        """One value per pixel: attributions reduced over channels to (N, H, W).

        Args:
            reduce: how channels combine: "sum" (keeps sign and completeness),
                "mean", "abs" (sum of absolute values), "max_abs" or "l2".
                Defaults to "sum".
            channel_axis: the channel axis of (N, H, W, C) attributions.
                Defaults to -1 (channels last).

        Returns:
            np.ndarray (N, H, W). Attributions that already are (N, H, W)
            (Grad-CAM, LIME) are returned unchanged.

        Raises:
            ValueError: for attributions that are not images.
        """
        check_choice("reduce", reduce, _REDUCTIONS)
        self._single_input("heatmap")
        a = self.attributions
        if a.ndim == 3:
            return a
        if a.ndim != 4:
            raise ValueError(
                f"heatmap: expected image attributions of shape (N, H, W, C) or (N, H, W), "
                f"received shape {a.shape}; use e.attributions directly for tables."
            )
        if reduce == "sum":
            return a.sum(axis=channel_axis)
        if reduce == "mean":
            return a.mean(axis=channel_axis)
        if reduce == "abs":
            return np.abs(a).sum(axis=channel_axis)
        if reduce == "max_abs":
            return np.abs(a).max(axis=channel_axis)
        return np.sqrt((a.astype(np.float64) ** 2).sum(axis=channel_axis)).astype(a.dtype)

    def plot(self, indices=None, reduce="sum", max_samples=8, save=None, **kwargs):
        """Draw inputs, heatmaps and overlays (or bar charts for tables).

        Args:
            indices: which inputs to draw. Defaults to the first `max_samples`.
            reduce: channel reduction for images, as in `heatmap()`.
            max_samples: limit when `indices` is None. Defaults to 8.
            save: optional file path; the figure is written there (PNG, PDF, SVG).
            **kwargs: passed to `keras_explain.viz.plot_explanation`.

        Returns:
            matplotlib.figure.Figure.
        """
        self._single_input("plot")
        from keras_explain import viz

        return viz.plot_explanation(
            self, indices=indices, reduce=reduce, max_samples=max_samples, save=save, **kwargs
        )

    def as_list(self, i, label=None):
        """The features of tabular input `i` with their weights, strongest first.

        Features are named by the extra `feature_labels` (N, n_features) when
        present (LIME: "petal width (cm) > 1.80"), else `feature_names`, else
        "x0", "x1", ... The features of the extra `used` (N, n_features) are
        listed when present, else every feature with a non-zero weight.

        Args:
            i: index of the input.
            label: the explained output; None or `targets[i]`. Defaults to None.

        Returns:
            list of (name, weight) tuples by decreasing |weight|.

        Raises:
            ValueError: for attributions that are not (N, n_features), an index
                out of range or another label.
        """
        self._single_input("as_list")
        values = self.attributions
        if values.ndim != 2:
            fail("attributions", "tabular attributions of shape (N, n_features)", values)
        count = len(self)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -count <= i < count:
            fail("i", f"an input index between 0 and {len(self) - 1}", i)
        if label is not None and label != self.targets[i]:
            explained = f"None or {int(self.targets[i])}, the output explained for input {int(i)}"
            fail("label", explained, label)
        names = self.extras.get("feature_labels")
        if names is None:
            fallback = self.extras.get("feature_names") or [f"x{j}" for j in range(values.shape[1])]
            names = np.broadcast_to(np.asarray(fallback, dtype=str), values.shape)
        used = self.extras.get("used")
        keep = np.asarray(used[i], dtype=bool) if used is not None else values[i] != 0
        order = sorted(np.flatnonzero(keep), key=lambda j: -abs(float(values[i, j])))
        return [(str(names[i][j]), float(values[i, j])) for j in order]

    def as_dataframe(self):
        """Tabular attributions as a pandas DataFrame, one row per (input, feature).

        Returns:
            pandas.DataFrame with columns "input", "target", "feature"
            (`feature_names` or "x0", ...), "label" (`feature_labels` or the
            feature name), "value" (`feature_values` or the input value) and
            "attribution", plus "used" when that extra exists.

        Raises:
            ValueError: for attributions that are not (N, n_features).
            ImportError: when pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "as_dataframe() needs pandas, which keras_explain does not install: "
                "pip install pandas (or use e.attributions and e.as_list(i))."
            ) from None

        self._single_input("as_dataframe")
        values = self.attributions
        if values.ndim != 2:
            fail("attributions", "tabular attributions of shape (N, n_features)", values)
        count, size = values.shape
        names = self.extras.get("feature_names") or [f"x{j}" for j in range(size)]
        names = np.asarray(names, dtype=str)
        labels = self.extras.get("feature_labels")
        shown = self.extras.get("feature_values")
        if shown is None:
            same_size = self.inputs.size == values.size
            shown = self.inputs.reshape(count, -1) if same_size else np.full(values.shape, np.nan)
        table = {
            "input": np.repeat(np.arange(count), size),
            "target": np.repeat(self.targets, size),
            "feature": np.tile(names, count),
            "label": (np.tile(names, count) if labels is None else np.asarray(labels).reshape(-1)),
            "value": np.asarray(shown).reshape(-1),
            "attribution": values.reshape(-1),
        }
        if self.extras.get("used") is not None:
            table["used"] = np.asarray(self.extras["used"], dtype=bool).reshape(-1)
        return pd.DataFrame(table)

    # -- global views, display and checks -----------------------------------

    def summary(self, **options):
        """What matters across the examples; see `keras_explain.summaries.summarize`."""
        from keras_explain.summaries import summarize

        return summarize([self], **options)

    def to_shap(self):
        """A `shap.Explanation`; see `keras_explain.interop.to_shap`."""
        from keras_explain.interop import to_shap

        return to_shap(self)

    def evaluate(self, metrics, model=None, **options):
        """Score the attributions; see `keras_explain.metrics.evaluate`."""
        from keras_explain.metrics import evaluate

        return evaluate(self, metrics, model=model, **options)

    def _repr_html_(self):
        from keras_explain.render.notebook import explanation_html

        return explanation_html(self)

    def _repr_png_(self):
        from keras_explain.render.notebook import explanation_png

        return explanation_png(self)

    # -- files -------------------------------------------------------------

    def save(self, path):
        """Write the explanation to one `.npz` file (arrays plus JSON metadata).

        Args:
            path: file path; ".npz" is appended when missing.

        Returns:
            The path written.
        """
        return write_explanation(self, path)

    @classmethod
    def load(cls, path):
        """Read an explanation written by `save()`.

        Raises:
            ValueError: if the file is not a saved Explanation.
        """
        return read_explanation(cls, path)
