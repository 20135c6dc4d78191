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

import base64
import datetime
import html
import os

import numpy as np

from keras_explain import viz
from keras_explain.explanation import Explanation

#: Content-Security-Policy of every report: inline style and data: images only.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)

#: Overlays saturate beyond this percentile of |attribution| of their own map.
CLIP_PERCENTILE = 99.5

#: Per-sample extras shown in a card when the method returns them.
_SCALAR_EXTRAS = {
    "completeness_gap": "completeness gap",
    "additivity_gap": "additivity gap",
    "expected_value": "E[f(background)]",
    "score": "surrogate R²",
    "intercept": "surrogate intercept",
    "local_pred": "surrogate prediction",
}

_STYLE = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
  background:#f5f5f7;margin:0;padding:24px}
main{max-width:1200px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}
h3{font-size:14px;margin:0 0 6px;word-break:break-all}
.meta,.note,.muted{color:#6e6e73}.note{font-size:12px;margin:0 0 8px}
section{background:#fff;border-radius:10px;padding:16px 20px;margin:16px 0;
  box-shadow:0 1px 3px rgba(0,0,0,.08)}
table{border-collapse:collapse;font-size:12px}
td,th{padding:2px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #eee}
th{font-weight:600;color:#444}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.settings td:first-child{color:#444;white-space:nowrap}.settings td{word-break:break-all}
.legend{display:flex;align-items:center;gap:8px;font-size:12px;margin:8px 0 4px}
.ramp{width:240px;height:12px;border:1px solid #ccc;border-radius:2px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px;margin-top:12px}
.card{border:1px solid #e3e3e8;border-radius:8px;padding:12px;background:#fff}
.pictures{display:flex;gap:8px;flex-wrap:wrap}
figure{margin:0}figcaption{font-size:11px;color:#6e6e73;text-align:center}
figure img{display:block;width:150px;height:auto;image-rendering:pixelated;border:1px solid #ddd}
table.features{width:100%;margin-top:8px}table.features td:nth-child(2){min-width:120px}
table.top,table.extras{margin-top:6px}
.pred{margin:8px 0 4px}.pred b{font-weight:600}.other{color:#b2182b}
.bar{display:inline-block;height:10px;vertical-align:middle}
.pos{background:#b2182b}.neg{background:#2166ac}
footer{font-size:12px;color:#6e6e73;margin:24px 0}
"""


def _e(value):
    """HTML-escape any value (quotes included)."""
    return html.escape(str(value), quote=True)


def _data_uri(rgb):
    return "data:image/png;base64," + base64.b64encode(viz.png_bytes(rgb)).decode("ascii")


def _number(value, digits=4):
    value = float(value)
    if value == 0.0:
        return "0"
    if np.isnan(value):
        return "nan"
    return f"{value:.{digits}g}"


def _flatten_config(config, prefix=""):
    rows = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and set(value) == {"array_shape", "dtype"}:
            rows.append((name, f"array {tuple(value['array_shape'])} {value['dtype']}"))
        elif isinstance(value, dict) and value:
            rows.extend(_flatten_config(value, name + "."))
        else:
            text = repr(value) if isinstance(value, str) else str(value)
            if len(text) > 120:
                text = text[:117] + "..."
            rows.append((name, text))
    return rows


def _settings_table(explanation):
    rows = _flatten_config(explanation.config)
    if not rows:
        return '<p class="muted">No settings recorded.</p>'
    body = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="settings"><tbody>{body}</tbody></table>'


def _settings_line(explanation):
    rows = [
        (k, v)
        for k, v in _flatten_config(explanation.config)
        if k not in ("verbose", "run_eagerly", "batch_size") and v != "None"
    ]
    text = ", ".join(f"{k}={v}" for k, v in rows[:8]) + (", ..." if len(rows) > 8 else "")
    return f"{explanation.method}({text})"


def _names(given, extra, count, argument):
    names = given if given is not None else extra
    if names is None:
        return None
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ValueError(
            f"{argument}: expected a list of {count} names, received a {type(names).__name__}."
        )
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(
            f"{argument}: expected {count} names, one per "
            f"{'output' if argument == 'class_names' else 'sample'}, received {len(names)}."
        )
    return names


def _label(index, class_names):
    index = int(index)
    if class_names is not None and 0 <= index < len(class_names):
        return f"{index} · {class_names[index]}"
    return str(index)


def _is_probability(predictions):
    return (
        predictions.ndim == 2
        and predictions.shape[1] > 1
        and np.all(predictions >= 0.0)
        and np.allclose(predictions.sum(axis=1), 1.0, atol=1e-3)
    )


def _prediction_block(explanation, i, class_names, top):
    predictions = explanation.predictions
    target = int(explanation.targets[i])
    if predictions.ndim != 2:
        return f'<p class="pred">explained output <b>{_e(_label(target, class_names))}</b></p>'
    if predictions.shape[1] == 1:
        return (
            f'<p class="pred">model output <b>{_e(_number(predictions[i, 0]))}</b>; '
            f"explained output 0</p>"
        )
    kind = "probability" if _is_probability(predictions) else "score"
    predicted = int(np.argmax(predictions[i]))
    parts = [
        f'<p class="pred">predicted <b>{_e(_label(predicted, class_names))}</b> '
        f"({kind} {_e(_number(predictions[i, predicted], 3))})"
    ]
    if target == predicted:
        parts.append("; explained: the predicted class</p>")
    else:
        parts.append(
            f'; <span class="other">explained <b>{_e(_label(target, class_names))}</b> '
            f"({kind} {_e(_number(predictions[i, target], 3))})</span></p>"
        )
    order = np.argsort(-predictions[i], kind="stable")[:top]
    rows = "".join(
        f"<tr><td>{_e(_label(k, class_names))}</td>"
        f'<td class="num">{_e(_number(predictions[i, k], 3))}</td></tr>'
        for k in order
    )
    parts.append(
        f'<table class="top"><thead><tr><th>top {len(order)} outputs</th><th>{kind}</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )
    return "".join(parts)


def _extras_block(explanation, i):
    rows = []
    for key, label in _SCALAR_EXTRAS.items():
        value = explanation.extras.get(key)
        if (
            not isinstance(value, np.ndarray)
            or value.dtype.kind not in "fiu"
            or len(value) != len(explanation)
        ):
            continue
        if value.ndim == 1:
            rows.append((label, value[i]))
        elif value.ndim == 2 and value.shape[1] >= 1:
            rows.append((label, value[i, 0]))
    if not rows:
        return ""
    body = "".join(
        f'<tr><td>{_e(k)}</td><td class="num">{_e(_number(v))}</td></tr>' for k, v in rows
    )
    return f'<table class="extras"><tbody>{body}</tbody></table>'


def feature_rows(explanation, i, top_k=10):
    """The `top_k` features of tabular sample `i` by |weight|: (label, value, weight) rows.

    Labels are the `feature_labels` extra (LIME: "age > 60.00") when present,
    else `feature_names`, else "x0", "x1", ...; values the `feature_values`
    extra, else the input's value; only the features of the `used` extra
    (LIME's selection) are listed when it exists.

    Returns:
        list of (str, str, float).
    """
    values = explanation.attributions[i]
    size = values.shape[0]
    labels = explanation.extras.get("feature_labels")
    names = explanation.extras.get("feature_names") or [f"x{j}" for j in range(size)]
    shown = explanation.extras.get("feature_values")
    used = explanation.extras.get("used")
    keep = np.asarray(used[i], dtype=bool) if used is not None else np.ones(size, dtype=bool)
    order = [j for j in np.argsort(-np.abs(values), kind="stable") if keep[j]][:top_k]
    rows = []
    for j in order:
        label = labels[i][j] if labels is not None else names[j]
        if shown is not None:
            value = str(shown[i][j])
        elif explanation.inputs.ndim == 2 and explanation.inputs.shape[1] == size:
            value = _number(explanation.inputs[i, j])
        else:
            value = ""
        rows.append((str(label), value, float(values[j])))
    return rows


def _table_card_body(explanation, i, top_k):
    rows = feature_rows(explanation, i, top_k)
    if not rows:
        return '<p class="muted">No feature was selected.</p>'
    largest = max(abs(w) for _, _, w in rows) or 1.0
    body = []
    for rank, (label, value, weight) in enumerate(rows, start=1):
        width = int(round(56 * abs(weight) / largest))
        sign = "pos" if weight > 0 else "neg"
        body.append(
            f'<tr><td class="num">{rank}</td><td>{_e(label)}</td><td class="num">{_e(value)}</td>'
            f'<td class="num">{_e(_number(weight))}</td>'
            f'<td><span class="bar {sign}" style="width:{width}px"></span></td></tr>'
        )
    return (
        f'<table class="features"><thead><tr><th>#</th><th>feature</th><th>value</th>'
        f"<th>weight</th><th></th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _legend(symmetric, cmap):
    name = cmap or (viz.DIVERGING if symmetric else viz.SEQUENTIAL)
    stops = ", ".join(viz.colormap_stops(name))
    if symmetric:
        ends = ("−scale: against", "+scale: for the explained output")
        text = "Overlay colours: blue opposes the explained output, red supports it, white is 0."
    else:
        ends = ("lowest", "highest attribution")
        text = "Overlay colours: magnitudes, dark to bright."
    return (
        f'<div class="legend"><span>{_e(ends[0])}</span>'
        f'<span class="ramp" style="background:linear-gradient(to right, {stops})"></span>'
        f"<span>{_e(ends[1])}</span></div>"
        f'<p class="note">{_e(text)} Each overlay is scaled to its own {CLIP_PERCENTILE:g}th percentile '
        "of |attribution| (the card gives the scale); stronger attributions are more opaque.</p>"
    )


def _image_card_body(explanation, i, maps, symmetric, segments, cmap, names):
    heat = maps[i]
    image = explanation.inputs[i]
    scale = viz.display_scale(np.shape(image)[:2], 160)
    limits = viz.color_limits(heat, symmetric, CLIP_PERCENTILE)
    picture, mixed = viz.sample_pictures(
        image,
        heat,
        segments=None if segments is None else segments[i],
        limits=limits,
        cmap=cmap,
        scale=scale,
    )
    if max(picture.shape[:2]) > 320:
        picture, mixed = _shrink(picture), _shrink(mixed)
    name = names[i] if names is not None else f"sample {i}"
    overlay_caption = "overlay + superpixels" if segments is not None else "overlay"
    vmin, vmax, _ = limits
    scale_text = (
        f"scale ±{_number(vmax, 3)}"
        if symmetric
        else f"scale {_number(vmin, 3)} to {_number(vmax, 3)}"
    )
    return (
        '<div class="pictures">'
        f'<figure><img src="{_data_uri(picture)}" alt="input {_e(name)}" width="150">'
        "<figcaption>input</figcaption></figure>"
        f'<figure><img src="{_data_uri(mixed)}" alt="overlay of {_e(name)}" width="150">'
        f"<figcaption>{_e(overlay_caption)}, {_e(scale_text)}</figcaption></figure>"
        "</div>"
    )


def _shrink(rgb, largest=320):
    from PIL import Image

    height, width = rgb.shape[:2]
    factor = largest / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def _section(
    explanation,
    number,
    class_names,
    input_names,
    input_notes,
    top_k,
    top_outputs,
    max_samples,
    cmap,
    reduce,
    progress,
):
    count = len(explanation)
    outputs = explanation.predictions.shape[1] if explanation.predictions.ndim == 2 else 0
    class_names = _names(class_names, explanation.extras.get("class_names"), outputs, "class_names")
    names = _names(input_names, explanation.extras.get("input_names"), count, "input_names")
    notes = _names(input_notes, explanation.extras.get("input_notes"), count, "input_notes")
    shown = range(count) if max_samples is None else range(min(count, max_samples))
    attributions = explanation.attributions
    tabular = attributions.ndim == 2
    parts = [
        f'<section id="explanation-{number}"><h2>{_e(explanation.method)}</h2>',
        f'<p class="meta">{count} sample{"s" if count != 1 else ""}, attributions of shape '
        f"{_e(tuple(attributions.shape))}"
        + (f", showing the first {len(shown)}" if len(shown) < count else "")
        + "</p>",
        "<h3>Settings</h3>",
        _settings_table(explanation),
    ]
    maps = segments = None
    symmetric = True
    if tabular:
        parts.append(
            '<p class="note">Weights: <span class="bar pos" style="width:20px"></span> for the explained '
            'output, <span class="bar neg" style="width:20px"></span> against it; the top '
            f"{top_k} features by |weight|.</p>"
        )
    elif attributions.ndim in (3, 4):
        maps = explanation.heatmap(reduce=reduce)
        symmetric = bool(np.any(maps < 0))
        segments = explanation.extras.get("segments")
        parts.append(_legend(symmetric, cmap))
    settings = _settings_line(explanation)
    parts.append('<div class="cards">')
    for i in shown:
        name = names[i] if names is not None else f"sample {i}"
        card = [f'<article class="card" id="card-{number}-{i}"><h3>#{i} · {_e(name)}</h3>']
        if notes is not None:
            card.append(f'<p class="note">{_e(notes[i])}</p>')
        if tabular:
            card.append(_prediction_block(explanation, i, class_names, top_outputs))
            card.append(_table_card_body(explanation, i, top_k))
        elif maps is not None:
            card.append(_image_card_body(explanation, i, maps, symmetric, segments, cmap, names))
            card.append(_prediction_block(explanation, i, class_names, top_outputs))
        else:
            card.append(_prediction_block(explanation, i, class_names, top_outputs))
            card.append(
                f'<p class="muted">attributions {_e(tuple(attributions.shape[1:]))}: '
                f"sum {_e(_number(attributions[i].sum()))}</p>"
            )
        card.append(_extras_block(explanation, i))
        card.append(f'<p class="note">method: {_e(settings)}</p></article>')
        parts.append("".join(card))
        if progress is not None:
            progress()
    parts.append("</div></section>")
    return "".join(parts)


def write_html(
    explanations,
    path,
    class_names=None,
    input_names=None,
    input_notes=None,
    title="Explanations",
    description=None,
    top_k=10,
    top_outputs=3,
    max_samples=None,
    cmap=None,
    reduce="sum",
    progress=None,
):
    """Write explanations as one self-contained HTML report.

    A section per explanation shows the method's settings and a colour
    legend, then a card per sample: its name and what was done to it, the
    input and the overlay (LIME with its superpixel boundaries; the colour
    scale is stated), the prediction with class names and scores, the
    explained output, per-sample checks (completeness or additivity gap,
    surrogate R²) and, for tabular explanations, a table of the `top_k`
    features by |weight| with their values. Pictures are inlined as PNG
    `data:` URIs; there is no script and no external address; every
    user-supplied string is escaped.

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

    Returns:
        The path written.

    Raises:
        ValueError: for no explanation, an object that is not an
            `Explanation`, or name lists whose length does not match.

    Example:

    ```python
    e = kx.GradientSaliency(model).explain(x)
    kx.report.write_html(e, "report.html", class_names=digits.target_names)
    ```
    """
    from keras_explain.engine.errors import check_choice, check_int

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
    top_k = check_int("top_k", top_k, minimum=1)
    top_outputs = check_int("top_outputs", top_outputs, minimum=1)
    max_samples = check_int("max_samples", max_samples, minimum=1, allow_none=True)
    check_choice("reduce", reduce, ("sum", "mean", "abs", "max_abs", "l2"))
    from keras_explain import __version__

    sections = [
        _section(
            e,
            n,
            class_names,
            input_names,
            input_notes,
            top_k,
            top_outputs,
            max_samples,
            cmap,
            reduce,
            progress,
        )
        for n, e in enumerate(explanations)
    ]
    methods = ", ".join(dict.fromkeys(e.method for e in explanations))
    sources = sorted(
        {str(e.extras["model_file"]) for e in explanations if "model_file" in e.extras}
    )
    meta = f"keras_explain {__version__} · {methods}"
    if sources:
        meta += " · model " + ", ".join(sources)
    meta += " · " + datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body><main>"
        f'<h1>{_e(title)}</h1><p class="meta">{_e(meta)}</p>'
        + (f"<p>{_e(description)}</p>" if description else "")
        + "\n".join(sections)
        + "<footer>A self-contained report: the pictures are inside this file, and it loads "
        "nothing from anywhere.</footer></main></body></html>\n"
    )
    path = os.fspath(path)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
    return path
