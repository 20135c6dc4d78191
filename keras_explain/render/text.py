"""Text explanations: the tokens highlighted by attribution (HTML) and a bar chart of the top tokens.

An explanation is *in token space* when it has the annotation `token_space`.
Two layouts are read:

* "words" (`LimeText`): attributions (N, W_max) over each example's words
  `tokens[i]`; `token_spans[i]` ([start, end, word]) place every occurrence
  in the text `inputs[i]`, or, for token ids, `token_features` (N, T) gives
  the word at each position (-1 for padding).
* any other value, such as "ids" (gradient methods on token ids):
  attributions (N, T), one per position of the ids `inputs` (N, T).

Ids read as `vocabulary[id]` when a vocabulary is given, else as the id
number; positions holding `pad_id` are not shown. The HTML has no script:
each token is a `<span>` whose background is its weight on the diverging
colour scale (blue against the explained output, white 0, red for it), the
weight is in its `title`, and every token and separator is HTML-escaped.

```python
from keras_explain.render import text
html = text.text_html(e)                       # a self-contained fragment
figure = text.text_plot(e, 0, top_k=10, save="tokens.png")
figure.keras_explain_data["weights"]           # the bars drawn
```
"""

import numpy as np

from keras_explain.engine.errors import check_int, fail
from keras_explain.feature_views import check_index
from keras_explain.render import card, colors, figures
from keras_explain.render.blocks import escape
from keras_explain.render.plot_output import axes_for, finish

#: Inline styles, so that the markup reads the same inside any page (no stylesheet needed).
_PARAGRAPH = "white-space:pre-wrap;line-height:1.9;margin:4px 0"
_TOKEN = "padding:1px 2px;border-radius:3px"
_NOTE = "color:#6e6e73;font-size:12px;margin:4px 0"


def in_token_space(explanation):
    """True for an explanation of one model input with the `token_space` annotation."""
    return not explanation.multi_input and explanation.extras.get("token_space") is not None


def _check_vocabulary(vocabulary):
    if vocabulary is not None and (isinstance(vocabulary, str) or not hasattr(vocabulary, "__len__")):
        fail("vocabulary", "a list with the word of each token id, or None", vocabulary)
    return vocabulary


def _id_text(token, vocabulary):
    token = int(token)
    if vocabulary is not None and 0 <= token < len(vocabulary):
        return str(vocabulary[token])
    return str(token)


def token_units(explanation, i, vocabulary=None, pad_id=0):
    """Example `i` in reading order: (text, weight) per token, (text, None) per separator.

    Args:
        explanation: an explanation in token space (see the module docstring).
        i: the example.
        vocabulary: the word of each token id, or None to show ids as numbers.
            Defaults to None.
        pad_id: the id of padding positions, which are not shown; None
            shows every position. Defaults to 0.

    Returns:
        list of (str, float or None).

    Raises:
        ValueError: for an explanation that is not in token space.
    """
    if not in_token_space(explanation):
        fail("explanation", "an explanation in token space (the token_space annotation)", explanation.method)
    vocabulary = _check_vocabulary(vocabulary)
    weights = np.asarray(explanation.attributions[i], np.float64)
    extras = explanation.extras
    if extras.get("token_spans") is not None:
        text, units, start = str(explanation.inputs[i]), [], 0
        for begin, end, word in extras["token_spans"][i]:
            if begin > start:
                units.append((text[start:begin], None))
            units.append((text[begin:end], float(weights[word])))
            start = end
        return units + ([(text[start:], None)] if start < len(text) else [])
    ids = np.asarray(explanation.inputs[i]).reshape(-1)
    features = extras.get("token_features")
    units = []
    for position, token in enumerate(ids):
        feature = position if features is None else int(features[i][position])
        if feature < 0 or (features is None and pad_id is not None and token == pad_id):
            continue
        if units:
            units.append((" ", None))
        units.append((_id_text(token, vocabulary), float(weights[feature])))
    return units


