"""How an explanation shows in a notebook: a compact, self-contained HTML view, or a PNG.

`Explanation._repr_html_` and `_repr_png_` call these, so an explanation
that ends a notebook cell shows itself. The HTML has no script and loads
nothing: pictures are `data:` PNGs, the style is scoped to the view's own
`<div class="kx-explanation">`, and every string a user supplies (feature and
class names, input names, settings) is escaped. It reuses the blocks of the
HTML report's cards (`keras_explain.render.blocks`), so both read the same.

```python
e = kx.IntegratedGradients(model).explain(x)
e                                   # in a notebook: the view below
from keras_explain.render import notebook
notebook.explanation_html(e, max_examples=4)
```
"""

import numpy as np

from keras_explain.engine.errors import check_int
from keras_explain.feature_views import is_global
from keras_explain.render import blocks, card, html_global, scores, text
from keras_explain.render.blocks import escape, number
from keras_explain.summaries import summarize

#: Examples shown; the view says how many more there are.
MAX_EXAMPLES = 8
#: Features listed per tabular example (and in a global explanation's table: twice as many).
TOP_FEATURES = 10

_STYLE = """
.kx-explanation{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;max-width:1100px}
.kx-explanation table{border-collapse:collapse;font-size:12px;margin-top:4px}
.kx-explanation td,.kx-explanation th{padding:1px 6px;text-align:left;vertical-align:top;border-bottom:1px solid #eee}
.kx-explanation td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.kx-explanation .kx-head{margin:0 0 4px;word-break:break-all}
.kx-explanation .note,.kx-explanation .muted,.kx-explanation .kx-more{color:#6e6e73;font-size:12px;margin:4px 0}
.kx-explanation .warning{color:#8a4b00;background:#fff4e0;border-left:3px solid #e08a00;padding:4px 8px}
.kx-explanation .kx-examples{display:flex;flex-wrap:wrap;gap:10px}
.kx-explanation .kx-example{border:1px solid #e3e3e8;border-radius:6px;padding:8px;min-width:260px}
.kx-explanation .kx-title{font-weight:600;margin:0 0 4px;word-break:break-all}
.kx-explanation .pred{margin:2px 0}.kx-explanation .other{color:#b2182b}
.kx-explanation .pictures{display:flex;gap:6px}.kx-explanation figure{margin:0}
.kx-explanation figcaption{font-size:11px;color:#6e6e73;text-align:center}
.kx-explanation figure img{display:block;width:120px;height:auto;image-rendering:pixelated;border:1px solid #ddd}
.kx-explanation .bar{display:inline-block;height:10px;vertical-align:middle}
.kx-explanation .pos{background:#b2182b}.kx-explanation .neg{background:#2166ac}
.kx-explanation summary{cursor:pointer;color:#444;font-size:12px}
"""


def _shapes(explanation):
    a = explanation.attributions
    return ", ".join(str(tuple(p.shape)) for p in a) if isinstance(a, list) else str(tuple(a.shape))


def _head(explanation):
    count = len(explanation)
    inputs = f", a model of {len(explanation.attributions)} inputs" if explanation.multi_input else ""
    if not explanation.multi_input and is_global(explanation):
        size = np.size(explanation.attributions)
        text = f"a global explanation: one importance per feature ({size} features), ± its standard deviation"
    else:
        text = f"{count} example{'s' if count != 1 else ''}{inputs}, attributions of shape {_shapes(explanation)}"
    parts = [
        f'<p class="kx-head"><b>{escape(blocks.settings_line(explanation))}</b></p>',
        f'<p class="note">{escape(text)}</p>',
    ]
    note = card.completeness_note(explanation)
    if note:
        parts.append(f'<p class="warning">{escape(note)}</p>')
    return "".join(parts)


def _metric_means(explanation):
    metrics = scores.score_table(explanation)["metrics"]
    if not metrics:
        return ""
    text = "; ".join(f"{m['label']} {number(m['mean'])}" for m in metrics)
    return f'<p class="note">metric scores, mean over the {len(explanation)} examples: {escape(text)}</p>'


