"""The HTML of reports: one self-contained page, a section per explanation, a card per sample.

Pictures are inlined as `data:` PNGs, the style is inline, there is no
JavaScript and no external address, and every string a user supplies is
HTML-escaped.
"""

import base64
import dataclasses
import datetime
import html
import os

import numpy as np

from keras_explain.engine.errors import check_choice, check_int
from keras_explain.render import card, colors, pictures

#: Content-Security-Policy of every report: inline style and data: images only.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)

#: Overlays saturate beyond this percentile of |attribution| of their own map.
CLIP_PERCENTILE = 99.5

_STYLE = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
  background:#f5f5f7;margin:0;padding:24px}
main{max-width:1200px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}
h3{font-size:14px;margin:0 0 6px;word-break:break-all}
.meta,.note,.muted{color:#6e6e73}.note{font-size:12px;margin:0 0 8px}
.warning{color:#8a4b00;background:#fff4e0;border-left:3px solid #e08a00;padding:6px 10px;font-size:13px}
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

_FOOTER = (
    "<footer>A self-contained report: the pictures are inside this file, and it loads "
    "nothing from anywhere.</footer>"
)


@dataclasses.dataclass(frozen=True)
class ReportOptions:
    """How the sections of a report read (see `keras_explain.report.write_html`)."""

    class_names: object = None
    input_names: object = None
    input_notes: object = None
    top_k: int = 10
    top_outputs: int = 3
    max_samples: object = None
    cmap: object = None
    reduce: str = "sum"
    progress: object = None

    def checked(self):
        """A copy with the counts checked and made ints.

        Raises:
            ValueError: for counts below 1 or an unknown `reduce`.
        """
        top_k = check_int("top_k", self.top_k, minimum=1)
        top_outputs = check_int("top_outputs", self.top_outputs, minimum=1)
        max_samples = check_int("max_samples", self.max_samples, minimum=1, allow_none=True)
        check_choice("reduce", self.reduce, ("sum", "mean", "abs", "max_abs", "l2"))
        return dataclasses.replace(
            self, top_k=top_k, top_outputs=top_outputs, max_samples=max_samples
        )


@dataclasses.dataclass
class _Section:
    """What every card of one explanation's section shares."""

    number: int
    class_names: object
    names: object
    notes: object
    kind: object
    settings: str
    maps: object = None
    symmetric: bool = True
    segments: object = None


def _e(value):
    """HTML-escape any value (quotes included)."""
    return html.escape(str(value), quote=True)


def _data_uri(rgb):
    return "data:image/png;base64," + base64.b64encode(pictures.png_bytes(rgb)).decode("ascii")


_number = card.format_number


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


def _label(index, class_names):
    name = card.output_name(index, class_names)
    return str(int(index)) if name is None else f"{int(index)} · {name}"


def _prediction_block(explanation, i, section, top):
    summary = card.prediction_summary(explanation, i, section.class_names, top)
    kind, names = section.kind, section.class_names
    target = summary["target"]
    if kind is None:
        return f'<p class="pred">explained output <b>{_e(_label(target, names))}</b></p>'
    if kind == "output":
        return (
            f'<p class="pred">model output <b>{_e(_number(summary["output"]))}</b>; '
            f"explained output 0</p>"
        )
    predicted = summary["predicted"]
    parts = [
        f'<p class="pred">predicted <b>{_e(_label(predicted, names))}</b> '
        f"({kind} {_e(_number(summary['score'], 3))})"
    ]
    if target == predicted:
        parts.append("; explained: the predicted class</p>")
    else:
        parts.append(
            f'; <span class="other">explained <b>{_e(_label(target, names))}</b> '
            f"({kind} {_e(_number(summary['target_score'], 3))})</span></p>"
        )
    rows = "".join(
        f"<tr><td>{_e(_label(entry['output'], names))}</td>"
        f'<td class="num">{_e(_number(entry["score"], 3))}</td></tr>'
        for entry in summary["top"]
    )
    parts.append(
        f'<table class="top"><thead><tr><th>top {len(summary["top"])} outputs</th>'
        f"<th>{kind}</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return "".join(parts)


def _extras_block(explanation, i):
    checks = card.example_checks(explanation, i)
    if not checks:
        return ""
    body = "".join(
        f'<tr><td>{_e(card.SCALAR_PARTS[k])}</td><td class="num">{_e(_number(v))}</td></tr>'
        for k, v in checks.items()
    )
    return f'<table class="extras"><tbody>{body}</tbody></table>'


def _table_card_body(explanation, i, top_k):
    rows = card.top_features(explanation, i, top_k)
    if not rows:
        return '<p class="muted">No feature was selected.</p>'
    largest = max(abs(row["weight"]) for row in rows) or 1.0
    body = []
    for rank, row in enumerate(rows, start=1):
        weight = row["weight"]
        width = int(round(56 * abs(weight) / largest))
        sign = "pos" if weight > 0 else "neg"
        body.append(
            f'<tr><td class="num">{rank}</td><td>{_e(row["label"])}</td>'
            f'<td class="num">{_e(row["value"])}</td><td class="num">{_e(_number(weight))}</td>'
            f'<td><span class="bar {sign}" style="width:{width}px"></span></td></tr>'
        )
    return (
        f'<table class="features"><thead><tr><th>#</th><th>feature</th><th>value</th>'
        f"<th>weight</th><th></th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _legend(symmetric, cmap):
    stops = ", ".join(colors.colormap_stops(colors.cmap_name(cmap, symmetric)))
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


def _image_card_body(explanation, i, section, cmap):
    heat = section.maps[i]
    image = explanation.inputs[i]
    segments = section.segments
    limits = colors.color_limits(heat, section.symmetric, CLIP_PERCENTILE)
    picture, mixed = pictures.sample_pictures(
        image,
        heat,
        segments=None if segments is None else segments[i],
        limits=limits,
        cmap=cmap,
        scale=colors.display_scale(np.shape(image)[:2], 160),
    )
    if max(picture.shape[:2]) > 320:
        picture, mixed = pictures.shrink(picture), pictures.shrink(mixed)
    name = section.names[i] if section.names is not None else f"sample {i}"
    overlay_caption = "overlay + superpixels" if segments is not None else "overlay"
    vmin, vmax, _ = limits
    scale_text = (
        f"scale ±{_number(vmax, 3)}"
        if section.symmetric
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


def _prepare(explanation, number, options):
    """The names, colour scale and settings line shared by a section's cards."""
    count = len(explanation)
    predictions = explanation.predictions
    outputs = predictions.shape[1] if predictions.ndim == 2 else 0
    section = _Section(
        number=number,
        class_names=card.resolve_names(explanation, "class_names", options.class_names, outputs),
        names=card.resolve_names(explanation, "input_names", options.input_names, count),
        notes=card.resolve_names(explanation, "input_notes", options.input_notes, count),
        kind=card.prediction_kind(predictions),
        settings=_settings_line(explanation),
    )
    if explanation.attributions.ndim in (3, 4):
        section.maps = explanation.heatmap(reduce=options.reduce)
        section.symmetric = bool(np.any(section.maps < 0))
        section.segments = explanation.extras.get("segments")
    return section


def _card(explanation, i, section, options):
    name = section.names[i] if section.names is not None else f"sample {i}"
    parts = [f'<article class="card" id="card-{section.number}-{i}"><h3>#{i} · {_e(name)}</h3>']
    if section.notes is not None:
        parts.append(f'<p class="note">{_e(section.notes[i])}</p>')
    prediction = _prediction_block(explanation, i, section, options.top_outputs)
    attributions = explanation.attributions
    if attributions.ndim == 2:
        parts += [prediction, _table_card_body(explanation, i, options.top_k)]
    elif section.maps is not None:
        parts += [_image_card_body(explanation, i, section, options.cmap), prediction]
    else:
        parts.append(prediction)
        parts.append(
            f'<p class="muted">attributions {_e(tuple(attributions.shape[1:]))}: '
            f"sum {_e(_number(attributions[i].sum()))}</p>"
        )
    parts.append(_extras_block(explanation, i))
    parts.append(f'<p class="note">method: {_e(section.settings)}</p></article>')
    return "".join(parts)


def _section_head(explanation, section, shown, options):
    count = len(explanation)
    attributions = explanation.attributions
    parts = [
        f'<section id="explanation-{section.number}"><h2>{_e(explanation.method)}</h2>',
        f'<p class="meta">{count} sample{"s" if count != 1 else ""}, attributions of shape '
        f"{_e(tuple(attributions.shape))}"
        + (f", showing the first {len(shown)}" if len(shown) < count else "")
        + "</p>",
        "<h3>Settings</h3>",
        _settings_table(explanation),
    ]
    note = card.completeness_note(explanation)
    if note:
        parts.append(f'<p class="warning">{_e(note)}</p>')
    if attributions.ndim == 2:
        parts.append(
            '<p class="note">Weights: <span class="bar pos" style="width:20px"></span> for the explained '
            'output, <span class="bar neg" style="width:20px"></span> against it; the top '
            f"{options.top_k} features by |weight|.</p>"
        )
    elif section.maps is not None:
        parts.append(_legend(section.symmetric, options.cmap))
    return "".join(parts)


def section_html(explanation, number, options):
    """The `<section>` of one explanation: its settings, legend and cards."""
    section = _prepare(explanation, number, options)
    count = len(explanation)
    limit = options.max_samples
    shown = range(count) if limit is None else range(min(count, limit))
    parts = [_section_head(explanation, section, shown, options), '<div class="cards">']
    for i in shown:
        parts.append(_card(explanation, i, section, options))
        if options.progress is not None:
            options.progress()
    parts.append("</div></section>")
    return "".join(parts)


def _meta_line(explanations):
    from keras_explain import __version__

    methods = ", ".join(dict.fromkeys(e.method for e in explanations))
    sources = sorted(
        {str(e.extras["model_file"]) for e in explanations if "model_file" in e.extras}
    )
    meta = f"keras_explain {__version__} · {methods}"
    if sources:
        meta += " · model " + ", ".join(sources)
    return meta + " · " + datetime.datetime.now().strftime("%Y-%m-%d %H:%M")


def page_html(explanations, options, title="Explanations", description=None):
    """The whole page of a report of `explanations` (a list), as a string."""
    options = options.checked()
    sections = [section_html(e, n, options) for n, e in enumerate(explanations)]
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body><main>"
        f'<h1>{_e(title)}</h1><p class="meta">{_e(_meta_line(explanations))}</p>'
        + (f"<p>{_e(description)}</p>" if description else "")
        + "\n".join(sections)
        + _FOOTER
        + "</main></body></html>\n"
    )


def write_page(explanations, path, options, title="Explanations", description=None):
    """Write `page_html(explanations, options, title, description)` to `path`; returns the path."""
    text = page_html(explanations, options, title, description)
    path = os.fspath(path)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
