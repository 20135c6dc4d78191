"""kx.explain_dataset: shards equal one explain(), files and manifest, streaming, seeds, resuming, errors."""

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from helpers import models

import keras_explain as kx
from keras_explain.datasets import shard_seed
from keras_explain.datasets.prefetch import Prefetcher

TESTS = os.path.dirname(os.path.abspath(__file__))
AGAIN = "pass resume=False to explain again from the start, or another out folder."


@pytest.fixture(scope="module")
def table():
    return models.rows(250, seed=11)


@pytest.fixture(scope="module")
def ig(tanh_mlp):
    return kx.IntegratedGradients(tanh_mlp, steps=16, verbose=0)


def _manifest(out):
    with open(os.path.join(out, "manifest.json")) as handle:
        return json.load(handle)


def _sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_shards_equal_one_explain_with_row_ranges_and_checksums(ig, table, tmp_path):
    whole = ig.explain(table)
    results = kx.explain_dataset(ig, table, out=tmp_path, shard_size=64, verbose=0)
    np.testing.assert_array_equal(results.column("attributions"), whole.attributions)
    np.testing.assert_array_equal(results.column("targets"), whole.targets)
    np.testing.assert_array_equal(results.column("predictions"), whole.predictions)
    np.testing.assert_array_equal(results.column("ids"), np.arange(250))
    manifest = _manifest(tmp_path)
    assert manifest["complete"] and manifest["rows"] == 250
    assert [(e["start"], e["stop"]) for e in manifest["shards"]] == [(0, 64), (64, 128), (128, 192), (192, 250)]
    for entry in manifest["shards"]:
        assert entry["sha256"] == _sha256(tmp_path / entry["file"])
        assert entry["stats_sha256"] == _sha256(tmp_path / entry["stats"])
    run = manifest["run"]["explainer"]
    assert run["class_name"] == "IntegratedGradients" and run["config"]["steps"] == 16
    # Settings that never change results are left out, so that they may change on resume.
    assert not {"batch_size", "verbose", "run_eagerly"} & set(run["config"])
    assert not [n for n in os.listdir(tmp_path) if ".partial-" in n]


def test_linear_model_saliency_is_the_weight_column_of_each_label(linear_model, linear_weights, tmp_path):
    kernel, _ = linear_weights
    x = models.rows(90, seed=4)
    labels = np.arange(90) % 3
    data = tf.data.Dataset.from_tensor_slices((x, labels)).batch(7)
    results = kx.explain_dataset(kx.GradientSaliency(linear_model, verbose=0), data, out=tmp_path,
                                 shard_size=20, targets="labels", verbose=0)
    np.testing.assert_allclose(results.column("attributions"), kernel.T[labels], rtol=1e-6)
    np.testing.assert_array_equal(results.column("targets"), labels)
    assert len(results.shards) == 5 and results.shards[-1]["stop"] == 90


def test_a_generator_dataset_of_unknown_length_streams_in_order(ig, table, tmp_path):
    data = tf.data.Dataset.from_generator(lambda: iter(table), output_signature=tf.TensorSpec((5,), tf.float32))
    assert int(data.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY)
    results = kx.explain_dataset(ig, data, out=tmp_path, shard_size=100, verbose=0)
    np.testing.assert_array_equal(results.column("attributions"), ig.explain(table).attributions)
    assert [(e["start"], e["stop"]) for e in results.shards] == [(0, 100), (100, 200), (200, 250)]


def test_parquet_shards_hold_the_same_arrays(ig, table, tmp_path):
    pytest.importorskip("pyarrow")
    npz = kx.explain_dataset(ig, table, out=tmp_path / "npz", shard_size=64, keep=("attributions", "inputs"),
                             verbose=0)
    parquet = kx.explain_dataset(ig, table, out=tmp_path / "pq", shard_size=64, keep=("attributions", "inputs"),
                                 format="parquet", verbose=0)
    assert parquet.shards[0]["file"] == "shard-00000.parquet"
    for name in npz.columns:
        a, b = npz.column(name), parquet.column(name)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(parquet.column("inputs"), table)


