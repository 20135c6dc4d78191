"""Metric scores as cards, tables and the command line show them.

An explanation's `metric_scores` part maps a metric's name to its scores
(N,). These functions read it by duck typing (`extras.get`, `len()`) and
return plain values, so that the HTML report's cards, the notebook view and
the command line's table and JSON show the same figures.

```python
from keras_explain.render import scores

scores.example_scores(e, 0)      # {"deletion": 0.12, "mufidelity": 0.83}
scores.score_table(e)            # per example and mean, JSON-ready
print(scores.table_text(scores.score_table(e)))
```
"""

import numpy as np

#: Metric name -> (label, whether higher is better), in the order shown.
METRIC_LABELS = {
    "deletion": ("deletion AUC", False),
    "insertion": ("insertion AUC", True),
    "mufidelity": ("μ-fidelity", True),
    "faithfulness_correlation": ("faithfulness correlation", True),
    "infidelity": ("infidelity", False),
    "max_sensitivity": ("max-sensitivity", False),
    "randomization": ("randomization rank correlation", False),
}


def metric_label(name):
    """ "deletion AUC (lower is better)"; another name reads as itself, "_" as spaces."""
    label, higher = METRIC_LABELS.get(name, (str(name).replace("_", " "), None))
    if higher is None:
        return label
    return f"{label} ({'higher' if higher else 'lower'} is better)"


def metric_scores(explanation):
    """The `metric_scores` part as {name: float64 array (N,)}, known metrics first."""
    found = explanation.extras.get("metric_scores") or {}
    count = len(explanation)
    usable = {
        str(name): np.asarray(values, dtype=np.float64)
        for name, values in found.items()
        if np.ndim(values) == 1 and len(values) == count
    }
    order = [name for name in METRIC_LABELS if name in usable] + sorted(set(usable) - set(METRIC_LABELS))
    return {name: usable[name] for name in order}


def example_scores(explanation, i):
    """The metric scores of example `i`: {name: float}."""
    return {name: float(values[i]) for name, values in metric_scores(explanation).items()}


def score_table(explanation, names=None):
    """Every example's metric scores and their means, JSON-ready.

    Args:
        explanation: the scored explanation.
        names: the examples' names (the `input_names` part, else "#i").

    Returns:
        dict with "metrics" (list of {"name", "label", "higher_is_better"
        (bool or None), "mean"}), and "rows" (one {"input", "scores": {name:
        float}} per example).
    """
    scores = metric_scores(explanation)
    names = names or explanation.extras.get("input_names") or [f"#{i}" for i in range(len(explanation))]
    return {
        "metrics": [
            {
                "name": name,
                "label": metric_label(name),
                "higher_is_better": METRIC_LABELS.get(name, (None, None))[1],
                "mean": float(np.mean(values)),
            }
            for name, values in scores.items()
        ],
        "rows": [
            {"input": str(names[i]), "scores": {name: float(values[i]) for name, values in scores.items()}}
            for i in range(len(explanation))
        ],
    }


def table_text(table, digits=4):
    """A `score_table` as aligned text: one column per metric, a row per example and the mean."""
    names = [metric["name"] for metric in table["metrics"]]
    arrows = {True: " ↑", False: " ↓", None: ""}
    header = ["input"] + [m["name"] + arrows[m["higher_is_better"]] for m in table["metrics"]]
    body = [[row["input"]] + [f"{row['scores'][n]:.{digits}g}" for n in names] for row in table["rows"]]
    body.append(["mean"] + [f"{m['mean']:.{digits}g}" for m in table["metrics"]])
    widths = [max(len(line[k]) for line in [header] + body) for k in range(len(header))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        return "  ".join([first] + [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])])

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule] + [line(cells) for cells in body[:-1]] + [rule, line(body[-1])])
