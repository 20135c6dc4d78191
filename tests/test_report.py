"""HTML reports and contact sheets: self-contained, escaped, one card per sample, true pictures."""

import base64
import io as stdio
import re

import numpy as np
import pytest
from PIL import Image

import keras_explain as kx
from keras_explain import report, viz

XSS = "<script>alert(1)</script>"
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _image_explanation(count=3, size=8, classes=3, seed=0, **extras):
    rng = np.random.default_rng(seed)
    predictions = rng.dirichlet(np.ones(classes), size=count).astype("float32")
    return kx.Explanation(
        attributions=rng.normal(size=(count, size, size, 1)).astype("float32"),
        inputs=rng.uniform(size=(count, size, size, 1)).astype("float32"),
        targets=np.argmax(predictions, axis=1),
        predictions=predictions,
        method="integrated_gradients",
        config={"steps": 64, "rule": "trapezoid", "baseline": None, "note": XSS},
        **extras,
    )


def _table_explanation():
    attributions = np.array(
        [[0.5, -2.0, 0.0, 1.0, -0.25, 3.0], [0.1, 0.2, -0.3, 0.0, 0.0, 0.0]], "float32"
    )
    return kx.Explanation(
        attributions=attributions,
        inputs=np.arange(12, dtype="float32").reshape(2, 6) / 4,
        targets=[1, 0],
        predictions=np.array([[0.2, 0.8], [0.9, 0.1]], "float32"),
        method="saliency",
        config={},
        feature_names=["age", "bmi & <b>", XSS, "x3", "x4", 'say "hi"'],
    )


def _page(tmp_path, explanations, **kwargs):
    path = report.write_html(explanations, tmp_path / "report.html", **kwargs)
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _pictures(page):
    return [Image.open(stdio.BytesIO(base64.b64decode(data))) for data in DATA_URI.findall(page)]


def test_report_is_one_self_contained_file(tmp_path):
    page = _page(tmp_path, _image_explanation(input_names=["a.png", "b.png", "c.npy[0]"]))
    # Every picture is an inline PNG that decodes: input and overlay per card,
    # 8x8 inputs enlarged to 160x160 (20x20 blocks).
    pictures = _pictures(page)
    assert len(pictures) == 6
    assert all(p.format == "PNG" and p.size == (160, 160) for p in pictures)
    assert page.count("<img ") == 6 and page.count('src="') == 6
    # No address anywhere outside the data URIs; the only "http" is the CSP meta tag.
    text = DATA_URI.sub('src=""', page)
    assert "http" not in text.replace('http-equiv="Content-Security-Policy"', "")
    assert "//" not in text and "url(" not in text and "@import" not in text
    for tag in ("<script", "<link", "<iframe", "<object", "<embed", "srcset", "<base"):
        assert tag not in text.lower(), tag
    assert f'content="{report.CSP.replace(chr(39), "&#x27;")}"' in page
    assert "img-src data:" in report.CSP and "script-src" not in report.CSP


def test_every_user_string_is_escaped(tmp_path):
    e = _image_explanation(
        input_names=[XSS, 'q"uote.png', "a&b.png"], input_notes=[XSS, "ok", "ok"]
    )
    page = _page(
        tmp_path, e, class_names=[XSS, "dog & <b>co</b>", '"onerror=x'], title=XSS, description=XSS
    )
    assert "<script" not in page and "<b>co" not in page and '"onerror' not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert (
        page.count(escaped) >= 5
    )  # title (twice), description, file name, note, config, class names
    assert "dog &amp; &lt;b&gt;co&lt;/b&gt;" in page
    assert "q&quot;uote.png" in page and "a&amp;b.png" in page
    assert f'alt="input {escaped}"' in page
    table = _page(tmp_path, _table_explanation())
    assert (
        "<script" not in table and "bmi &amp; &lt;b&gt;" in table and "say &quot;hi&quot;" in table
    )


