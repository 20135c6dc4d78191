"""The notebook view of an Explanation: its HTML and PNG, and examples/notebook.ipynb run on a real kernel.

The view's numbers are checked against the attributions (order by |weight|,
4 significant digits, bar lengths), its strings against escaping. The
example notebook is executed with nbclient on an ipykernel kernel of this
Python (a kernelspec written to a temporary Jupyter path), each explanation
cell's HTML is checked against the explanation the cell saved, and the HTML
is opened in headless Chromium (the harness of test_browser.py).
"""

import base64
import html
import io as stdio
import os
import pathlib
import re

import numpy as np
import pytest
from PIL import Image
from test_browser import _IMAGES, Chromium, _chromium, _problems

import keras_explain as kx
from keras_explain.render import notebook

XSS = "<script>alert(1)</script>"
ESCAPED = html.escape(XSS)
NOTEBOOK = pathlib.Path(__file__).parent.parent / "examples" / "notebook.ipynb"
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
FEATURE_ROW = re.compile(
    r'<tr><td class="num">(\d+)</td><td>(.*?)</td><td class="num">(.*?)</td><td class="num">(.*?)</td>'
    r'<td><span class="bar (pos|neg)" style="width:(\d+)px"></span></td></tr>'
)


def _g4(value):
    value = float(value)
    return "0" if value == 0 else f"{value:.4g}"


def _table(count=11, size=6, seed=0, **extras):
    rng = np.random.default_rng(seed)
    predictions = rng.dirichlet(np.ones(3), size=count)
    return kx.Explanation(
        attributions=rng.normal(size=(count, size)),
        inputs=rng.normal(size=(count, size)),
        targets=np.argmax(predictions, axis=1),
        predictions=predictions,
        method="kernel_shap",
        config={"num_samples": 64, "note": XSS},
        **extras,
    )


def _example_block(page, i):
    return page.split(f'id="kx-example-{i}"')[1].split('<div class="kx-example"')[0]


def _pictures(page):
    return [Image.open(stdio.BytesIO(base64.b64decode(data))) for data in DATA_URI.findall(page)]


def test_table_view_lists_the_strongest_features_with_signed_bars():
    names = [XSS, "age", 'say "hi"', "b & c", "x4", "x5"]
    e = _table(feature_names=names, class_names=["cat", "<b>dog</b>", "bird"])
    page = notebook.explanation_html(e)
    assert page == e._repr_html_()
    assert page.count('<div class="kx-example"') == 8
    assert '<p class="kx-more">and 3 more examples</p>' in page
    for i in range(8):
        rows = FEATURE_ROW.findall(_example_block(page, i))
        weights = e.attributions[i]
        order = np.argsort(-np.abs(weights), kind="stable")
        assert [int(r[0]) for r in rows] == list(range(1, 7))
        assert [r[1] for r in rows] == [html.escape(names[j]) for j in order]
        assert [r[2] for r in rows] == [_g4(e.inputs[i, j]) for j in order]
        assert [r[3] for r in rows] == [_g4(weights[j]) for j in order]
        assert [r[4] for r in rows] == ["pos" if weights[j] > 0 else "neg" for j in order]
        largest = np.abs(weights).max()
        assert [int(r[5]) for r in rows] == [int(round(56 * abs(weights[j]) / largest)) for j in order]
        predicted = int(np.argmax(e.predictions[i]))
        label = html.escape(f"{predicted} · {e.class_names[predicted]}")
        assert f"predicted <b>{label}</b> (probability {e.predictions[i, predicted]:.3g})" in page
    assert notebook.explanation_html(e, max_examples=2, top_k=3).count('<td class="num">3</td>') == 2


def test_every_user_string_is_text_and_nothing_loads():
    e = _table(count=2, feature_names=[XSS] * 6, class_names=[XSS, "b", "c"], input_names=[XSS, 'q"'])
    page = notebook.explanation_html(e)
    assert "<script" not in page.lower() and "q\"" not in page
    assert page.count(ESCAPED) >= 2 * 6 + 2 + 1  # feature names, input names, the setting
    assert f"#0 · {ESCAPED}" in page and "#1 · q&quot;" in page
    assert "http" not in page and "url(" not in page and "<link" not in page and "<img" not in page
    assert page.startswith('<div class="kx-explanation"><style>') and page.endswith("</details></div>")
    # The settings: one line in the head, every entry in the table.
    assert f"<b>kernel_shap(num_samples=64, note=&#x27;{ESCAPED}&#x27;)</b>" in page
    assert f"<tr><td>note</td><td>&#x27;{ESCAPED}&#x27;</td></tr>" in page