def _example(explanation, i, context, top_k, vocabulary=None):
    """One example: its name, the prediction, the top features or the pictures, the checks."""
    name = context.names[i] if context.names is not None else f"example {i}"
    parts = [f'<div class="kx-example" id="kx-example-{i}"><p class="kx-title">#{i} · {escape(name)}</p>']
    if context.notes is not None:
        parts.append(f'<p class="note">{escape(context.notes[i])}</p>')
    attributions = explanation.attributions
    prediction = blocks.prediction_block(explanation, i, context, 3)
    if explanation.multi_input:
        parts.append(prediction)
    elif text.in_token_space(explanation):
        parts += [prediction, text.highlight_html(explanation, i, vocabulary)]
    elif attributions.ndim == 2:
        parts += [prediction, blocks.feature_table(explanation, i, top_k)]
    elif context.maps is not None:
        parts += [blocks.image_pictures(explanation, i, context), prediction]
    else:
        parts += [
            prediction,
            f'<p class="muted">attributions {escape(tuple(attributions.shape[1:]))}: '
            f"sum {escape(number(np.sum(attributions[i], dtype=np.float64)))}</p>",
        ]
    parts.append(blocks.checks_block(explanation, i))
    parts.append("</div>")
    return "".join(parts)


def _examples(explanation, max_examples, top_k, vocabulary=None):
    context = blocks.card_context(explanation, 0)
    count = len(explanation)
    shown = min(count, max_examples)
    parts = ['<div class="kx-examples">']
    parts += [_example(explanation, i, context, top_k, vocabulary) for i in range(shown)]
    parts.append("</div>")
    if shown < count:
        parts.append(f'<p class="kx-more">and {count - shown} more example{"s" if count - shown != 1 else ""}</p>')
    return "".join(parts)


def explanation_html(explanation, max_examples=MAX_EXAMPLES, top_k=TOP_FEATURES, vocabulary=None):
    """The notebook view of an explanation, as one self-contained HTML fragment.

    It states the method and its settings (all of them under "settings"),
    the number of examples and the shape of the attributions, the
    completeness warning of Integrated Gradients when the gaps are large, and
    the mean of each metric score (`Explanation.evaluate`). A global
    explanation (PermutationImportance) shows its importance table, strongest
    first. Otherwise each of the first `max_examples` examples shows the
    prediction (class names when the explanation has them) and the explained
    output; for tables the `top_k` features by |attribution| (LIME's labels,
    else the feature names) with their values and signed bars, for images
    the input and its overlay, for text (an explanation in token space) the
    tokens highlighted by weight, with a colour legend; and its checks (completeness or additivity
    gap, LIME's fit, metric scores). A line says how many examples are not
    shown.

    Args:
        explanation: an `Explanation`.
        max_examples: examples shown. Defaults to 8.
        top_k: features listed per tabular example. Defaults to 10.
        vocabulary: the word of each token id, for text explanations of
            token ids. Defaults to None (the ids as numbers).

    Returns:
        str, a `<div class="kx-explanation">` with its scoped `<style>`; no
        script, no external address.

    Raises:
        ValueError: for `max_examples` or `top_k` below 1.

    Example:

    ```python
    from IPython.display import HTML
    HTML(notebook.explanation_html(e, max_examples=2))
    ```
    """
    max_examples = check_int("max_examples", max_examples, minimum=1)
    top_k = check_int("top_k", top_k, minimum=1)
    parts = [f'<div class="kx-explanation"><style>{_STYLE}</style>', _head(explanation)]
    if not explanation.multi_input and is_global(explanation):
        summary = summarize([explanation], keep=False)
        parts.append(html_global.summary_table(summary, 2 * top_k))
        hidden = len(summary.order) - 2 * top_k
        if hidden > 0:
            parts.append(f'<p class="kx-more">and {hidden} more feature{"s" if hidden != 1 else ""}</p>')
    else:
        if text.in_token_space(explanation):
            parts.append(text.legend_html())
        parts.append(_examples(explanation, max_examples, top_k, vocabulary))
    parts.append(_metric_means(explanation))
    parts.append(f"<details><summary>settings</summary>{blocks.settings_table(explanation)}</details></div>")
    return "".join(parts)


def explanation_png(explanation, dpi=80):
    """PNG bytes of `explanation.plot()` (its first 8 examples), or None where no figure fits.

    Args:
        explanation: an `Explanation`.
        dpi: resolution of the picture. Defaults to 80.

    Returns:
        bytes, or None for a model of several inputs or attributions that
        are neither tables (N, F) nor images (N, H, W[, C]).
    """
    if explanation.multi_input or np.ndim(explanation.attributions) not in (2, 3, 4):
        return None
    if text.in_token_space(explanation):
        return blocks.figure_png(text.text_plot(explanation, 0), dpi=dpi)
    return blocks.figure_png(explanation.plot(), dpi=dpi)
