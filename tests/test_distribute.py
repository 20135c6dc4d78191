"""explain_dataset(strategy=...): shards split across the replicas of a tf.distribute strategy.

Two logical CPU devices must be configured before TensorFlow initialises,
which this test process has already done: the two-replica run happens in a
subprocess, and this process reads the results it wrote.
"""

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from helpers import models

import keras_explain as kx
from keras_explain.datasets import shard_seed

TESTS = os.path.dirname(os.path.abspath(__file__))

TWO_REPLICAS = """
import sys
sys.path.insert(0, {tests!r})
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from helpers import models
import keras_explain as kx

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
rows = models.rows(201, seed=11)
model = models.tanh_mlp()
ig = kx.IntegratedGradients(model, steps=16, verbose=0)
kx.explain_dataset(ig, rows, out={out!r} + "/ig", shard_size=50, strategy=strategy, verbose=0)
smooth = kx.SmoothGrad(kx.GradientSaliency(model), samples=4, random_state=5, verbose=0)
kx.explain_dataset(smooth, rows, out={out!r} + "/smooth", shard_size=50, strategy=strategy, verbose=0)
print("replicas", strategy.num_replicas_in_sync)
"""


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored")
    script = out / "run.py"
    script.write_text(textwrap.dedent(TWO_REPLICAS.format(tests=TESTS, out=str(out))))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "replicas 2" in done.stdout
    return out


@pytest.mark.slow
def test_mirrored_strategy_over_two_devices_equals_one_device(two_replicas, tanh_mlp):
    rows = models.rows(201, seed=11)
    ig = kx.IntegratedGradients(tanh_mlp, steps=16, verbose=0)
    mirrored = kx.open_results(two_replicas / "ig")
    whole = ig.explain(rows)
    # The last shard has one row: one replica explains it, the other a stand-in that is dropped.
    assert [(s["start"], s["stop"]) for s in mirrored.shards][-1] == (200, 201)
    np.testing.assert_array_equal(mirrored.column("ids"), np.arange(201))
    np.testing.assert_allclose(mirrored.column("attributions"), whole.attributions, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(mirrored.column("targets"), whole.targets)
    np.testing.assert_allclose(mirrored.summary().mean_abs, np.abs(whole.attributions.astype(np.float64)).mean(0),
                               rtol=1e-6)


@pytest.mark.slow
def test_a_random_method_draws_part_r_of_shard_k_with_its_seed(two_replicas, tanh_mlp):
    rows = models.rows(201, seed=11)
    mirrored = kx.open_results(two_replicas / "smooth")
    for k, (a, b) in enumerate([(0, 50), (50, 100), (100, 150), (150, 200), (200, 201)]):
        bounds = np.linspace(a, b, 3).round().astype(int)
        expected = []
        for r in range(2):
            if bounds[r + 1] > bounds[r]:
                alone = kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples=4, random_state=shard_seed(5, k, r),
                                      verbose=0)
                expected.append(alone.explain(rows[bounds[r]:bounds[r + 1]]).attributions)
        np.testing.assert_allclose(mirrored.read(k)["attributions"], np.concatenate(expected), rtol=0, atol=1e-6)
    smooth = kx.SmoothGrad(kx.GradientSaliency(tanh_mlp), samples=4, random_state=5, verbose=0)
    with pytest.raises(ValueError, match=re.escape(
            f"strategy: expected the number of replicas that made the results in '{two_replicas / 'smooth'}', 2, "
            f"received 1; pass resume=False")):
        kx.explain_dataset(smooth, rows, out=two_replicas / "smooth", shard_size=50, verbose=0)


def test_a_one_device_strategy_runs_the_replica_path_with_the_same_results(tanh_mlp, tmp_path):
    rows = models.rows(90, seed=3)
    ig = kx.IntegratedGradients(tanh_mlp, steps=16, verbose=0)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    results = kx.explain_dataset(ig, rows, out=tmp_path, shard_size=40, strategy=strategy, verbose=0)
    np.testing.assert_array_equal(results.column("attributions"), ig.explain(rows).attributions)