def test_checks_and_metric_scores_are_shown_per_example_and_on_average():
    rng = np.random.default_rng(1)
    deletion, insertion = rng.uniform(size=5), rng.uniform(size=5)
    gap = rng.normal(scale=1e-3, size=5)
    e = _table(count=5, metric_scores={"insertion": insertion, "deletion": deletion}, additivity_gap=gap)
    page = notebook.explanation_html(e)
    for i in range(5):
        block = _example_block(page, i)
        assert f'<td>additivity gap</td><td class="num">{_g4(gap[i])}</td>' in block
        assert f'<td>deletion AUC (lower is better)</td><td class="num">{_g4(deletion[i])}</td>' in block
        assert f'<td>insertion AUC (higher is better)</td><td class="num">{_g4(insertion[i])}</td>' in block
    means = (
        f"deletion AUC (lower is better) {_g4(deletion.mean())}; "
        f"insertion AUC (higher is better) {_g4(insertion.mean())}"
    )
    assert f"metric scores, mean over the 5 examples: {means}</p>" in page
    assert 'class="kx-more"' not in page


def test_a_global_explanation_shows_its_importance_table():
    rng = np.random.default_rng(2)
    size = 25
    importances = rng.normal(size=(1, size))
    spread = rng.uniform(0.01, 0.1, size=(1, size))
    names = [f"f{j}" for j in range(size - 1)] + [XSS]
    e = kx.Explanation(
        attributions=importances, inputs=np.zeros((1, size)), targets=[0], predictions=[[0.3]],
        method="permutation_importance", config={"n_repeats": 5}, importances_std=spread, feature_names=names,
    )
    page = notebook.explanation_html(e)
    assert "a global explanation: one importance per feature (25 features)" in page
    assert 'class="kx-example"' not in page
    rows = re.findall(
        r'<tr><td class="num">(\d+)</td><td>(.*?)</td><td class="num">(.*?)</td><td class="num">(.*?)</td>', page
    )
    order = np.argsort(-np.abs(importances[0]), kind="stable")[:20]
    assert rows == [
        (str(k + 1), html.escape(names[j]), _g4(importances[0, j]), _g4(spread[0, j])) for k, j in enumerate(order)
    ]
    assert '<p class="kx-more">and 5 more features</p>' in page


