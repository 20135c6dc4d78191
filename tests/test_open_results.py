"""kx.open_results: lazy rows, slices, columns and shards, and the global summary computed while streaming."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from helpers import models

import keras_explain as kx

FIELDS = ("mean_abs", "mean", "std_abs", "std", "order", "scores")


@pytest.fixture(scope="module")
def table():
    return models.rows(250, seed=11)


@pytest.fixture(scope="module")
def explained(tanh_mlp, table, tmp_path_factory):
    """(results folder, one explain() of the same rows): DeepShap per row's class 0, 1 or 2."""
    explainer = kx.DeepShap(tanh_mlp, table[:8] * 0.5, verbose=0)
    targets = np.arange(250) % 3
    out = tmp_path_factory.mktemp("deepshap")
    kx.explain_dataset(explainer, table, out=out, shard_size=64, targets=targets, keep=("attributions", "inputs"),
                       verbose=0)
    return out, explainer.explain(table, targets=targets)


def _by_hand(attributions):
    a = np.asarray(attributions, np.float64)
    return {"mean_abs": np.abs(a).mean(axis=0), "mean": a.mean(axis=0), "std_abs": np.abs(a).std(axis=0),
            "std": a.std(axis=0)}


def test_rows_slices_shards_and_columns_read_what_was_explained(explained):
    out, whole = explained
    results = kx.open_results(out)
    assert len(results) == 250 and results.complete and results.method == "deepshap"
    assert results.columns == ["ids", "targets", "predictions", "attributions", "inputs"]
    for i in (0, 63, 64, 249, -1):
        row = results[i]
        assert row["ids"] == (i % 250) and row["targets"] == whole.targets[i]
        np.testing.assert_array_equal(row["attributions"], whole.attributions[i])
    part = results[60:130]
    assert isinstance(part, kx.Explanation) and len(part) == 70
    np.testing.assert_array_equal(part.attributions, whole.attributions[60:130])
    np.testing.assert_array_equal(part.inputs, whole.inputs[60:130])
    np.testing.assert_array_equal(part.ids, np.arange(60, 130))
    assert len(results[300:400]) == 0
    shards = list(results)
    assert [len(s) for s in shards] == [64, 64, 64, 58]
    np.testing.assert_array_equal(np.concatenate([s.predictions for s in shards]), whole.predictions)
    assert list(results.read(3, ["targets"])) == ["targets"]
    np.testing.assert_array_equal(results.column("attributions"), whole.attributions)


def test_bad_indices_columns_and_folders_fail_clearly(explained, tmp_path):
    results = kx.open_results(explained[0])
    with pytest.raises(ValueError, match=r"^index: expected a row between 0 and 249, or a slice, received 250\.$"):
        results[250]
    with pytest.raises(ValueError, match=r"^index: expected a slice with step 1"):
        results[::2]
    with pytest.raises(ValueError, match=re.escape(
            "name: expected a column among ['ids', 'targets', 'predictions', 'attributions', 'inputs'], "
            "received 'segments'.")):
        results.column("segments")
    with pytest.raises(ValueError, match=re.escape(
            f"directory: expected a folder of results written by kx.explain_dataset (with a manifest.json), "
            f"received '{tmp_path}'.")):
        kx.open_results(tmp_path)


def test_the_summary_is_the_one_of_summarize_and_the_statistics_by_hand(explained):
    out, whole = explained
    results = kx.open_results(out)
    summary = results.summary()
    shards = kx.summarize(list(results))
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(summary, name), getattr(shards, name), err_msg=name)
    assert summary.classes == [0, 1, 2] and summary.count == 250
    for name, value in _by_hand(whole.attributions).items():
        np.testing.assert_allclose(getattr(summary, name), value, rtol=1e-12, err_msg=name)
    for c in (0, 1, 2):
        rows = whole.targets == c
        assert summary.per_class[c].count == rows.sum()
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(summary.per_class[c], name), getattr(shards.per_class[c], name))
        by_hand = np.abs(whole.attributions[rows].astype(np.float64)).mean(0)
        np.testing.assert_allclose(summary.per_class[c].mean_abs, by_hand, rtol=1e-12)
    scores = whole.predictions.astype(np.float64)[np.arange(250), whole.targets]
    np.testing.assert_array_equal(summary.scores, scores)