def token_weights(explanation, i, vocabulary=None, pad_id=0):
    """(tokens, weights (T_i,)): the explained tokens of example `i` and their attributions.

    For "words" the distinct words `tokens[i]` (each weight counts for all
    its occurrences); otherwise one entry per shown position, in order.
    """
    if explanation.extras.get("tokens") is not None and explanation.extras.get("num_tokens") is not None:
        count = int(explanation.num_tokens[i])
        tokens = [str(t) for t in explanation.tokens[i]][:count]
        if vocabulary is not None and explanation.extras.get("token_features") is not None:
            ids = np.asarray(explanation.inputs[i]).reshape(-1)
            features = np.asarray(explanation.token_features[i])
            first = {}
            for position, feature in enumerate(features):
                if feature >= 0:
                    first.setdefault(int(feature), int(ids[position]))
            tokens = [_id_text(first[f], vocabulary) for f in range(count)]
        return tokens, np.asarray(explanation.attributions[i][:count], np.float64)
    units = [u for u in token_units(explanation, i, vocabulary, pad_id) if u[1] is not None]
    return [t for t, _ in units], np.array([w for _, w in units], np.float64)


def token_color(weight, scale):
    """The "#rrggbb" colour of `weight` on the diverging scale [-scale, scale] (white at 0)."""
    position = 0.5 + 0.5 * float(np.clip(weight / scale, -1.0, 1.0))
    red, green, blue = colors.colormap(colors.DIVERGING)(position)[:3]
    return "#" + "".join(f"{int(round(c * 255)):02x}" for c in (red, green, blue))


def example_scale(explanation, i, vocabulary=None, pad_id=0):
    """The colour scale of example `i`: its largest |weight| (1.0 when every weight is 0)."""
    _, weights = token_weights(explanation, i, vocabulary, pad_id)
    largest = float(np.max(np.abs(weights))) if weights.size else 0.0
    return largest if largest > 0 else 1.0


def highlight_html(explanation, i, vocabulary=None, pad_id=0, scale=None):
    """Example `i` as a `<p class="kx-tokens">` of escaped text, each token a coloured `<span>`.

    Args:
        explanation: an explanation in token space.
        i: the example.
        vocabulary: the word of each token id. Defaults to None (id numbers).
        pad_id: padding id, not shown. Defaults to 0.
        scale: |weight| of the strongest colours. Defaults to None: the
            example's largest |weight| (`example_scale`).

    Returns:
        str; each token span carries its weight in `title` and
        `data-weight`.
    """
    scale = example_scale(explanation, i, vocabulary, pad_id) if scale is None else float(scale)
    parts = [f'<p class="kx-tokens" style="{_PARAGRAPH}">']
    for text, weight in token_units(explanation, i, vocabulary, pad_id):
        if weight is None:
            parts.append(escape(text))
            continue
        ink = "#fff" if abs(weight) > 0.6 * scale else "#1d1d1f"
        parts.append(
            f'<span class="kx-token" style="{_TOKEN};background:{token_color(weight, scale)};color:{ink}" '
            f'title="{escape(card.format_number(weight))}" data-weight="{weight!r}">{escape(text)}</span>'
        )
    parts.append("</p>")
    return "".join(parts)


def legend_html():
    """The colour legend of highlighted tokens: a ramp from against (blue) to for (red)."""
    stops = ", ".join(colors.colormap_stops(colors.DIVERGING))
    ramp = "display:inline-block;width:200px;height:12px;border:1px solid #ccc;"
    ramp += f"background:linear-gradient(to right, {stops})"
    return (
        '<div class="legend" style="display:flex;align-items:center;gap:8px;font-size:12px;margin:6px 0 2px">'
        f'<span>against the explained output</span><span class="ramp" style="{ramp}"></span>'
        "<span>for it</span></div>"
        f'<p class="note" style="{_NOTE}">Token colours: blue opposes the explained output, red supports it, white '
        "is 0; each example is scaled to its largest |weight| (hover a token for its weight).</p>"
    )


