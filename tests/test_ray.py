"""kx.ray.explain on a real local Ray cluster: the same numbers as explain_dataset, from plain configuration."""

import re

import numpy as np
import pytest
from helpers import models

import keras_explain as kx

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def saved(tanh_mlp, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "mlp.keras"
    tanh_mlp.save(path)
    return str(path)


def _by_id(dataset):
    """The result columns of a Ray Dataset, rows sorted by id."""
    batches = list(dataset.iter_batches(batch_format="numpy", batch_size=None))
    columns = {name: np.concatenate([b[name] for b in batches]) for name in batches[0]}
    order = np.argsort(columns["id"], kind="stable")
    return {name: value[order] for name, value in columns.items()}


def test_integrated_gradients_on_two_workers_equal_explain_dataset(cluster, saved, tanh_mlp, tmp_path):
    rows = models.rows(300, seed=11)
    found = _by_id(kx.ray.explain(rows, saved, "ig", steps=16, num_workers=2, batch_size=64))
    assert list(found) == ["id", "target", "prediction", "attributions"]
    np.testing.assert_array_equal(found["id"], np.arange(300))
    ig = kx.IntegratedGradients(tanh_mlp, steps=16, verbose=0)
    local = kx.explain_dataset(ig, rows, out=tmp_path, shard_size=64, verbose=0)
    np.testing.assert_allclose(found["attributions"], local.column("attributions"), rtol=0, atol=1e-6)
    np.testing.assert_allclose(found["prediction"], local.column("predictions"), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(found["target"], local.column("targets"))


def test_an_explainer_sent_as_config_with_random_draws_matches_the_shards_and_writes_parquet(
        cluster, saved, tanh_mlp, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    rows = models.rows(130, seed=12)
    np.save(tmp_path / "rows.npy", rows)
    smooth = kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples=4, random_state=5, verbose=0)
    written = kx.ray.explain(str(tmp_path / "rows.npy"), saved, smooth, out=tmp_path / "parquet", num_workers=1,
                             batch_size=50)
    table = pq.read_table(written).to_pydict()
    order = np.argsort(table["id"])
    attributions = np.asarray(table["attributions"], np.float32)[order]
    local = kx.explain_dataset(smooth, rows, out=tmp_path / "local", shard_size=50, verbose=0)
    np.testing.assert_array_equal(np.asarray(table["id"])[order], np.arange(130))
    np.testing.assert_allclose(attributions.reshape(130, 5), local.column("attributions"), rtol=0, atol=1e-6)


def test_a_ray_dataset_of_table_columns_with_ids(cluster, saved, tanh_mlp):
    pd = pytest.importorskip("pandas")
    rows = models.rows(40, seed=13)
    frame = pd.DataFrame(rows, columns=list("abcde"))
    frame.insert(0, "id", np.arange(100, 140))
    found = _by_id(kx.ray.explain(ray.data.from_pandas(frame), saved, "saliency", num_workers=1, batch_size=16,
                                  targets=2))
    np.testing.assert_array_equal(found["id"], np.arange(100, 140))
    expected = kx.GradientSaliency(tanh_mlp, verbose=0).explain(rows, targets=2)
    np.testing.assert_allclose(found["attributions"], expected.attributions, rtol=0, atol=1e-6)
    assert (found["target"] == 2).all()


def test_clear_errors_before_any_worker_starts(cluster, saved, tmp_path):
    pd = pytest.importorskip("pandas")
    no_ids = ray.data.from_pandas(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))
    with pytest.raises(ValueError, match=re.escape(
            "dataset: expected a ray.data.Dataset with an 'id' column (each row's index), received one with "
            "columns ['a', 'b']; add the index as 'id', or pass the rows as a numpy array or a .npy file.")):
        kx.ray.explain(no_ids, saved, "saliency")
    with pytest.raises(ValueError, match=r"^model_path: expected an existing \.keras file"):
        kx.ray.explain(np.zeros((2, 5), np.float32), tmp_path / "missing.keras", "saliency")
    with pytest.raises(ValueError, match=r"unknown|expected"):
        kx.ray.explain(np.zeros((2, 5), np.float32), saved, "no_such_method")
    with pytest.raises(ValueError, match=r"^num_workers: expected an integer >= 1, received 0\.$"):
        kx.ray.explain(np.zeros((2, 5), np.float32), saved, "saliency", num_workers=0)


def test_the_command_runs_on_ray_and_writes_parquet(cluster, saved, tanh_mlp, tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    from keras_explain.cli import main

    rows = models.rows(60, seed=14)
    np.save(tmp_path / "rows.npy", rows)
    command = ["explain-dataset", saved, tmp_path / "rows.npy", "--method", "saliency", "--out", tmp_path / "out",
               "--ray", "local", "--num-workers", "1", "--shard-size", "32"]
    assert main(command) == 0
    assert "saliency on Ray (1 worker)" in capsys.readouterr().out
    table = pq.read_table(tmp_path / "out").to_pydict()
    order = np.argsort(table["id"])
    expected = kx.GradientSaliency(tanh_mlp, verbose=0).explain(rows).attributions
    np.testing.assert_allclose(np.asarray(table["attributions"], np.float32)[order], expected, rtol=0, atol=1e-6)