def test_card_per_sample_with_prediction_names_and_settings(tmp_path):
    e = _image_explanation(count=4, classes=3, input_names=["a", "b", "c", "d"])
    e.targets[3] = (int(np.argmax(e.predictions[3])) + 1) % 3
    names = ["cat", "dog", "bird"]
    page = _page(tmp_path, e, class_names=names)
    assert page.count('<article class="card"') == 4
    for i in range(4):
        predicted = int(np.argmax(e.predictions[i]))
        card = page.split(f'id="card-0-{i}"')[1].split("</article>")[0]
        assert (
            f"predicted <b>{predicted} · {names[predicted]}</b> (probability {e.predictions[i, predicted]:.3g})"
            in card
        )
        if i == 3:
            target = int(e.targets[3])
            assert f"explained <b>{target} · {names[target]}</b>" in card
        else:
            assert "explained: the predicted class" in card
        assert "method: integrated_gradients(steps=64, rule=&#x27;trapezoid&#x27;" in card
    # The settings table: every config entry, escaped.
    assert "<tr><td>steps</td><td>64</td></tr>" in page
    assert "<tr><td>rule</td><td>&#x27;trapezoid&#x27;</td></tr>" in page
    # The diverging legend, and a stated scale per overlay.
    assert "blue opposes the explained output, red supports it" in page
    assert len(re.findall(r"overlay, scale ±[0-9.e+-]+</figcaption>", page)) == 4
    assert _page(tmp_path, e, max_samples=2).count('<article class="card"') == 2


def test_magnitude_maps_get_a_sequential_legend(tmp_path):
    e = _image_explanation()
    e.attributions = np.abs(e.attributions)
    page = _page(tmp_path, e)
    stops = viz.colormap_stops("inferno")
    assert f"linear-gradient(to right, {', '.join(stops)})" in page
    assert "magnitudes, dark to bright" in page and "scale ±" not in page


def test_tabular_cards_show_the_top_k_features(tmp_path):
    page = _page(tmp_path, _table_explanation(), top_k=3)
    first = page.split('id="card-0-0"')[1].split("</article>")[0]
    rows = re.findall(
        r'<tr><td class="num">(\d)</td><td>(.*?)</td><td class="num">(.*?)</td><td class="num">(.*?)</td>'
        r'<td><span class="bar (pos|neg)" style="width:(\d+)px">',
        first,
    )
    # Strongest first: 3.0 (say "hi"), -2.0 (bmi), 1.0 (x3); values are the inputs.
    assert rows == [
        ("1", "say &quot;hi&quot;", "1.25", "3", "pos", "56"),
        ("2", "bmi &amp; &lt;b&gt;", "0.25", "-2", "neg", "37"),
        ("3", "x3", "0.75", "1", "pos", "19"),
    ]
    assert "predicted <b>1</b> (probability 0.8)" in first


def test_lime_style_tables_use_labels_values_and_used(tmp_path):
    e = _table_explanation()
    e.extras.update(
        feature_labels=np.array([[f"f{j} > {j}" for j in range(6)]] * 2),
        feature_values=np.array([[f"v{j}" for j in range(6)]] * 2),
        used=np.array(
            [[True, True, False, False, False, False], [False, False, True, False, False, False]]
        ),
        score=np.array([0.5, 0.25]),
    )
    page = _page(tmp_path, e)
    first = page.split('id="card-0-0"')[1].split("</article>")[0]
    assert re.findall(r"<td>(f\d &gt; \d)</td><td class=\"num\">(v\d)</td>", first) == [
        ("f1 &gt; 1", "v1"),
        ("f0 &gt; 0", "v0"),
    ]
    assert '<td>surrogate R²</td><td class="num">0.5</td>' in first


def test_lime_overlay_shows_superpixel_boundaries(tmp_path):
    segments = np.zeros((1, 8, 8), dtype=np.int64)
    segments[0, :, 4:] = 1
    e = _image_explanation(count=1, segments=segments)
    e.attributions = np.where(segments[..., None] == 1, 1.0, -1.0).astype("float32")
    page = _page(tmp_path, e)
    _, overlay = [np.asarray(p.convert("RGB")) for p in _pictures(page)]
    yellow = np.all(overlay == (255, 255, 0), axis=-1)
    # Boundaries are drawn on the enlarged picture (20x20 blocks), one pixel
    # wide, along the edge between the halves (columns 79 | 80) and nowhere else.
    assert yellow.shape == (160, 160)
    columns = set(np.flatnonzero(yellow.any(axis=0)))
    assert len(columns) == 1 and columns <= {79, 80}
    assert yellow[:, min(columns)].all() and yellow.sum() == 160
    assert "overlay + superpixels" in page


