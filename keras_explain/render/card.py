"""What a per-example card shows, as plain values: no picture, no markup.

Every function reads an explanation by duck typing: `attributions`,
`inputs`, `targets` and `predictions` arrays, `len()`, and an `extras`
mapping whose `get(key)` returns a per-example part or None. The results are
Python numbers, strings, lists and dicts (or numpy arrays where stated), so
the HTML report, the figures and the command line's JSON all show the same
figures.

```python
from keras_explain.render import card

card.prediction_summary(e, 0, class_names=["cat", "dog"])
card.top_features(e, 0, top_k=5)
card.example_summary(e, 0)  # JSON-ready
```
"""

import numpy as np

from keras_explain.engine.checks import completeness_message
from keras_explain.render import scores

#: The key of a metric score among a card's checks: "metric:deletion".
METRIC_PREFIX = "metric:"


class _Labels(dict):
    """Labels of the checks: the scalar parts', and a metric score's by its key."""

    def __missing__(self, key):
        if isinstance(key, str) and key.startswith(METRIC_PREFIX):
            return scores.metric_label(key[len(METRIC_PREFIX) :])
        raise KeyError(key)


#: Scalar per-example parts worth showing on a card, key -> label, in the
#: order they are shown. A part counts when it holds one number per example
#: (N,) or a column of them (N, k), of which the first is shown. A metric
#: score's key "metric:NAME" reads its label here too.
SCALAR_PARTS = _Labels(
    {
        "completeness_gap": "completeness gap",
        "additivity_gap": "additivity gap",
        "expected_value": "E[f(background)]",
        "score": "surrogate R²",
        "intercept": "surrogate intercept",
        "local_pred": "surrogate prediction",
    }
)


def format_number(value, digits=4):
    """`value` with `digits` significant digits; "0" for zero and "nan" for NaN."""
    value = float(value)
    if value == 0.0:
        return "0"
    if np.isnan(value):
        return "nan"
    return f"{value:.{digits}g}"


def resolve_names(explanation, key, given, count):
    """Names given by the caller, else the explanation's `key` part, as strings.

    Args:
        explanation: the explanation whose `extras` may hold `key`.
        key: the part and the argument: "class_names", "input_names" or
            "input_notes".
        given: the caller's names, or None to use the part.
        count: how many names there must be (outputs for "class_names",
            examples otherwise).

    Returns:
        list of `count` str, or None when neither is set.

    Raises:
        ValueError: for a string or other non-list, or the wrong count.
    """
    names = given if given is not None else explanation.extras.get(key)
    if names is None:
        return None
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ValueError(
            f"{key}: expected a list of {count} names, received a {type(names).__name__}."
        )
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(
            f"{key}: expected {count} names, one per "
            f"{'output' if key == 'class_names' else 'sample'}, received {len(names)}."
        )
    return names


def output_name(index, class_names=None):
    """The name of output `index`, or None without a name for it."""
    index = int(index)
    if class_names is not None and 0 <= index < len(class_names):
        return class_names[index]
    return None


def output_label(index, class_names=None):
    """ "3 'three'" with class names, else "3"."""
    name = output_name(index, class_names)
    return str(int(index)) if name is None else f"{int(index)} {name!r}"


def prediction_kind(predictions):
    """How a batch of predictions reads.

    Returns:
        "probability" for rows of K > 1 non-negative values summing to 1,
        "score" for other (N, K > 1) outputs, "output" for one output (N, 1)
        and None for predictions that are not (N, K).
    """
    predictions = np.asarray(predictions)
    if predictions.ndim != 2:
        return None
    if predictions.shape[1] == 1:
        return "output"
    if np.all(predictions >= 0.0) and np.allclose(predictions.sum(axis=1), 1.0, atol=1e-3):
        return "probability"
    return "score"


def prediction_summary(explanation, i, class_names=None, top=3):
    """What the model said about example `i`, and which output is explained.

    Args:
        explanation: the explanation.
        i: the example.
        class_names: output names, or None.
        top: how many outputs `top` lists. Defaults to 3.

    Returns:
        dict with "target" (int, the explained output), "target_name"
        (str or None), "target_score" (its prediction, or None), "predicted"
        (the arg-max output when there are several, else None),
        "predicted_name", "score" (the predicted output's value),
        "output" (the value of a single output, else None) and "top" (list
        of {"output", "name", "score"} by decreasing score, empty unless
        there are several outputs).
    """
    predictions = np.asarray(explanation.predictions)
    target = int(explanation.targets[i])
    summary = {
        "target": target,
        "target_name": output_name(target, class_names),
        "target_score": None,
        "predicted": None,
        "predicted_name": None,
        "score": None,
        "output": None,
        "top": [],
    }
    if predictions.ndim != 2:
        return summary
    row = predictions[i]
    if 0 <= target < row.shape[0]:
        summary["target_score"] = float(row[target])
    if row.shape[0] == 1:
        summary["output"] = float(row[0])
        return summary
    predicted = int(np.argmax(row))
    summary.update(
        predicted=predicted,
        predicted_name=output_name(predicted, class_names),
        score=float(row[predicted]),
        top=[
            {"output": int(k), "name": output_name(k, class_names), "score": float(row[k])}
            for k in np.argsort(-row, kind="stable")[:top]
        ],
    )
    return summary


def feature_names(explanation, count):
    """The explanation's `feature_names` part, else "x0", "x1", ... (`count` names)."""
    return explanation.extras.get("feature_names") or [f"x{j}" for j in range(count)]


