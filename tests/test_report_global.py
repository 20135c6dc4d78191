"""The report's global section: the summary table against hand-computed statistics, the plots, when it shows."""

import base64
import html
import io as stdio
import os
import re

import numpy as np
import pytest
from PIL import Image
from test_browser import _IMAGES, Chromium, _chromium, _problems

import keras_explain as kx
from keras_explain import report
from keras_explain.render import html_global

XSS = "<script>alert(1)</script>"
NAMES = ["age", XSS, "bmi & <b>", 'say "hi"', "x4", "x5"]
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
SUMMARY_ROW = re.compile(
    r'<tr><td class="num">(\d+)</td><td>(.*?)</td>((?:<td class="num">[^<]*</td>)+)'
    r'<td><span class="bar (pos|neg)" style="width:(\d+)px"></span></td></tr>'
)
NUMBER = re.compile(r'<td class="num">([^<]*)</td>')


def _g4(value):
    value = float(value)
    return "0" if value == 0 else f"{value:.4g}"


def _rows(count, seed=0):
    """A table explanation whose features differ in strength and sign, two explained classes."""
    rng = np.random.default_rng(seed)
    scale = np.array([0.2, 3.0, 1.0, 0.5, 2.0, 0.05])
    shift = np.array([0.0, -1.0, 0.5, 0.0, 1.0, 0.0])
    predictions = rng.dirichlet(np.ones(2), size=count)
    return kx.Explanation(
        attributions=rng.normal(size=(count, 6)) * scale + shift,
        inputs=rng.normal(size=(count, 6)),
        targets=np.arange(count) % 2,
        predictions=predictions,
        method="kernel_shap",
        config={"num_samples": 64},
        feature_names=NAMES,
        class_names=["benign", "<i>malignant</i>"],
    )


def _page(tmp_path, explanations, **options):
    path = report.write_html(explanations, tmp_path / "report.html", **options)
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _block(page, number=0):
    return page.split(f'<div class="global" id="global-{number}">')[1].split('<div class="cards">')[0]


def _table(block, name):
    return block.split(f'<table class="{name}">')[1].split("</table>")[0]


def test_summary_table_equals_the_statistics_computed_by_hand(tmp_path):
    e = _rows(30)
    block = _block(_page(tmp_path, e))
    a = e.attributions
    mean_abs, mean = np.abs(a).mean(axis=0), a.mean(axis=0)
    std_abs, std = np.abs(a).std(axis=0), a.std(axis=0)
    order = sorted(range(6), key=lambda j: (-mean_abs[j], j))
    rows = SUMMARY_ROW.findall(_table(block, "summary"))
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r[1] for r in rows] == [html.escape(NAMES[j]) for j in order]
    assert [NUMBER.findall(r[2]) for r in rows] == [
        [_g4(mean_abs[j]), _g4(mean[j]), _g4(std_abs[j]), _g4(std[j])] for j in order
    ]
    assert [r[3] for r in rows] == ["pos" if mean[j] > 0 else "neg" for j in order]
    assert [int(r[4]) for r in rows] == [int(round(56 * mean_abs[j] / mean_abs.max())) for j in order]
    assert "Across the 30 examples" in block and "the top 6 of 6 features by mean |attribution|" in block
    # By explained class: a column per class, headed by its name and count, rows in the overall order.
    by_class = block.split('<table class="by-class">')[1].split("</table>")[0]
    assert "<th>0 · benign (15)</th><th>1 · &lt;i&gt;malignant&lt;/i&gt; (15)</th>" in by_class
    cells = re.findall(r'<tr><td class="num">\d+</td><td>.*?</td>((?:<td class="num">[^<]*</td>)+)</tr>', by_class)
    expected = [[_g4(np.abs(a[e.targets == c, j]).mean()) for c in (0, 1)] for j in order]
    assert [NUMBER.findall(c) for c in cells] == expected


def test_the_plots_are_embedded_pictures_of_the_summary(tmp_path):
    e = _rows(24)
    block = _block(_page(tmp_path, e, max_features=4))
    pictures = [Image.open(stdio.BytesIO(base64.b64decode(d))) for d in DATA_URI.findall(block)]
    assert len(pictures) == 3 and all(p.format == "PNG" for p in pictures)
    # At 100 dpi: the bar plot 6 in wide, the beeswarm 7 in, the dependence plot 6 x 4.2 in.
    assert [p.size[0] for p in pictures] == [600, 700, 600] and pictures[2].size[1] == 420
    assert re.findall(r'alt="([^"]*)"', block) == [
        "summary bar plot", "summary beeswarm plot", f"dependence plot of {html.escape(XSS)}",
    ]
    assert len(SUMMARY_ROW.findall(_table(block, "summary"))) == 4
    assert "the top 4 of 6 features" in block
    figure = kx.viz.dependence_plot(e, 1)
    colour = figure.keras_explain_data["color_by"]
    assert f"{html.escape(XSS)}: attribution against value, coloured by {html.escape(colour)}" in block
    assert "<script" not in block