def test_kept_per_example_fields_and_a_dataframe_names_the_features(ig, table, tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(table, columns=["age", "bmi", "dose", "pulse", "weight"])
    results = kx.explain_dataset(ig, frame, out=tmp_path, shard_size=100, keep=("attributions", "completeness_gap"),
                                 verbose=0)
    whole = ig.explain(table)
    np.testing.assert_array_equal(results.column("completeness_gap"), whole.completeness_gap)
    assert results.summary().feature_names == ["age", "bmi", "dose", "pulse", "weight"]
    assert results.shard(0).feature_names == ["age", "bmi", "dose", "pulse", "weight"]


def test_image_files_are_read_at_the_model_size_and_named(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(9, 8, 8, 3), dtype=np.uint8)
    paths = []
    for k, image in enumerate(pixels):
        paths.append(str(tmp_path / f"img{k}.png"))
        Image.fromarray(image).save(paths[-1])
    model = tf.keras.Sequential([tf.keras.Input((8, 8, 3)), tf.keras.layers.Conv2D(2, 3),
                                 tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(3)])
    saliency = kx.GradientSaliency(model, verbose=0)
    results = kx.explain_dataset(saliency, paths, out=tmp_path / "out", shard_size=4, keep=("attributions", "inputs"),
                                 verbose=0)
    np.testing.assert_array_equal(results.column("inputs"), pixels.astype(np.float32) / 255)
    expected = saliency.explain(pixels / np.float32(255)).attributions
    np.testing.assert_array_equal(results.column("attributions"), expected)
    assert list(results.column("names")) == [f"img{k}.png" for k in range(9)]


# -- seeds of methods with random draws --------------------------------------------------


def test_each_shard_of_smoothgrad_draws_with_its_own_seed(tanh_mlp, table, tmp_path):
    smooth = kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples=6, random_state=5, verbose=0)
    results = kx.explain_dataset(smooth, table, out=tmp_path, shard_size=100, verbose=0)
    for k, (a, b) in enumerate([(0, 100), (100, 200), (200, 250)]):
        alone = kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples=6, random_state=shard_seed(5, k), verbose=0)
        np.testing.assert_array_equal(results.read(k)["attributions"], alone.explain(table[a:b]).attributions)
    assert _manifest(tmp_path)["seed"] == 5


def test_a_random_method_without_seed_keeps_the_drawn_seed_for_resuming(tanh_mlp, table, tmp_path):
    train = models.rows(40, seed=2)
    lime = kx.LimeTabular(tanh_mlp, train, num_samples=64, verbose=0)
    first = kx.explain_dataset(lime, table[:60], out=tmp_path, shard_size=30, verbose=0)
    seed = _manifest(tmp_path)["seed"]
    assert isinstance(seed, int)
    alone = kx.LimeTabular(tanh_mlp, train, num_samples=64, random_state=shard_seed(seed, 1), verbose=0)
    np.testing.assert_array_equal(first.read(1)["attributions"], alone.explain(table[30:60]).attributions)
    os.remove(tmp_path / "shard-00001.npz")
    again = kx.explain_dataset(lime, table[:60], out=tmp_path, shard_size=30, verbose=0)
    np.testing.assert_array_equal(again.column("attributions"), first.column("attributions"))


# -- resuming --------------------------------------------------------------------------


class Crash(Exception):
    pass


def _crashing(rows, after):
    def generate():
        for k, row in enumerate(rows):
            if k == after:
                raise Crash(f"crash at row {k}")
            yield row

    return tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec((5,), tf.float32))


def _rows_dataset(rows):
    return tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=tf.TensorSpec((5,), tf.float32))


