"""`keras-explain evaluate`: the table it prints and the JSON it writes hold the Python call's numbers."""

import json

import numpy as np
import pytest

import keras_explain as kx
from keras_explain import cli, metrics

PREFIX = "keras-explain: error: "


@pytest.fixture(scope="module")
def saved(small_cnn, images, tmp_path_factory):
    folder = tmp_path_factory.mktemp("evaluate")
    model_path = folder / "cnn.keras"
    small_cnn.save(model_path)
    np.save(folder / "batch.npy", images)
    return folder, str(model_path), str(folder / "batch.npy")


def test_table_json_and_npz_equal_the_python_call(saved, images, capsys):
    folder, model_path, batch = saved
    out = folder / "out"
    status = cli.main([
        "evaluate", model_path, batch, "--method", "saliency", "--metrics", "deletion,mufidelity",
        "--metric-option", "steps=5", "--metric-option", "nb_samples=12", "--seed", "3", "--out", str(out),
        "--format", "npz,html",
    ])
    printed = capsys.readouterr().out
    assert status == 0
    model = kx.load_model(model_path)
    e = kx.GradientSaliency(model).explain(images)
    deletion = metrics.Deletion(steps=5)(model, images, e)
    mufidelity = metrics.MuFidelity(nb_samples=12, random_state=3)(model, images, e)
    report = json.loads((out / "saliency-metrics.json").read_text())
    assert report["format"] == "keras_explain.cli.metrics" and report["method"] == "saliency"
    assert [m["name"] for m in report["metrics"]] == ["deletion", "mufidelity"]
    assert report["metrics"][0]["mean"] == pytest.approx(deletion.mean, abs=1e-9)
    assert report["metrics"][1]["mean"] == pytest.approx(mufidelity.mean, abs=1e-9)
    assert report["metrics"][1]["config"]["random_state"] == 3
    np.testing.assert_allclose([row["scores"]["deletion"] for row in report["rows"]], deletion.scores, atol=1e-9)
    np.testing.assert_allclose([row["scores"]["mufidelity"] for row in report["rows"]], mufidelity.scores, atol=1e-9)
    assert report["rows"][0]["input"] == "batch.npy[0]"
    # The table: a header, a row per input and the means.
    lines = printed.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["input"])
    assert lines[header].split() == ["input", "deletion", "↓", "mufidelity", "↑"]
    row = lines[header + 2].split()
    assert row[0] == "batch.npy[0]"
    assert float(row[1]) == pytest.approx(deletion.scores[0], rel=1e-3)
    mean = lines[header + 3 + len(images)].split()
    assert mean[0] == "mean" and float(mean[2]) == pytest.approx(mufidelity.mean, rel=1e-3)
    loaded = kx.Explanation.load(out / "saliency.npz")
    np.testing.assert_allclose(loaded.metric_scores["deletion"], deletion.scores, atol=1e-9)
    assert "deletion AUC (lower is better)" in (out / "saliency.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--metrics", "deletion,nope"], "--metrics: expected a Metric or one of 'deletion', 'insertion', "
         "'mufidelity', 'faithfulness_correlation', 'infidelity', 'max_sensitivity', 'randomization', "
         "received 'nope'."),
        (["--metrics", "deletion", "--metric-option", "grid_size=3"], "--metric-option: expected options of "
         "the metrics given by name (deletion), received grid_size, which none of them takes."),
        (["--metrics", " , "], "--metrics: expected a comma-separated list of metric names, received ' , '."),
        (["--metrics", "deletion", "--metric-option", "steps=0"], "steps: expected an integer >= 1, received 0."),
    ],
)
def test_errors_are_one_line_with_exit_status_2(extra, expected, saved, capsys):
    folder, model_path, batch = saved
    status = cli.main(["evaluate", model_path, batch, "--method", "saliency", "--out", str(folder / "bad"), *extra])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert status == 2
    assert error == PREFIX + expected


def test_help_lists_the_metrics(capsys):
    assert cli.main(["evaluate", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "--metrics LIST" in shown and "max_sensitivity" in shown and "METHOD-metrics.json" in shown
