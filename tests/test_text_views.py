"""Views of text explanations: highlighted tokens (HTML), the top-token bars, the report, the CLI."""

import re

import keras
import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.figure import Figure

import keras_explain as kx
from keras_explain import cli
from keras_explain.render import text as views

VOCABULARY = "the a film good bad great boring plot cast <script> & co".split()
TEXTS = ["a good film & a great cast", "the <script> plot was boring", "bad bad film"]
SPAN = re.compile(r'<span class="kx-token" style="[^"]*background:(#[0-9a-f]{6})[^"]*"[^>]*>([^<]*)</span>')


@pytest.fixture(scope="module")
def text_model():
    """A seeded bag-of-words classifier over strings (2 classes)."""
    keras.utils.set_random_seed(21)
    text = keras.Input(shape=(1,), dtype="string")
    bag = keras.layers.TextVectorization(
        vocabulary=VOCABULARY, output_mode="multi_hot", standardize=None
    )(text)
    return keras.Model(text, keras.layers.Dense(2, activation="softmax")(bag))


@pytest.fixture(scope="module")
def explained(text_model):
    return kx.LimeText(text_model, num_samples=300, random_state=0, verbose=0).explain(TEXTS)


def ids_explanation(attributions, ids):
    """An explanation as the gradient methods on token ids give it: (N, T) per position."""
    return kx.Explanation(
        attributions=np.asarray(attributions, np.float32),
        inputs=np.asarray(ids),
        targets=np.zeros(len(ids), np.int64),
        predictions=np.ones((len(ids), 1), np.float32),
        method="saliency",
        token_space="ids",
    )


def colour_positions(colours):
    """Where each "#rrggbb" sits on the diverging scale, 0 (blue end) to 1 (red end)."""
    table = colormaps["RdBu_r"](np.arange(256) / 255)[:, :3]  # its 256 colours
    rgb = np.array([[int(c[k : k + 2], 16) / 255 for k in (1, 3, 5)] for c in colours])
    return np.argmin(((rgb[:, None, :] - table[None]) ** 2).sum(-1), axis=1) / 255


def test_every_token_is_escaped(explained, text_model):
    page = views.text_html(explained)
    assert "<script>" not in page and "&lt;script&gt;" in page
    spans = SPAN.findall(views.highlight_html(explained, 1))
    assert [word for _, word in spans] == ["the", "&lt;script&gt;", "plot", "was", "boring"]
    # Cut into runs of letters, " & " separates two words and is escaped too.
    words = kx.LimeText(text_model, num_samples=50, split="words", random_state=0, verbose=0).explain(TEXTS[:1])
    assert ">film</span> &amp; <span" in views.highlight_html(words, 0)


def test_colours_follow_the_attributions():
    weights = [-2.0, -0.5, 0.0, 1.0, 3.0, 0.25, 9.0]
    e = ids_explanation([weights], [[5, 7, 9, 11, 13, 2, 0]])
    spans = SPAN.findall(views.highlight_html(e, 0))
    # The padding id 0 is not shown; the others read as their numbers.
    assert [token for _, token in spans] == ["5", "7", "9", "11", "13", "2"]
    positions = colour_positions([colour for colour, _ in spans])
    shown = np.array(weights[:6])
    order = np.argsort(shown)
    assert np.all(np.diff(positions[order]) > 0)
    step = 1 / 255
    assert positions[2] == pytest.approx(0.5, abs=step)  # 0 is white, the middle
    assert positions[4] == 1.0  # the largest |weight| is the end of the scale
    np.testing.assert_allclose(positions - 0.5, 0.5 * shown / 3.0, atol=step)
    named = SPAN.findall(views.highlight_html(e, 0, vocabulary=[f"w{k}" for k in range(20)]))
    assert [token for _, token in named] == ["w5", "w7", "w9", "w11", "w13", "w2"]


