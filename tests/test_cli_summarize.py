"""`keras-explain summarize`: the files it writes hold the numbers of kx.summarize, its errors are one line.

Most runs go through `cli.main(argv)` in-process (the function the script
calls); one runs the command in a subprocess, as a user types it.
"""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import keras_explain as kx
from keras_explain import cli

PREFIX = "keras-explain: error: "
EXPECTED = "RESULT: expected a saved explanation (.npz file written by Explanation.save()), received "
NAMES = ["age", "<script>alert(1)</script>", "bmi & co", "x3", "x4"]


def _shard(rows, seed, method="kernel_shap", **extras):
    rng = np.random.default_rng(seed)
    scale = np.array([0.3, 2.0, 1.0, 0.1, 0.6])
    return kx.Explanation(
        attributions=rng.normal(size=(rows, 5)) * scale + [0.0, -0.5, 0.2, 0.0, 0.1],
        inputs=rng.normal(size=(rows, 5)),
        targets=rng.integers(0, 3, size=rows),
        predictions=rng.dirichlet(np.ones(3), size=rows),
        method=method,
        feature_names=NAMES,
        **extras,
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    return [_shard(17, 0).save(root / "part-0.npz"), _shard(23, 1).save(root / "part-1.npz")]


def _run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_files_hold_the_summary_of_the_loaded_results(results, tmp_path, capsys):
    out = tmp_path / "summary"
    status, text, err = _run(["summarize", *results, "--out", out, "--max-features", "3"], capsys)
    assert (status, err) == (0, "")
    loaded = [kx.Explanation.load(p) for p in results]
    summary = kx.summarize(loaded)
    stem = "dependence_script_alert_1_script"
    assert sorted(os.listdir(out)) == sorted(
        ["summary.csv", "summary.json", "summary_bar.png", "summary_beeswarm.png", f"{stem}.png", "summary.html"]
    )
    rows = _csv(out / "summary.csv")
    assert list(rows[0]) == ["class", "rank", "feature", "index", "mean_abs", "mean", "std_abs", "std"]
    parts = [("all", summary)] + [(str(c), summary.per_class[c]) for c in summary.classes]
    assert len(rows) == 5 * len(parts) == 20
    for k, (label, part) in enumerate(parts):
        block = rows[5 * k : 5 * k + 5]
        assert [r["class"] for r in block] == [label] * 5
        assert [int(r["index"]) for r in block] == list(part.order)
        assert [r["feature"] for r in block] == [NAMES[j] for j in part.order]
        assert [int(r["rank"]) for r in block] == [1, 2, 3, 4, 5]
        for name in ("mean_abs", "mean", "std_abs", "std"):
            assert [float(r[name]) for r in block] == list(getattr(part, name)[part.order]), (label, name)
    # The same numbers by hand over both files, for all examples.
    a = np.concatenate([e.attributions for e in loaded])
    order = sorted(range(5), key=lambda j: (-np.abs(a[:, j]).mean(), j))
    np.testing.assert_allclose([float(r["mean_abs"]) for r in rows[:5]], np.abs(a).mean(axis=0)[order], rtol=1e-12)
    np.testing.assert_allclose([float(r["std"]) for r in rows[:5]], a.std(axis=0)[order], rtol=1e-12)
    document = json.loads((out / "summary.json").read_text())
    assert document["count"] == 40 and document["files"] == ["part-0.npz", "part-1.npz"]
    assert document["classes"] == [0, 1, 2] and document["kind"] == "examples"
    assert [f["mean_abs"] for f in document["features"]] == [float(r["mean_abs"]) for r in rows[:5]]
    assert document["per_class"]["1"]["count"] == int(np.sum(np.concatenate([e.targets for e in loaded]) == 1))
    assert Image.open(out / "summary_bar.png").size == (720, round(120 * (0.9 + 0.32 * 3)))
    assert Image.open(out / "summary_beeswarm.png").format == "PNG"
    page = (out / "summary.html").read_text()
    assert "<script>" not in page and page.count('<img src="data:image/png;base64,') == 3
    top = NAMES[int(summary.order[0])]
    assert "keras-explain: kernel_shap: 40 examples from 2 files, 5 features\n" in text
    assert f"strongest by mean |attribution|: {top} ({summary.mean_abs[summary.order[0]]:.4g})," in text
    assert f"keras-explain: wrote {out / 'summary.csv'}\n" in text


def test_a_global_explanation_and_images(tmp_path, capsys):
    importances = np.array([[0.5, -0.1, 0.2]])
    path = kx.Explanation(
        attributions=importances, inputs=np.zeros((1, 3)), targets=[0], predictions=[[0.2]],
        method="permutation_importance", importances_std=np.array([[0.05, 0.01, 0.02]]),
    ).save(tmp_path / "importance.npz")
    status, _, err = _run(["summarize", path, "--out", tmp_path / "g", "-q"], capsys)
    assert (status, err) == (0, "")
    assert sorted(os.listdir(tmp_path / "g")) == ["summary.csv", "summary.html", "summary.json", "summary_bar.png"]
    rows = _csv(tmp_path / "g" / "summary.csv")
    assert [(r["feature"], float(r["mean"]), float(r["std"])) for r in rows] == [
        ("x0", 0.5, 0.05), ("x2", 0.2, 0.02), ("x1", -0.1, 0.01)
    ]
    rng = np.random.default_rng(4)
    maps = rng.normal(size=(6, 4, 4))
    path = kx.Explanation(
        attributions=maps, inputs=rng.uniform(size=(6, 4, 4, 1)), targets=[0, 1] * 3,
        predictions=rng.dirichlet(np.ones(2), size=6), method="gradcam",
    ).save(tmp_path / "maps.npz")
    status, text, err = _run(["summarize", path, "--out", tmp_path / "i"], capsys)
    assert (status, err) == (0, "")
    assert sorted(os.listdir(tmp_path / "i")) == ["class_average.png", "summary.csv", "summary.html", "summary.json"]
    assert "gradcam: 6 examples from 1 file, 4 x 4 pixels" in text
    rows = _csv(tmp_path / "i" / "summary.csv")
    first = [r for r in rows if r["class"] == "all"]
    assert [float(r["mean_abs"]) for r in first] == sorted(np.abs(maps).mean(axis=0).reshape(-1), reverse=True)


def test_errors_are_one_line_with_exit_status_2(results, tmp_path, capsys):
    not_ours = tmp_path / "arrays.npz"
    np.savez(not_ours, x=np.zeros(3))
    table = tmp_path / "rows.csv"
    table.write_text("a,b\n1,2\n")
    other = _shard(5, 3, method="saliency").save(tmp_path / "saliency.npz")
    images = kx.Explanation(
        attributions=np.ones((2, 5, 5)), inputs=np.ones((2, 5, 5)), targets=[0, 0], predictions=[[1.0], [1.0]],
        method="kernel_shap",
    ).save(tmp_path / "images.npz")
    afile = tmp_path / "afile"
    afile.write_text("")
    cases = [
        (["missing.npz"], EXPECTED + "'missing.npz', which does not exist."),
        ([tmp_path], EXPECTED + f"'{tmp_path}', which is a directory."),
        ([not_ours], EXPECTED + f"'{not_ours}', an .npz archive without a saved explanation."),
        ([table], EXPECTED + f"'{table}', which is not an .npz archive."),
        (
            [results[0], other],
            f"RESULT: expected explanations of one method, received 'kernel_shap' ('{results[0]}') and "
            f"'saliency' ('{other}').",
        ),
        (
            [results[0], images],
            f"RESULT: expected explanations of the same features, received attributions of shape (N, 5) in "
            f"'{results[0]}' and (N, 5, 5) in '{images}'.",
        ),
        ([results[0], "--max-features", "0"], "--max-features: expected an integer >= 1, received 0."),
        ([results[0], "--out", afile], f"--out: expected a folder, received '{afile}', which is a file."),
    ]
    for argv, message in cases:
        out = [] if "--out" in argv else ["--out", tmp_path / "never"]
        status, _, err = _run(["summarize", *argv, *out], capsys)
        assert (status, err) == (2, PREFIX + message + "\n"), argv
    assert not os.path.exists(tmp_path / "never")
    status, _, err = _run(["summarize"], capsys)
    assert status == 2 and err.startswith(PREFIX + "the following arguments are required: RESULT")


def test_the_command_as_a_user_types_it(results, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "keras_explain", "summarize", results[1], "--out", tmp_path / "s"],
        capture_output=True, text=True, timeout=300,
    )
    assert (done.returncode, done.stderr) == (0, "")
    summary = kx.summarize(kx.Explanation.load(results[1]))
    rows = [r for r in _csv(tmp_path / "s" / "summary.csv") if r["class"] == "all"]
    assert [float(r["mean_abs"]) for r in rows] == list(summary.mean_abs[summary.order])
    assert done.stdout.splitlines()[-1].startswith("keras-explain: done in ")