def test_a_run_that_failed_mid_shard_resumes_to_the_uninterrupted_results(ig, table, tmp_path):
    with pytest.raises(Exception, match="crash at row 150"):
        kx.explain_dataset(ig, _crashing(table, 150), out=tmp_path, shard_size=64, verbose=0)
    manifest = _manifest(tmp_path)
    assert [e["index"] for e in manifest["shards"]] == [0, 1] and not manifest["complete"]
    results = kx.explain_dataset(ig, _rows_dataset(table), out=tmp_path, shard_size=64, verbose=0)
    np.testing.assert_array_equal(results.column("attributions"), ig.explain(table).attributions)
    np.testing.assert_array_equal(results.column("ids"), np.arange(250))


def test_resume_redoes_a_shard_whose_checksum_fails_and_removes_partial_files(ig, table, tmp_path):
    kx.explain_dataset(ig, table, out=tmp_path, shard_size=64, verbose=0)
    before = (tmp_path / "shard-00001.npz").stat().st_mtime_ns
    untouched = (tmp_path / "shard-00002.npz").stat().st_mtime_ns
    with open(tmp_path / "shard-00001.npz", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02\x03")
    (tmp_path / "shard-00003.npz.partial-123").write_bytes(b"half a shard")
    assert kx.open_results(tmp_path).verify() == [1]
    time.sleep(0.01)
    results = kx.explain_dataset(ig, table, out=tmp_path, shard_size=64, verbose=0)
    assert results.verify() == []
    assert (tmp_path / "shard-00001.npz").stat().st_mtime_ns != before
    assert (tmp_path / "shard-00002.npz").stat().st_mtime_ns == untouched
    assert not (tmp_path / "shard-00003.npz.partial-123").exists()
    np.testing.assert_array_equal(results.column("attributions"), ig.explain(table).attributions)


def test_resume_false_starts_again(ig, tanh_mlp, table, tmp_path):
    kx.explain_dataset(ig, table, out=tmp_path, shard_size=64, verbose=0)
    other = kx.IntegratedGradients(tanh_mlp, steps=12, verbose=0)
    results = kx.explain_dataset(other, table[:100], out=tmp_path, shard_size=50, resume=False, verbose=0)
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".npz") and ".stats" not in n) == [
        "shard-00000.npz", "shard-00001.npz", "summary.npz"]
    np.testing.assert_array_equal(results.column("attributions"), other.explain(table[:100]).attributions)


def test_changed_batch_size_resumes_and_changed_config_model_or_shards_refuse(ig, tanh_mlp, table, tmp_path):
    kx.explain_dataset(ig, table, out=tmp_path, shard_size=64, verbose=0)
    faster = kx.IntegratedGradients(tanh_mlp, steps=16, batch_size=7, verbose=0)
    kx.explain_dataset(faster, table, out=tmp_path, shard_size=64, verbose=0)
    where = f"the results in '{tmp_path}'"
    message = (f"explainer: expected the configuration that made {where}, received one that differs in "
               f"steps (16 before, 8 now); {AGAIN}")
    with pytest.raises(ValueError, match=re.escape(message)):
        kx.explain_dataset(kx.IntegratedGradients(tanh_mlp, steps=8, verbose=0), table, out=tmp_path, shard_size=64)
    retrained = models.tanh_mlp(seed=9)
    with pytest.raises(ValueError, match=r"^explainer: expected the model that made .* of digest [0-9a-f]{12}, "
                       r"received a model of digest [0-9a-f]{12} \(other weights or layers\); pass resume=False"):
        kx.explain_dataset(kx.IntegratedGradients(retrained, steps=16), table, out=tmp_path, shard_size=64)
    with pytest.raises(ValueError, match=re.escape(
            f"shard_size: expected the shard size that made {where}, 64, received 32; {AGAIN}")):
        kx.explain_dataset(ig, table, out=tmp_path, shard_size=32)
    with pytest.raises(ValueError, match=re.escape(
            f"options: expected the explain options that made {where}, received one that differs in baseline "
            f"(unset before, {{'array': ")):
        kx.explain_dataset(ig, table, out=tmp_path, shard_size=64, baseline=np.ones(5, np.float32))
    with pytest.raises(ValueError, match=re.escape(
            f"data: expected the data that made {where}, received one that differs in rows (250 before, 200 now); "
            f"{AGAIN}")):
        kx.explain_dataset(ig, table[:200], out=tmp_path, shard_size=64)
    with pytest.raises(ValueError, match=re.escape(
            f"explainer: expected the method that made {where}, 'integrated_gradients', received 'saliency'; "
            f"{AGAIN}")):
        kx.explain_dataset(kx.GradientSaliency(tanh_mlp), table, out=tmp_path, shard_size=64)