def test_image_view_shows_input_and_overlay_of_the_first_examples(small_cnn, images):
    e = kx.GradientSaliency(small_cnn).explain(np.concatenate([images, images[:3]]))
    page = notebook.explanation_html(e)
    pictures = _pictures(page)
    side = images.shape[1] * -(-160 // images.shape[1])
    assert len(pictures) == 16 and all(p.size == (side, side) for p in pictures)
    assert '<p class="kx-more">and 2 more examples</p>' in page
    assert page.count("<figcaption>input</figcaption>") == 8
    png = e._repr_png_()
    assert png == notebook.explanation_png(e)
    figure = e.plot()
    width, height = figure.get_size_inches() * 80
    assert Image.open(stdio.BytesIO(png)).size == (round(width), round(height))


def test_several_inputs_show_predictions_and_no_png():
    rng = np.random.default_rng(3)
    e = kx.Explanation(
        attributions=[rng.normal(size=(2, 3)), rng.normal(size=(2, 4, 4, 1))],
        inputs=[rng.normal(size=(2, 3)), rng.normal(size=(2, 4, 4, 1))],
        targets=[0, 0], predictions=[[0.5], [2.0]], method="saliency",
    )
    page = e._repr_html_()
    assert "2 examples, a model of 2 inputs, attributions of shape (2, 3), (2, 4, 4, 1)" in page
    assert page.count("model output <b>") == 2 and "model output <b>2</b>" in page
    assert e._repr_png_() is None


def test_view_arguments_are_checked():
    with pytest.raises(ValueError, match=r"^max_examples: expected an integer >= 1, received 0\.$"):
        notebook.explanation_html(_table(count=2), max_examples=0)


# -- the example notebook, on a real kernel ------------------------------------------


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """examples/notebook.ipynb executed on a kernel of this Python, in a temporary folder."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    kernelspec = pytest.importorskip("ipykernel.kernelspec")
    root = tmp_path_factory.mktemp("notebook")
    jupyter = root / "jupyter"
    kernelspec.write_kernel_spec(str(jupyter / "kernels" / "keras-explain-test"), overrides={"display_name": "test"})
    work = root / "work"
    work.mkdir()
    book = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(jupyter))
        client = nbclient.NotebookClient(
            book, kernel_name="keras-explain-test", timeout=300, resources={"metadata": {"path": str(work)}}
        )
        client.execute()
    cells = {}
    for cell in book.cells:
        for tag in cell.metadata.get("tags", []):
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert len(results) == 1, tag
            cells[tag] = results[0].data
    return cells, work / "notebook-output"


def _first_rows(page):
    return FEATURE_ROW.findall(page.split('id="kx-example-0"')[1].split('id="kx-example-1"')[0])


@pytest.mark.slow
def test_the_notebook_shows_every_explanation(executed):
    cells, saved = executed
    tables = {"table_ig": "integrated_gradients", "table_kernel_shap": "kernel_shap", "table_lime": "lime_tabular"}
    for name, method in tables.items():
        page = cells[f"explanation:{name}"]["text/html"]
        e = kx.Explanation.load(saved / f"{name}.npz")
        assert e.method == method and f"<b>{method}(" in page
        weights = e.attributions[0]
        used = np.asarray(e.extras["used"][0], bool) if "used" in e.extras else np.ones(weights.size, bool)
        top = int(np.flatnonzero(used)[np.argmax(np.abs(weights[used]))])
        labels = e.extras.get("feature_labels")
        label = labels[0][top] if labels is not None else e.feature_names[top]
        first = _first_rows(page)[0]
        assert (first[1], first[3]) == (html.escape(str(label)), _g4(weights[top])), name
        shown = min(len(e), 8)
        assert page.count('<div class="kx-example"') == shown
        assert (f"and {len(e) - shown} more examples" in page) == (len(e) > 8)
        predicted = int(np.argmax(e.predictions[0]))
        assert f"predicted <b>{predicted} · {e.class_names[predicted]}</b>" in page
    gaps = kx.Explanation.load(saved / "table_ig.npz").completeness_gap
    page = cells["explanation:table_ig"]["text/html"]
    assert f'<td>completeness gap</td><td class="num">{_g4(gaps[0])}</td>' in page
    importance = kx.Explanation.load(saved / "table_permutation.npz")
    page = cells["explanation:table_permutation"]["text/html"]
    top = int(np.argmax(np.abs(importance.attributions[0])))
    expected = f"<td>{html.escape(importance.feature_names[top])}</td><td class=\"num\">"
    assert page.split('<td class="num">1</td>')[1].startswith(expected + _g4(importance.attributions[0, top]))
    for name, count in (("digits_ig", 6), ("digits_gradcam", 12)):
        page = cells[f"explanation:{name}"]["text/html"]
        e = kx.Explanation.load(saved / f"{name}.npz")
        assert len(e) == count and len(_pictures(page)) == 2 * min(count, 8)
        predicted = int(np.argmax(e.predictions[0]))
        assert f"predicted <b>{predicted} · {e.class_names[predicted]}</b>" in page
    for tag, data in cells.items():
        assert Image.open(stdio.BytesIO(base64.b64decode(data["image/png"]))).format == "PNG", tag
        assert data["text/plain"], tag
    assert {"plot:summary", "plot:waterfall"} <= set(cells)
    assert "text/html" not in cells["plot:summary"]


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (see test_browser.py)")
def test_the_notebook_html_opens_in_chromium_without_errors(executed, tmp_path):
    from keras_explain.report import CSP

    cells, _ = executed
    fragments = [data["text/html"] for tag, data in sorted(cells.items()) if "text/html" in data]
    hostile = _table(count=2, feature_names=[XSS] * 6, class_names=[XSS, "b", "c"])
    fragments.append(hostile._repr_html_())
    expected_images = sum(len(DATA_URI.findall(f)) for f in fragments)
    page = tmp_path / "notebook.html"
    page.write_text(
        f'<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}"><title>views</title></head>'
        f"<body>{'<hr>'.join(fragments)}</body></html>",
        encoding="utf-8",
    )
    browser = Chromium(_chromium(), tmp_path / "profile")
    try:
        url = "file://" + os.path.abspath(page)
        session = browser.open(url)
        sizes = browser.evaluate(session, _IMAGES)
        assert len(sizes) == expected_images == 28
        assert all(width > 0 and height > 0 for width, height in sizes), sizes
        assert browser.evaluate(session, "document.scripts.length") == 0
        assert browser.evaluate(session, "document.querySelectorAll('.kx-explanation').length") == len(fragments)
        assert browser.evaluate(session, "document.body.innerText").count(XSS) >= 12
        assert _problems(browser.events_of(session), url) == []
    finally:
        browser.close()
