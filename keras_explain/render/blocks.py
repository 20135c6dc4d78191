"""The HTML blocks of a card, shared by the HTML report and the notebook view.

Each function returns a fragment of markup built from `card`'s plain values:
the settings, the prediction, the checks, a table of the strongest features
with signed bars, the input and its overlay as inline PNG pictures. Every
string a user supplies is HTML-escaped here, so the pages built on these
blocks show names such as "<script>" as text.
"""

import base64
import dataclasses
import html
import io

import numpy as np

from keras_explain.render import card, colors, pictures

#: Overlays saturate beyond this percentile of |attribution| of their own map.
CLIP_PERCENTILE = 99.5

#: The numbers of cards and tables: 4 significant digits.
number = card.format_number


def escape(value):
    """HTML-escape any value (quotes included)."""
    return html.escape(str(value), quote=True)


def png_uri(data):
    """PNG bytes as a `data:image/png;base64,...` URI."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def data_uri(rgb):
    """An RGB uint8 picture (H, W, 3) as a PNG `data:` URI."""
    return png_uri(pictures.png_bytes(rgb))


def figure_png(figure, dpi=100):
    """A matplotlib figure as PNG bytes, without metadata."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def config_rows(config, prefix=""):
    """(name, text) rows of an explanation's settings; nested dicts read "outer.inner"."""
    rows = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and set(value) == {"array_shape", "dtype"}:
            rows.append((name, f"array {tuple(value['array_shape'])} {value['dtype']}"))
        elif isinstance(value, dict) and value:
            rows.extend(config_rows(value, name + "."))
        else:
            text = repr(value) if isinstance(value, str) else str(value)
            if len(text) > 120:
                text = text[:117] + "..."
            rows.append((name, text))
    return rows


def settings_table(explanation):
    """A table of every setting of `explanation.config`, or a line saying there is none."""
    rows = config_rows(explanation.config)
    if not rows:
        return '<p class="muted">No settings recorded.</p>'
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="settings"><tbody>{body}</tbody></table>'


def settings_line(explanation):
    """ "method(steps=64, ...)": the method and its first 8 settings that change results, as text."""
    rows = [
        (k, v)
        for k, v in config_rows(explanation.config)
        if k not in ("verbose", "run_eagerly", "batch_size") and v != "None"
    ]
    text = ", ".join(f"{k}={v}" for k, v in rows[:8]) + (", ..." if len(rows) > 8 else "")
    return f"{explanation.method}({text})"


def output_text(index, class_names):
    """ "3 · three" with class names, else "3"."""
    name = card.output_name(index, class_names)
    return str(int(index)) if name is None else f"{int(index)} · {name}"


@dataclasses.dataclass
class CardContext:
    """What every card of one explanation shares: names, prediction kind, colour scale."""

    number: int
    class_names: object
    names: object
    notes: object
    kind: object
    settings: str
    maps: object = None
    symmetric: bool = True
    segments: object = None


def card_context(explanation, number, class_names=None, input_names=None, input_notes=None, reduce="sum"):
    """The `CardContext` of an explanation: the names given, else its parts; its maps for images.

    The maps (`heatmap(reduce)`) and LIME's segments are read for image
    attributions (N, H, W) or (N, H, W, C) of a model with one input.

    Raises:
        ValueError: for name lists whose length does not match.
    """
    count = len(explanation)
    predictions = explanation.predictions
    outputs = predictions.shape[1] if predictions.ndim == 2 else 0
    context = CardContext(
        number=number,
        class_names=card.resolve_names(explanation, "class_names", class_names, outputs),
        names=card.resolve_names(explanation, "input_names", input_names, count),
        notes=card.resolve_names(explanation, "input_notes", input_notes, count),
        kind=card.prediction_kind(predictions),
        settings=settings_line(explanation),
    )
    if isinstance(explanation.attributions, np.ndarray) and explanation.attributions.ndim in (3, 4):
        context.maps = explanation.heatmap(reduce=reduce)
        context.symmetric = bool(np.any(context.maps < 0))
        context.segments = explanation.extras.get("segments")
    return context