def test_when_the_section_shows(tmp_path):
    assert '<div class="global"' not in _page(tmp_path, _rows(html_global.GLOBAL_ROWS - 1))
    assert '<div class="global"' in _page(tmp_path, _rows(html_global.GLOBAL_ROWS))
    assert '<div class="global"' in _page(tmp_path, _rows(5), global_view=True)
    assert '<div class="global"' not in _page(tmp_path, _rows(40), global_view=False)
    images = kx.Explanation(
        attributions=np.ones((25, 4, 4)), inputs=np.ones((25, 4, 4, 1)), targets=np.zeros(25, int),
        predictions=np.ones((25, 1)), method="gradcam",
    )
    assert '<div class="global"' not in _page(tmp_path, images, global_view=True)
    page = _page(tmp_path, [_rows(3), _rows(25)])
    assert '<div class="global" id="global-1">' in page and 'id="global-0"' not in page
    with pytest.raises(ValueError) as error:
        _page(tmp_path, _rows(3), global_view="yes")
    assert str(error.value) == "global_view: expected 'auto', True or False, received 'yes'."
    with pytest.raises(ValueError, match=r"^max_features: expected an integer >= 1, received 0\.$"):
        _page(tmp_path, _rows(3), max_features=0)


def test_a_permutation_importance_gets_its_importance_table(tmp_path, tanh_mlp, rows):
    labels = np.arange(len(rows)) % 3
    e = kx.PermutationImportance(tanh_mlp, metric="accuracy", n_repeats=4, random_state=0).explain(rows, labels)
    block = _block(_page(tmp_path, e))
    importances, spread = e.attributions[0], e.importances_std[0]
    order = sorted(range(len(importances)), key=lambda j: (-abs(importances[j]), j))
    found = SUMMARY_ROW.findall(_table(block, "summary"))
    assert [(r[1], NUMBER.findall(r[2])) for r in found] == [
        (f"x{j}", [_g4(importances[j]), _g4(spread[j])]) for j in order
    ]
    assert [r[3] for r in found] == ["pos" if importances[j] > 0 else "neg" for j in order]
    assert "<th>importance</th><th>std</th>" in block and "Global importance" in block
    assert len(DATA_URI.findall(block)) == 1 and 'alt="summary bar plot"' in block


def test_summary_page_of_shards_equals_the_summary_of_all(tmp_path):
    from keras_explain.render import html as pages

    whole = _rows(40)
    shards = [
        kx.Explanation(
            attributions=whole.attributions[part], inputs=whole.inputs[part], targets=whole.targets[part],
            predictions=whole.predictions[part], method="kernel_shap", feature_names=NAMES,
        )
        for part in (slice(0, 15), slice(15, 40))
    ]
    page = pages.summary_page_html(shards, title=XSS, max_features=6)
    assert "<title>&lt;script&gt;" in page and "<script" not in page
    mean_abs = np.abs(whole.attributions).mean(axis=0)
    order = sorted(range(6), key=lambda j: (-mean_abs[j], j))
    rows = SUMMARY_ROW.findall(page.split('<table class="summary">')[1].split("</table>")[0])
    assert [(r[1], NUMBER.findall(r[2])[0]) for r in rows] == [(html.escape(NAMES[j]), _g4(mean_abs[j])) for j in order]


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (see test_browser.py)")
def test_the_global_section_opens_in_chromium(tmp_path):
    path = report.write_html([_rows(30)], tmp_path / "global.html", title=XSS)
    browser = Chromium(_chromium(), tmp_path / "profile")
    try:
        url = "file://" + os.path.abspath(path)
        session = browser.open(url)
        sizes = browser.evaluate(session, _IMAGES)
        assert len(sizes) == 3 and all(w > 0 and h > 0 for w, h in sizes), sizes
        assert browser.evaluate(session, "document.scripts.length") == 0
        assert _problems(browser.events_of(session), url) == []
    finally:
        browser.close()