def test_report_of_a_real_explanation(tmp_path, small_cnn, images):
    e = kx.IntegratedGradients(small_cnn, steps=8).explain(images[:2])
    page = _page(tmp_path, [e, kx.GradCAM(small_cnn).explain(images[:2])], title="two methods")
    assert page.count("<section") == 2 and page.count('<article class="card"') == 4
    assert (
        f'<td>completeness gap</td><td class="num">{float(e.completeness_gap[0]):.4g}</td>' in page
    )
    assert len(_pictures(page)) == 8


def test_write_html_errors(tmp_path):
    with pytest.raises(ValueError) as error:
        report.write_html([], tmp_path / "r.html")
    assert (
        str(error.value)
        == "explanations: expected an Explanation or a non-empty list of them, received an empty list."
    )
    with pytest.raises(ValueError) as error:
        report.write_html(["e"], tmp_path / "r.html")
    assert str(error.value) == "explanations: expected Explanation objects, received a str."
    with pytest.raises(ValueError) as error:
        report.write_html(_image_explanation(), tmp_path / "r.html", class_names=["a", "b"])
    assert str(error.value) == "class_names: expected 3 names, one per output, received 2."


# -- contact sheets and picture helpers --------------------------------------------


def test_blend_with_own_limits_equals_overlay():
    rng = np.random.default_rng(3)
    image, heat = rng.uniform(size=(6, 6, 3)), rng.normal(size=(6, 6))
    limits = viz.color_limits(heat, None, 99.5)
    np.testing.assert_array_equal(viz.blend(image, heat, limits), viz.overlay(image, heat))
    positive = np.abs(heat)
    limits = viz.color_limits(positive, None, 99.5)
    np.testing.assert_array_equal(viz.blend(image, positive, limits), viz.overlay(image, positive))


def test_image_contact_sheet_size_colour_bar_and_captions(tmp_path):
    e = _image_explanation(
        count=7, input_names=[f"$img{i}" for i in range(7)], class_names=["a", "b$", "c"]
    )
    figure = viz.contact_sheet(e, columns=3, save=tmp_path / "sheet.png")
    # 3 columns x 1.8 in + 1.1 in for the colour bar, 3 rows x 2.2 in + 0.6 in, at 100 dpi.
    assert Image.open(tmp_path / "sheet.png").size == (650, 720)
    colorbars = [axis for axis in figure.axes if axis.get_label() == "<colorbar>"]
    assert len(colorbars) == 1
    low, high = colorbars[0].get_ylim()
    assert low == pytest.approx(-high)  # diverging, centred on 0
    titles = [axis.get_title() for axis in figure.axes if axis.get_title()]
    assert titles[0].startswith(r"\$img0")
    assert len(titles) == 7


def test_tabular_contact_sheet_colours(tmp_path):
    figure = viz.contact_sheet(_table_explanation(), top_k=4, save=tmp_path / "bars.png")
    # 2 columns x 3.6 in by (0.3 x 4 + 1.1) + 0.6 in.
    assert Image.open(tmp_path / "bars.png").size == (720, 290)
    bars = figure.axes[0].patches
    colours = [
        "#%02x%02x%02x" % tuple(int(round(c * 255)) for c in bar.get_facecolor()[:3])
        for bar in bars
    ]
    widths = [bar.get_width() for bar in bars]
    assert widths == [0.5, 1.0, -2.0, 3.0]  # top 4 by |weight|, strongest at the top
    assert colours == [
        viz.POSITIVE_COLOR,
        viz.POSITIVE_COLOR,
        viz.NEGATIVE_COLOR,
        viz.POSITIVE_COLOR,
    ]
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == ["age", "x3", "bmi & <b>", 'say "hi"']


def test_write_contact_sheet_pages(tmp_path):
    e = _image_explanation(count=5)
    written = viz.write_contact_sheet(e, tmp_path / "sheet.png", per_page=2)
    assert written == [
        str(tmp_path / "sheet.png"),
        str(tmp_path / "sheet-2.png"),
        str(tmp_path / "sheet-3.png"),
    ]
    assert Image.open(written[2]).size == (290, 280)  # one cell + colour bar
    pdf = viz.write_contact_sheet(e, tmp_path / "sheet.pdf", per_page=2)
    data = open(pdf[0], "rb").read()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b", data)) == 3
