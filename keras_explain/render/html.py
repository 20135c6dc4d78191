"""The HTML of reports: one self-contained page, a section per explanation, a card per sample.

Pictures are inlined as `data:` PNGs, the style is inline, there is no
JavaScript and no external address, and every string a user supplies is
HTML-escaped. The blocks of a card are in `keras_explain.render.blocks`; the
global section (summary table and plots) in `keras_explain.render.html_global`.
"""

import dataclasses
import datetime
import os

from keras_explain.engine.errors import check_choice, check_int, fail
from keras_explain.render import blocks, card, colors, html_global, text
from keras_explain.render.blocks import CLIP_PERCENTILE
from keras_explain.render.blocks import escape as _e

#: Content-Security-Policy of every report: inline style and data: images only.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)

__all__ = ["CLIP_PERCENTILE", "CSP", "ReportOptions", "page_html", "section_html", "summary_page_html", "write_page"]

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
.global{margin:12px 0 4px}.plots{display:flex;gap:12px;flex-wrap:wrap;align-items:flex-start;margin-top:8px}
.plots figure img{width:auto;max-width:100%;height:auto;image-rendering:auto;border:0}
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
    global_view: object = "auto"
    max_features: int = 20
    vocabulary: object = None

    def checked(self):
        """A copy with the counts checked and made ints.

        Raises:
            ValueError: for counts below 1, an unknown `reduce` or `global_view`.
        """
        top_k = check_int("top_k", self.top_k, minimum=1)
        top_outputs = check_int("top_outputs", self.top_outputs, minimum=1)
        max_samples = check_int("max_samples", self.max_samples, minimum=1, allow_none=True)
        max_features = check_int("max_features", self.max_features, minimum=1)
        check_choice("reduce", self.reduce, ("sum", "mean", "abs", "max_abs", "l2"))
        if not (self.global_view is True or self.global_view is False or self.global_view == "auto"):
            fail("global_view", "'auto', True or False", self.global_view)
        return dataclasses.replace(
            self, top_k=top_k, top_outputs=top_outputs, max_samples=max_samples, max_features=max_features
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


def _card(explanation, i, section, options):
    name = section.names[i] if section.names is not None else f"sample {i}"
    parts = [f'<article class="card" id="card-{section.number}-{i}"><h3>#{i} · {_e(name)}</h3>']
    if section.notes is not None:
        parts.append(f'<p class="note">{_e(section.notes[i])}</p>')
    prediction = blocks.prediction_block(explanation, i, section, options.top_outputs)
    attributions = explanation.attributions
    if text.in_token_space(explanation):
        parts += [prediction, text.highlight_html(explanation, i, options.vocabulary)]
    elif attributions.ndim == 2:
        parts += [prediction, blocks.feature_table(explanation, i, options.top_k)]
    elif section.maps is not None:
        parts += [blocks.image_pictures(explanation, i, section, options.cmap), prediction]
    else:
        parts.append(prediction)
        parts.append(
            f'<p class="muted">attributions {_e(tuple(attributions.shape[1:]))}: '
            f"sum {_e(blocks.number(attributions[i].sum()))}</p>"
        )
    parts.append(blocks.checks_block(explanation, i))
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
        blocks.settings_table(explanation),
    ]
    note = card.completeness_note(explanation)
    if note:
        parts.append(f'<p class="warning">{_e(note)}</p>')
    if text.in_token_space(explanation):
        parts.append(text.legend_html())
    elif attributions.ndim == 2:
        parts.append(
            '<p class="note">Weights: <span class="bar pos" style="width:20px"></span> for the explained '
            'output, <span class="bar neg" style="width:20px"></span> against it; the top '
            f"{options.top_k} features by |weight|.</p>"
        )
    elif section.maps is not None:
        parts.append(_legend(section.symmetric, options.cmap))
    return "".join(parts)


def section_html(explanation, number, options):
    """The `<section>` of one explanation: its settings, legend, global view and cards.

    The global view (`html_global.global_block`) comes before the cards when
    `options.global_view` asks for it (see `html_global.wants_global`).
    """
    section = blocks.card_context(
        explanation, number, options.class_names, options.input_names, options.input_notes, options.reduce
    )
    count = len(explanation)
    limit = options.max_samples
    shown = range(count) if limit is None else range(min(count, limit))
    parts = [_section_head(explanation, section, shown, options)]
    if not text.in_token_space(explanation) and html_global.wants_global(explanation, options.global_view):
        parts.append(
            html_global.global_block([explanation], options.max_features, section.class_names, number)
        )
    parts.append('<div class="cards">')
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


def _page(title, meta, description, body):
    """The page around `body` (markup): head with the CSP and the style, title, meta line, footer."""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body><main>"
        f'<h1>{_e(title)}</h1><p class="meta">{_e(meta)}</p>'
        + (f"<p>{_e(description)}</p>" if description else "")
        + body
        + _FOOTER
        + "</main></body></html>\n"
    )


def page_html(explanations, options, title="Explanations", description=None):
    """The whole page of a report of `explanations` (a list), as a string."""
    options = options.checked()
    sections = [section_html(e, n, options) for n, e in enumerate(explanations)]
    return _page(title, _meta_line(explanations), description, "\n".join(sections))


def summary_page_html(explanations, title="Summary", description=None, max_features=20, class_names=None):
    """A page of the global view alone of `explanations` (a list, for example shards of one dataset).

    Args:
        explanations: list of explanations of one method and the same features.
        title: the page title. Defaults to "Summary".
        description: a paragraph under the title. Defaults to None.
        max_features: features in the tables and plots. Defaults to 20.
        class_names: output names. Defaults to the first explanation's `class_names`.

    Returns:
        str, the page.
    """
    max_features = check_int("max_features", max_features, minimum=1)
    names = class_names if class_names is not None else explanations[0].extras.get("class_names")
    block = html_global.global_block(explanations, max_features, names, 0)
    section = f'<section id="summary"><h2>{_e(explanations[0].method)}</h2>{block}</section>'
    return _page(title, _meta_line(explanations), description, section)


def write_page(explanations, path, options, title="Explanations", description=None):
    """Write `page_html(explanations, options, title, description)` to `path`; returns the path."""
    text = page_html(explanations, options, title, description)
    path = os.fspath(path)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
