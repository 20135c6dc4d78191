"""Self-contained HTML reports of explanations, to read in any browser or hand over.

One file: pictures are inlined as `data:` PNGs, the style is inline, there is
no JavaScript and no external address, and a Content-Security-Policy forbids
scripts and network requests even if a string slipped through. Every string a
user supplies (class names, feature names and labels, file names, settings)
is HTML-escaped.

```python
import keras_explain as kx

e = kx.IntegratedGradients(model).explain(x)
kx.report.write_html(e, "report.html", class_names=["cat", "dog"])
```
"""

from keras_explain.explanation import Explanation
from keras_explain.render import card, html
from keras_explain.render.html import CLIP_PERCENTILE, CSP

__all__ = ["CLIP_PERCENTILE", "CSP", "feature_rows", "write_html"]


def feature_rows(explanation, i, top_k=10):
    """The `top_k` features of tabular sample `i` by |weight|: (label, value, weight) rows.

    Labels are the `feature_labels` extra (LIME: "age > 60.00") when present,
    else `feature_names`, else "x0", "x1", ...; values the `feature_values`
    extra, else the input's value; only the features of the `used` extra
    (LIME's selection) are listed when it exists.

    Returns:
        list of (str, str, float).
    """
    return [(f["label"], f["value"], f["weight"]) for f in card.top_features(explanation, i, top_k)]


def _checked(explanations):
    """`explanations` as a non-empty list of single-input `Explanation`s."""
    if isinstance(explanations, Explanation):
        explanations = [explanations]
    explanations = list(explanations) if isinstance(explanations, (list, tuple)) else explanations
    if not isinstance(explanations, list) or not explanations:
        raise ValueError(
            f"explanations: expected an Explanation or a non-empty list of them, received "
            f"{'an empty list' if isinstance(explanations, list) else type(explanations).__name__}."
        )
    for item in explanations:
        if not isinstance(item, Explanation):
            raise ValueError(
                f"explanations: expected Explanation objects, received a {type(item).__name__}."
            )
        if item.multi_input:
            raise ValueError(
                f"explanations: expected explanations of models with one input, received a "
                f"{item.method} explanation of a model with {len(item.attributions)} inputs."
            )
    return explanations


def write_html(
    explanations, path,
    class_names=None, input_names=None, input_notes=None,
    title="Explanations", description=None,
    top_k=10, top_outputs=3, max_samples=None,
    cmap=None, reduce="sum", progress=None,
    global_view="auto", max_features=20, vocabulary=None,
):
    """Write explanations as one self-contained HTML report.

    A section per explanation shows the method's settings and a colour
    legend, then a card per sample: its name and what was done to it, the
    input and the overlay (LIME with its superpixel boundaries; the colour
    scale is stated), the prediction with class names and scores, the
    explained output, per-sample checks (completeness or additivity gap,
    surrogate R²) and, for tabular explanations, a table of the `top_k`
    features by |weight| with their values; explanations of text (in token
    space: `LimeText`, gradients of token ids) show the tokens highlighted
    by weight. Pictures are inlined as PNG
    `data:` URIs; there is no script and no external address; every
    user-supplied string is escaped.

    A global explanation, or a table of 20 rows or more, also gets a global
    view before its cards: the table of `kx.summarize` (also by explained
    class), the bar and beeswarm summary plots and the dependence plot of
    the strongest feature.

    Args:
        explanations: an `Explanation` or a list of them (one section each).
        path: the `.html` file to write.
        class_names: names of the model's outputs (K). Defaults to each
            explanation's `class_names` extra, else indices.
        input_names: names of the samples (N), for example file names.
            Defaults to each explanation's `input_names` extra, else "sample i".
        input_notes: one note per sample (N), for example "64x64 RGB, resized
            to 8x8". Defaults to the `input_notes` extra.
        title: the page title. Defaults to "Explanations".
        description: a paragraph under the title. Defaults to None.
        top_k: features per tabular card. Defaults to 10.
        top_outputs: outputs listed per card. Defaults to 3.
        max_samples: cards per explanation; None shows all. Defaults to None.
        cmap: colour map of the overlays. Defaults to "RdBu_r" for signed
            maps, "inferno" for magnitudes.
        reduce: channel reduction of image attributions, as in
            `Explanation.heatmap`. Defaults to "sum".
        progress: optional callable, called once per card written.
        global_view: "auto" (as above), True (every table) or False.
            Defaults to "auto".
        max_features: features in the global view's tables and plots.
            Defaults to 20.
        vocabulary: for explanations in token space (text), the word of
            each token id; ids show as numbers without it. Defaults to None.

    Returns:
        The path written.

    Raises:
        ValueError: for no explanation, an object that is not an
            `Explanation`, name lists whose length does not match, or
            another `global_view`.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x)
    kx.report.write_html(e, "report.html", class_names=digits.target_names)
    ```
    """
    explanations = _checked(explanations)
    options = html.ReportOptions(
        class_names=class_names, input_names=input_names, input_notes=input_notes, top_k=top_k,
        top_outputs=top_outputs, max_samples=max_samples, cmap=cmap, reduce=reduce, progress=progress,
        global_view=global_view, max_features=max_features, vocabulary=vocabulary,
    )
    return html.write_page(explanations, path, options, title=title, description=description)