def text_html(explanation, indices=None, vocabulary=None, pad_id=0, max_examples=8, class_names=None):
    """The highlighted tokens of several examples, as one self-contained HTML fragment.

    Args:
        explanation: an explanation in token space (`LimeText`, or a
            gradient method on token ids annotated with `token_space`).
        indices: examples to show. Defaults to the first `max_examples`.
        vocabulary: the word of each token id. Defaults to None (id numbers).
        pad_id: padding id, not shown. Defaults to 0.
        max_examples: examples shown when `indices` is None. Defaults to 8.
        class_names: output names. Defaults to the `class_names` part.

    Returns:
        str, a `<div class="kx-text">` with its legend, styled inline; no
        script, no external address.

    Raises:
        ValueError: for an explanation not in token space or a bad index.

    Example:

    ```python
    e = kx.LimeText(model, random_state=0).explain(["a great film"])
    open("tokens.html", "w").write(text.text_html(e))
    ```
    """
    max_examples = check_int("max_examples", max_examples, minimum=1)
    chosen = range(min(len(explanation), max_examples)) if indices is None else indices
    names = class_names if class_names is not None else explanation.extras.get("class_names")
    parts = ['<div class="kx-text">', legend_html()]
    for i in chosen:
        i = check_index(explanation, i)
        label = card.output_label(int(explanation.targets[i]), names)
        scale = example_scale(explanation, i, vocabulary, pad_id)
        parts.append(
            f'<p class="note" style="{_NOTE}">#{i} · explained output {escape(label)} · colour scale ±'
            f"{escape(card.format_number(scale))}</p>"
        )
        parts.append(highlight_html(explanation, i, vocabulary, pad_id, scale))
    parts.append("</div>")
    return "".join(parts)


def text_plot(explanation, i, top_k=10, ax=None, save=None, vocabulary=None, pad_id=0, class_names=None):
    """A bar chart of the `top_k` tokens of example `i` by |weight|, the strongest at the top.

    Args:
        explanation: an explanation in token space.
        i: the example.
        top_k: bars drawn. Defaults to 10.
        ax: a matplotlib Axes to draw on. Defaults to None (a new figure).
        save: optional path; the figure is written there.
        vocabulary: the word of each token id. Defaults to None (id numbers).
        pad_id: padding id, not shown. Defaults to 0.
        class_names: output names, for the title. Defaults to the
            `class_names` part.

    Returns:
        matplotlib.figure.Figure; `figure.keras_explain_data` holds "tokens"
        (the labels drawn, strongest first), "weights" (np.ndarray, the
        bars), "positions" (their index in `token_weights`), "example" and
        "target".

    Example:

    ```python
    figure = text.text_plot(e, 0, top_k=5, save="top_tokens.png")
    ```
    """
    i = check_index(explanation, i)
    top_k = check_int("top_k", top_k, minimum=1)
    tokens, weights = token_weights(explanation, i, vocabulary, pad_id)
    order = np.argsort(-np.abs(weights), kind="stable")[:top_k]
    figure, axis = axes_for(ax, 6.0, max(2.0, 0.3 * len(order) + 0.9))
    shown = weights[order][::-1]
    axis.barh(np.arange(len(order)), shown, color=figures.bar_colors(shown))
    axis.set_yticks(np.arange(len(order)), [figures.plain_text(tokens[k], 32) for k in order[::-1]])
    axis.axvline(0.0, color="black", linewidth=0.8)
    names = class_names if class_names is not None else explanation.extras.get("class_names")
    target = int(explanation.targets[i])
    axis.set_title(
        f"{figures.plain_text(explanation.method)}: #{i}, top tokens for "
        f"{figures.plain_text(card.output_label(target, names), 24)}",
        fontsize=9,
    )
    axis.set_xlabel("weight", fontsize=8)
    axis.tick_params(labelsize=8)
    data = {
        "tokens": [tokens[k] for k in order],
        "weights": weights[order],
        "positions": order,
        "example": i,
        "target": target,
    }
    return finish(figure, data, save, [axis])