def test_the_summary_is_stored_and_drawn_by_the_global_plots(explained, tmp_path):
    out, whole = explained
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in os.listdir(out):
        if not name.endswith(".stats.npz"):
            (copy / name).write_bytes((out / name).read_bytes())
    summary = kx.open_results(copy).summary()  # without the shards' statistics: the stored summary
    np.testing.assert_allclose(summary.mean_abs, np.abs(whole.attributions.astype(np.float64)).mean(0), rtol=1e-12)
    data = kx.viz.summary_plot(summary, kind="bar").keras_explain_data
    order = np.argsort(-summary.mean_abs, kind="stable")
    assert data["features"] == [f"x{j}" for j in order] and data["classes"] == [0, 1, 2]
    for c in (0, 1, 2):
        by_hand = np.abs(whole.attributions[whole.targets == c].astype(np.float64)).mean(0)
        np.testing.assert_allclose(data["values"][:, c], by_hand[order], rtol=1e-12)


def test_image_summaries_hold_the_mean_maps(small_cnn, tmp_path):
    x = models.images(30, seed=3)
    saliency = kx.GradientSaliency(small_cnn, verbose=0)
    results = kx.explain_dataset(saliency, tf.data.Dataset.from_tensor_slices(x).batch(4), out=tmp_path,
                                 shard_size=8, verbose=0)
    whole = saliency.explain(x)
    summary = results.summary()
    magnitude = np.abs(whole.attributions.astype(np.float64)).sum(-1)
    np.testing.assert_allclose(summary.maps["mean_abs"], magnitude.mean(0), rtol=1e-12)
    np.testing.assert_allclose(summary.maps["mean"], whole.attributions.astype(np.float64).sum(-1).mean(0),
                               rtol=1e-9, atol=1e-12)
    for c in summary.classes or ():
        rows = whole.targets == c
        np.testing.assert_allclose(summary.maps[f"mean_abs/{c}"], magnitude[rows].mean(0), rtol=1e-12)
    figure = kx.viz.class_average_plot(summary)
    assert figure is not None


def test_incomplete_results_summarize_their_complete_shards(tanh_mlp, table, tmp_path):
    def crashing():
        for k, row in enumerate(table):
            if k == 140:
                raise RuntimeError("stopped")
            yield row

    data = tf.data.Dataset.from_generator(crashing, output_signature=tf.TensorSpec((5,), tf.float32))
    with pytest.raises(Exception, match="stopped"):
        kx.explain_dataset(kx.GradientSaliency(tanh_mlp, verbose=0), data, out=tmp_path, shard_size=64, verbose=0)
    results = kx.open_results(tmp_path)
    assert not results.complete and len(results) == 128
    expected = kx.summarize(list(results))
    np.testing.assert_array_equal(results.summary().mean_abs, expected.mean_abs)


# -- the results of the command line ------------------------------------------------------------------


def test_the_command_explains_a_npy_file_resumes_and_says_the_summary(tanh_mlp, table, tmp_path, capsys):
    from keras_explain.cli import main

    ig = kx.IntegratedGradients(tanh_mlp, steps=16, verbose=0)

    model_path, rows_path, out = tmp_path / "mlp.keras", tmp_path / "rows.npy", tmp_path / "out"
    tanh_mlp.save(model_path)
    np.save(rows_path, table)
    command = ["explain-dataset", model_path, rows_path, "--method", "ig", "--option", "steps=16", "--out", out,
               "--shard-size", "64", "--no-progress"]
    assert main(command) == 0
    said = capsys.readouterr().out
    results = kx.open_results(out)
    np.testing.assert_array_equal(results.column("attributions"), ig.explain(table).attributions)
    summary = results.summary()
    top = summary.order[0]
    assert "integrated_gradients explained 250 rows in 4 shards (250 in this run)" in said
    assert f"  x{top}: {summary.mean_abs[top]:.4g}" in said
    stamps = [(out / e["file"]).stat().st_mtime_ns for e in results.shards]
    assert main(command) == 0  # resumes: every shard verifies, none is written again
    assert "(0 in this run, 250 resumed from complete shards)" in capsys.readouterr().out
    assert [(out / e["file"]).stat().st_mtime_ns for e in kx.open_results(out).shards] == stamps
    assert main(command[:-3] + ["--shard-size", "32", "--no-progress"]) == 2
    assert "error: shard_size: expected the shard size that made" in capsys.readouterr().err
    assert main(["explain-dataset", model_path, tmp_path / "missing.npy", "--method", "ig", "--out", out]) == 2
    assert "error: DATA: expected" in capsys.readouterr().err