def test_the_same_model_built_again_in_this_process_resumes(table, tmp_path):
    first = kx.IntegratedGradients(models.tanh_mlp(), steps=16, verbose=0)
    kx.explain_dataset(first, table, out=tmp_path, shard_size=64, verbose=0)
    # Rebuilt: its layers have other automatic names (dense_7, ...), the same weights.
    again = kx.IntegratedGradients(models.tanh_mlp(), steps=16, verbose=0)
    assert [w.path for w in again.model.weights] != [w.path for w in first.model.weights]
    kx.explain_dataset(again, table, out=tmp_path, shard_size=64, verbose=0)


KILLED_RUN = """
import sys, time
sys.path.insert(0, {tests!r})
import numpy as np
import tensorflow as tf
from helpers import models
import keras_explain as kx

rows = models.rows(2000, seed=11)

def slow():
    for row in rows:
        time.sleep({pause})
        yield row

data = tf.data.Dataset.from_generator(slow, output_signature=tf.TensorSpec((5,), tf.float32))
smooth = kx.SmoothGrad(kx.GradientSaliency(models.tanh_mlp()), samples=4, random_state=3, verbose=0)
kx.explain_dataset(smooth, data, out={out!r}, shard_size=50, verbose=0)
"""


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_gives_the_uninterrupted_arrays(tanh_mlp, tmp_path):
    out = tmp_path / "killed"
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(KILLED_RUN.format(tests=TESTS, out=str(out), pause=0.003)))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (out / "shard-00002.npz").exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.time() < deadline
        time.sleep(0.02)
    process.kill()
    process.wait()
    assert process.returncode == -9
    manifest = _manifest(out)
    assert not manifest["complete"] and 2 <= len(manifest["shards"]) < 40

    rows = models.rows(2000, seed=11)
    smooth = kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples=4, random_state=3, verbose=0)
    resumed = kx.explain_dataset(smooth, _rows_dataset(rows), out=out, shard_size=50, verbose=0)
    straight = kx.explain_dataset(smooth, _rows_dataset(rows), out=tmp_path / "straight", shard_size=50, verbose=0)
    ids = resumed.column("ids")
    np.testing.assert_array_equal(ids, np.arange(2000))
    assert len(np.unique(ids)) == 2000
    np.testing.assert_array_equal(resumed.column("attributions"), straight.column("attributions"))
    np.testing.assert_array_equal(resumed.column("predictions"), straight.column("predictions"))
    np.testing.assert_array_equal(resumed.summary().mean_abs, straight.summary().mean_abs)


MEMORY_RUN = """
import resource
import sys
import numpy as np
import tensorflow as tf
import keras
import keras_explain as kx

rows, out = int(sys.argv[1]), sys.argv[2]
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((3072,)), keras.layers.Dense(3)])

def generate():
    rng = np.random.default_rng(0)
    for _ in range(rows):
        yield rng.normal(size=3072).astype(np.float32)

data = tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec((3072,), tf.float32))
results = kx.explain_dataset(kx.GradientSaliency(model, verbose=0), data, out=out, shard_size=500, verbose=0)
assert len(results) == rows
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
print("peak_kb", peak // 1024 if sys.platform == "darwin" else peak)
"""