def prediction_block(explanation, i, context, top):
    """What the model predicted for example `i`, the explained output and the `top` outputs."""
    summary = card.prediction_summary(explanation, i, context.class_names, top)
    kind, names = context.kind, context.class_names
    target = summary["target"]
    if kind is None:
        return f'<p class="pred">explained output <b>{escape(output_text(target, names))}</b></p>'
    if kind == "output":
        return (
            f'<p class="pred">model output <b>{escape(number(summary["output"]))}</b>; '
            f"explained output 0</p>"
        )
    predicted = summary["predicted"]
    parts = [
        f'<p class="pred">predicted <b>{escape(output_text(predicted, names))}</b> '
        f"({kind} {escape(number(summary['score'], 3))})"
    ]
    if target == predicted:
        parts.append("; explained: the predicted class</p>")
    else:
        parts.append(
            f'; <span class="other">explained <b>{escape(output_text(target, names))}</b> '
            f"({kind} {escape(number(summary['target_score'], 3))})</span></p>"
        )
    rows = "".join(
        f"<tr><td>{escape(output_text(entry['output'], names))}</td>"
        f'<td class="num">{escape(number(entry["score"], 3))}</td></tr>'
        for entry in summary["top"]
    )
    parts.append(
        f'<table class="top"><thead><tr><th>top {len(summary["top"])} outputs</th>'
        f"<th>{kind}</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return "".join(parts)


def checks_block(explanation, i):
    """A table of example `i`'s checks (`card.example_checks`: gaps, LIME's fit, metric scores)."""
    checks = card.example_checks(explanation, i)
    if not checks:
        return ""
    body = "".join(
        f'<tr><td>{escape(card.SCALAR_PARTS[k])}</td><td class="num">{escape(number(v))}</td></tr>'
        for k, v in checks.items()
    )
    return f'<table class="extras"><tbody>{body}</tbody></table>'


def bar(weight, largest, width=56):
    """A signed bar: red for the explained output, blue against it, `width` pixels at `largest`."""
    length = int(round(width * abs(weight) / (largest or 1.0)))
    sign = "pos" if weight > 0 else "neg"
    return f'<span class="bar {sign}" style="width:{length}px"></span>'


def feature_table(explanation, i, top_k):
    """The `top_k` features of tabular example `i` by |weight|, with their values and signed bars."""
    rows = card.top_features(explanation, i, top_k)
    if not rows:
        return '<p class="muted">No feature was selected.</p>'
    largest = max(abs(row["weight"]) for row in rows)
    body = [
        f'<tr><td class="num">{rank}</td><td>{escape(row["label"])}</td>'
        f'<td class="num">{escape(row["value"])}</td><td class="num">{escape(number(row["weight"]))}</td>'
        f"<td>{bar(row['weight'], largest)}</td></tr>"
        for rank, row in enumerate(rows, start=1)
    ]
    return (
        f'<table class="features"><thead><tr><th>#</th><th>feature</th><th>value</th>'
        f"<th>weight</th><th></th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def image_pictures(explanation, i, context, cmap=None):
    """The input of example `i` and its overlay (LIME's with superpixel boundaries), with the scale."""
    heat = context.maps[i]
    image = explanation.inputs[i]
    segments = context.segments
    limits = colors.color_limits(heat, context.symmetric, CLIP_PERCENTILE)
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
    name = context.names[i] if context.names is not None else f"sample {i}"
    overlay_caption = "overlay + superpixels" if segments is not None else "overlay"
    vmin, vmax, _ = limits
    scale_text = (
        f"scale ±{number(vmax, 3)}" if context.symmetric else f"scale {number(vmin, 3)} to {number(vmax, 3)}"
    )
    return (
        '<div class="pictures">'
        f'<figure><img src="{data_uri(picture)}" alt="input {escape(name)}" width="150">'
        "<figcaption>input</figcaption></figure>"
        f'<figure><img src="{data_uri(mixed)}" alt="overlay of {escape(name)}" width="150">'
        f"<figcaption>{escape(overlay_caption)}, {escape(scale_text)}</figcaption></figure>"
        "</div>"
    )