def top_features(explanation, i, top_k=10, used_only=True, names=None):
    """The strongest features of tabular example `i`, by decreasing |weight|.

    Labels are the `feature_labels` part (LIME: "age > 60.00") when present,
    else the feature's name; values the `feature_values` part, else the
    input's value (4 significant digits), else "". Ties keep column order.

    Args:
        explanation: an explanation with attributions (N, n_features).
        i: the example.
        top_k: how many features; None lists them all. Defaults to 10.
        used_only: list only the features of the `used` part (LIME's
            selection) when it exists. Defaults to True.
        names: feature names to use instead of `feature_names`.

    Returns:
        list of dicts with "index" (int column), "name" (str), "label"
        (str), "value" (str) and "weight" (float).
    """
    weights = np.asarray(explanation.attributions[i])
    size = weights.shape[0]
    names = feature_names(explanation, size) if names is None else names
    labels = explanation.extras.get("feature_labels")
    shown = explanation.extras.get("feature_values")
    used = explanation.extras.get("used") if used_only else None
    keep = np.asarray(used[i], dtype=bool) if used is not None else np.ones(size, dtype=bool)
    order = [int(j) for j in np.argsort(-np.abs(weights), kind="stable") if keep[j]]
    inputs = np.asarray(explanation.inputs)
    rows = []
    for j in order[:top_k]:
        if shown is not None:
            value = str(shown[i][j])
        elif inputs.ndim == 2 and inputs.shape[1] == size:
            value = format_number(inputs[i, j])
        else:
            value = ""
        label = labels[i][j] if labels is not None else names[j]
        rows.append(
            {"index": j, "name": str(names[j]), "label": str(label), "value": value,
             "weight": float(weights[j])}
        )
    return rows


def scalar_part(explanation, key):
    """A scalar per-example part as a numeric array (N,), or None when absent or not numeric.

    Parts of shape (N, k) give their first column; the dtype is kept.
    """
    value = explanation.extras.get(key)
    if (
        not isinstance(value, np.ndarray)
        or value.dtype.kind not in "fiu"
        or value.ndim not in (1, 2)
        or len(value) != len(explanation)
    ):
        return None
    if value.ndim == 1:
        return value
    return value[:, 0] if value.shape[1] >= 1 else None


def example_checks(explanation, i):
    """The scalar parts of example `i` (completeness and additivity gaps, LIME's score, ...).

    Returns:
        dict key -> float, for the keys of `SCALAR_PARTS` the explanation
        has, in that order, then "metric:NAME" for each metric score
        (`Explanation.evaluate`; `SCALAR_PARTS[key]` is its label).
    """
    found = {}
    for key in SCALAR_PARTS:
        value = scalar_part(explanation, key)
        if value is not None:
            found[key] = float(value[i])
    for name, value in scores.example_scores(explanation, i).items():
        found[METRIC_PREFIX + name] = value
    return found


def example_summary(explanation, i, class_names=None, top=5):
    """Everything a card of example `i` states, JSON-ready.

    Args:
        explanation: the explanation.
        i: the example.
        class_names: output names. Defaults to the `class_names` part.
        top: outputs listed under "top". Defaults to 5.

    Returns:
        dict with "index", "input" (the `input_names` part, else "#i"),
        "note" (the `input_notes` part, else None), "target", "target_name",
        "attribution_sum"; with several outputs "predicted",
        "predicted_name", "score" (the predicted output's), "target_score"
        and "top"; with one output "output"; then each scalar part of
        `example_checks` whose key is not taken yet; "metrics", {name:
        score}, when the explanation has metric scores; and for tables
        "features": every feature as {"feature", "value", "weight"},
        strongest first.

    Raises:
        ValueError: for name parts of the wrong length.
    """
    count = len(explanation)
    predictions = np.asarray(explanation.predictions)
    outputs = predictions.shape[1] if predictions.ndim == 2 else 0
    class_names = resolve_names(explanation, "class_names", class_names, outputs)
    names = resolve_names(explanation, "input_names", None, count)
    notes = resolve_names(explanation, "input_notes", None, count)
    prediction = prediction_summary(explanation, i, class_names, top)
    row = {
        "index": int(i),
        "input": names[i] if names is not None else f"#{i}",
        "note": notes[i] if notes is not None else None,
        "target": prediction["target"],
        "target_name": prediction["target_name"],
        "attribution_sum": float(np.sum(explanation.attributions[i], dtype=np.float64)),
    }
    if prediction["predicted"] is not None:
        for key in ("predicted", "predicted_name", "score", "target_score", "top"):
            row[key] = prediction[key]
    elif prediction["output"] is not None:
        row["output"] = prediction["output"]
    for key, value in example_checks(explanation, i).items():
        if key.startswith(METRIC_PREFIX):
            row.setdefault("metrics", {})[key[len(METRIC_PREFIX) :]] = value
        else:
            row.setdefault(key, value)
    attributions = explanation.attributions
    if isinstance(attributions, np.ndarray) and attributions.ndim == 2:
        row["features"] = [
            {"feature": f["label"], "value": f["value"], "weight": f["weight"]}
            for f in top_features(explanation, i, top_k=None)
        ]
    return row


def completeness_note(explanation):
    """The warning line for large Integrated Gradients completeness gaps, or None.

    Reads `completeness_gap` and `baseline_scores` (and `steps` from the
    config); the threshold is `keras_explain.engine.checks.GAP_WARNING`.
    """
    extras = explanation.extras
    gap, baseline = extras.get("completeness_gap"), extras.get("baseline_scores")
    if gap is None or baseline is None:
        return None
    predictions = np.asarray(explanation.predictions, np.float64)
    scores = predictions[np.arange(len(explanation.targets)), explanation.targets]
    steps = (getattr(explanation, "config", None) or {}).get("steps")
    return completeness_message(np.asarray(gap, np.float64), scores - np.asarray(baseline), steps)