def test_bar_chart_data_is_the_top_k_by_absolute_weight(explained, tmp_path):
    for i in range(len(explained)):
        count = int(explained.num_tokens[i])
        weights = explained.attributions[i, :count].astype(np.float64)
        top = np.argsort(-np.abs(weights), kind="stable")[:3]
        figure = views.text_plot(explained, i, top_k=3, save=tmp_path / f"bars{i}.png")
        data = figure.keras_explain_data
        assert data["tokens"] == [explained.tokens[i][k] for k in top]
        np.testing.assert_array_equal(data["weights"], weights[top])
        bars = [patch.get_width() for patch in figure.axes[0].patches]
        np.testing.assert_allclose(bars[::-1], weights[top])
        assert (tmp_path / f"bars{i}.png").stat().st_size > 0
    axes = Figure().subplots(1, 2)
    assert views.text_plot(explained, 0, top_k=2, ax=axes[1]) is axes[1].get_figure(root=True)
    assert axes[1].keras_explain_data["tokens"] == [
        explained.tokens[0][k] for k in np.argsort(-np.abs(explained.attributions[0, :5]), kind="stable")[:2]
    ]


def test_notebook_and_report_show_highlighted_tokens(explained, tmp_path):
    fragment = explained._repr_html_()
    assert fragment.count('class="kx-tokens"') == len(TEXTS)
    assert "<script>" not in fragment and "against the explained output" in fragment
    page = open(kx.report.write_html(explained, tmp_path / "report.html"), encoding="utf-8").read()
    assert page.count('class="kx-tokens"') == len(TEXTS)
    spans = SPAN.findall(page)
    assert [t for _, t in spans[:7]] == ["a", "good", "film", "&amp;", "a", "great", "cast"]
    ids = ids_explanation([[0.5, -1.0, 0.0]], [[3, 4, 0]])
    named = open(
        kx.report.write_html(ids, tmp_path / "ids.html", vocabulary=VOCABULARY), encoding="utf-8"
    ).read()
    assert [t for _, t in SPAN.findall(named)] == ["good", "bad"]


def test_the_command_reads_text_files_and_csv_columns(text_model, tmp_path, capsys):
    model_path = tmp_path / "text.keras"
    text_model.save(model_path)
    (tmp_path / "texts.txt").write_text("\n".join(TEXTS) + "\n\n", encoding="utf-8")
    rows = ["id,review"] + [f'{k},"{t}"' for k, t in enumerate(TEXTS)]
    (tmp_path / "texts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = keras.saving.load_model(model_path)
    expected = kx.LimeText(loaded, num_samples=120, random_state=0, verbose=0).explain(TEXTS)
    for name, extra in (("texts.txt", []), ("texts.csv", ["--column", "review"])):
        out = tmp_path / name.replace(".", "_")
        argv = [str(model_path), str(tmp_path / name), "--method", "lime_text", "--num-samples", "120"]
        code = cli.main(["explain"] + argv + extra + ["--out", str(out), "--format", "npz,html", "-q"])
        assert code == 0, capsys.readouterr().err
        e = kx.Explanation.load(out / "lime_text.npz")
        np.testing.assert_array_equal(e.inputs, np.array(TEXTS))
        np.testing.assert_allclose(e.attributions, expected.attributions, atol=1e-6)
        assert e.tokens == expected.tokens
        page = (out / "lime_text.html").read_text(encoding="utf-8")
        assert page.count('class="kx-tokens"') == len(TEXTS) and "&lt;script&gt;" in page
    code = cli.main(["explain", str(model_path), str(tmp_path / "texts.csv"), "--method", "lime_text",
                     "--out", str(tmp_path / "never")])
    assert code == 2
    assert capsys.readouterr().err.strip().endswith(
        f"INPUT: expected a .txt file (one example per line) for a model taking strings, received "
        f"'{tmp_path / 'texts.csv'}', a CSV file; name the column of texts with --column."
    )


def test_the_text_views_are_in_kx_viz(explained):
    assert kx.viz.text_plot is views.text_plot and kx.viz.text_html is views.text_html
    assert {"text_html", "text_plot"} <= set(kx.viz.__all__)
    # Example 2 is "bad bad film": two words, so top_k=5 draws both, strongest first.
    data = kx.viz.text_plot(explained, 2, top_k=5).keras_explain_data
    weights = explained.attributions[2, : int(explained.num_tokens[2])]
    order = np.argsort(-np.abs(weights), kind="stable")
    assert explained.tokens[2] == ["bad", "film"] and data["tokens"] == [explained.tokens[2][k] for k in order]
    np.testing.assert_array_equal(data["weights"], weights[order])
    spans = SPAN.findall(kx.viz.text_html(explained, indices=[2]))
    assert [word for _, word in spans] == ["bad", "bad", "film"]