@pytest.mark.slow
def test_peak_memory_of_20000_rows_stays_within_200_mb_of_1000_rows(tmp_path):
    # 20,000 rows of 3,072 float32 values: holding their inputs and attributions would take 490 MB.
    script = tmp_path / "memory.py"
    script.write_text(MEMORY_RUN)
    peaks = []
    for rows in (1000, 20000):
        done = subprocess.run([sys.executable, str(script), str(rows), str(tmp_path / f"out{rows}")],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        peaks.append(int(done.stdout.split("peak_kb")[-1].split()[0]) / 1024)
    assert peaks[1] - peaks[0] < 200, peaks


# -- the bounded reader and the errors ----------------------------------------------------


def test_the_prefetcher_keeps_at_most_two_items_alive_and_raises_errors_at_their_item():
    alive, most, lock = [0], [0], threading.Lock()

    class Item:
        def __init__(self, k):
            self.k = k
            with lock:
                alive[0] += 1
                most[0] = max(most[0], alive[0])

        def __del__(self):
            with lock:
                alive[0] -= 1

    def items():
        for k in range(20):
            yield Item(k)
        raise Crash("after 20")

    seen = []
    with pytest.raises(Crash, match="after 20"), Prefetcher(items()) as prefetched:
        for item in prefetched:
            time.sleep(0.005)
            seen.append(item.k)
            del item
    assert seen == list(range(20)) and most[0] <= 2


def test_bad_arguments_fail_with_clear_errors(ig, tanh_mlp, table, tmp_path):
    with pytest.raises(ValueError, match=r"^explainer: expected a keras_explain Explainer, received 'ig'\.$"):
        kx.explain_dataset("ig", table, out=tmp_path)
    permutation = kx.PermutationImportance(tanh_mlp, metric="accuracy", verbose=0)
    with pytest.raises(ValueError, match=r"^explainer: expected an explainer of examples one by one"):
        kx.explain_dataset(permutation, table, out=tmp_path)
    with pytest.raises(ValueError, match=r"^format: expected one of 'npz', 'parquet', received 'csv'\.$"):
        kx.explain_dataset(ig, table, out=tmp_path, format="csv")
    with pytest.raises(ValueError, match=r"^shard_size: expected an integer >= 1, received 0\.$"):
        kx.explain_dataset(ig, table, out=tmp_path, shard_size=0)
    with pytest.raises(ValueError, match=re.escape(
            "keep: expected names of per-row results of integrated_gradients among ['attributions', "
            "'baseline_scores', 'completeness_gap', 'inputs'], received ['segments'].")):
        kx.explain_dataset(ig, table, out=tmp_path / "keep", keep=("attributions", "segments"), verbose=0)
    with pytest.raises(ValueError, match=r"^targets: expected data with labels, a tf.data.Dataset of \(x, y\)"):
        kx.explain_dataset(ig, table, out=tmp_path / "labels", targets="labels", verbose=0)
    with pytest.raises(ValueError, match=r"^targets: expected one target per row of the data \(250\)"):
        kx.explain_dataset(ig, table, out=tmp_path, targets=np.zeros(10, int))
    with pytest.raises(ValueError, match=r"^data: expected a finite tf.data.Dataset"):
        kx.explain_dataset(ig, tf.data.Dataset.from_tensor_slices(table).repeat(), out=tmp_path)
    with pytest.raises(ValueError, match=r"^data: expected a numpy array, a DataFrame, a list of image files"):
        kx.explain_dataset(ig, {"x": table}, out=tmp_path)
    with pytest.raises(ValueError, match=r"^strategy: expected a tf.distribute.Strategy or None, received 2"):
        kx.explain_dataset(ig, table, out=tmp_path, strategy=2)

