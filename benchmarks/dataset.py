"""Dataset-scale explanation: memory bounded by the shard size, throughput against explain(), and Ray.

What is measured
----------------
* Memory: the peak RSS of a fresh process that runs `kx.explain_dataset`
  (GradientSaliency of a small seeded CNN, shards of 256 rows) over a
  tf.data.Dataset built from a Python generator of 32x32x3 float32 images
  (12 KB a row), at 1,000 and 20,000 rows (`--memory-sizes`). Holding the
  inputs and attributions of every row would add 2 x 12 KB a row: about
  470 MB more at 20,000 rows; streaming shards keeps the two peaks close.
* Throughput: Integrated Gradients (16 steps) of the digits CNN on
  scikit-learn's 1,797 digits: `explainer.explain(x)` on the rows in memory
  (the lower bound: the same passes, no files) against `explain_dataset`
  over a batched tf.data pipeline of the same rows, shards of 512 rows
  written as .npz to a fresh folder each round. Contenders alternate for
  `--repeats` rounds after one untimed call each; the table gives medians.
* Ray (when `ray` is installed): `kx.ray.explain` on a local cluster
  started here (`ray.init(num_cpus=2)`), batches of 256 rows, the results
  materialized, for 1 worker with one TensorFlow thread, 2 workers with one
  each and 1 worker with two, on the N rows and on them 4 times over (4N),
  interleaved after one untimed run. From the two sizes: each
  configuration's start-up (actors importing TensorFlow, loading the
  `.keras` model, tracing) and its rows/s beyond it; the overhead per batch
  is what a batch costs on 1 worker x 2 threads beyond its share of the
  in-memory explain() (which also uses two threads).

How to run
----------
From the repository root:

    .venv/bin/python benchmarks/dataset.py                      # full run, a few minutes
    .venv/bin/python benchmarks/dataset.py --quick --no-write   # smoke run

The script prints the versions, the command, the seconds of every round and
a Markdown table, and (unless `--no-write`) replaces the section
"## Dataset-scale explanation" of benchmarks/RESULTS.md.
"""

import argparse
import shutil
import tempfile
from pathlib import Path

# common sets the environment defaults, so it comes before Keras and TensorFlow.
from common import (
    add_run_options,
    announce,
    apply_defaults,
    digits_cnn,
    interleaved_rounds,
    optional_import,
    peak_rss_at_two_sizes,
    provenance,
    ratio,
    report_peak_rss,
    version_of,
    versions,
    write_section,
)

# isort: split

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import keras_explain as kx  # noqa: E402

ray = optional_import("ray")

SECTION = "Dataset-scale explanation (benchmarks/dataset.py)"
IMAGE = (32, 32, 3)
MEMORY_SHARD = 256
SHARD = 512
RAY_BATCH = 256
#: explain_dataset over tf.data against explain() in memory (the issue: ">= 0.9x").
TARGET_RATIO = 0.9


# -- memory, in a fresh process ---------------------------------------------------------


def image_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input(IMAGE),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10),
    ])


def generated_images(rows, seed=0):
    """A tf.data.Dataset of `rows` seeded images made one at a time by a Python generator."""

    def generate():
        rng = np.random.default_rng(seed)
        for _ in range(rows):
            yield rng.uniform(size=IMAGE).astype(np.float32)

    return tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec(IMAGE, tf.float32))


def memory_child(rows):
    """Body of the `--measure-memory` subprocess: one explain_dataset, then the peak RSS."""
    out = tempfile.mkdtemp(prefix="dataset-memory-")
    try:
        saliency = kx.GradientSaliency(image_model(), verbose=0)
        results = kx.explain_dataset(saliency, generated_images(rows), out=out, shard_size=MEMORY_SHARD, verbose=0)
        assert len(results) == rows
    finally:
        shutil.rmtree(out, ignore_errors=True)
    report_peak_rss()


# -- throughput -------------------------------------------------------------------------


def digits(rows):
    x = load_digits().images.astype(np.float32)[..., None] / 16.0
    return np.concatenate([x] * (-(-rows // len(x))))[:rows]


def contenders(explainer, x, folders):
    """{name: callable}: explain() in memory and explain_dataset over tf.data into a fresh folder."""
    pipeline = tf.data.Dataset.from_tensor_slices(x).batch(64)

    def streamed():
        out = tempfile.mkdtemp(prefix="dataset-", dir=folders)
        results = kx.explain_dataset(explainer, pipeline, out=out, shard_size=SHARD, verbose=0)
        shutil.rmtree(out, ignore_errors=True)
        return len(results)

    return {"explain (in memory)": lambda: explainer.explain(x), "explain_dataset (tf.data)": streamed}


# -- Ray --------------------------------------------------------------------------------


#: The Ray runs: (workers, CPUs each actor reserves, which is also its TensorFlow threads).
RAY_CONFIGS = {"1 worker x 1 thread": (1, 1), "2 workers x 1 thread": (2, 1), "1 worker x 2 threads": (1, 2)}
#: The larger Ray runs explain the rows this many times over.
RAY_SCALE = 4


def ray_runs(x, path):
    """{name: callable}: kx.ray.explain of x (N rows) and of x RAY_SCALE times over, per configuration."""
    large = np.concatenate([x] * RAY_SCALE)

    def run(rows, workers, cpus):
        def call():
            done = kx.ray.explain(rows, path, "integrated_gradients", steps=16, num_workers=workers,
                                  num_cpus=cpus, batch_size=RAY_BATCH).materialize()
            assert done.count() == len(rows)

        return call

    runs = {}
    for name, (workers, cpus) in RAY_CONFIGS.items():
        runs[f"{name}, N"] = run(x, workers, cpus)
        runs[f"{name}, {RAY_SCALE}N"] = run(large, workers, cpus)
    return runs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=None, help="rows of the throughput runs (default 1,797)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 3)")
    parser.add_argument("--memory-sizes", type=int, nargs=2, default=None,
                        help="the two row counts of the memory runs (default 1000 20000)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray runs")
    add_run_options(parser, quick="smoke run: 300 rows, 1 round, memory at 500 and 2,000 rows")
    parser.add_argument("--measure-memory", type=int, default=None, help=argparse.SUPPRESS)
    args = apply_defaults(parser.parse_args(argv), {
        "rows": (300, 1797), "repeats": (1, 3), "memory_sizes": ([500, 2000], [1000, 20_000]),
    })
    if min(args.rows, args.repeats) < 1:
        parser.error("--rows and --repeats must be >= 1")
    return args


def measure_memory(args):
    small, large = args.memory_sizes
    low, high = peak_rss_at_two_sizes(Path(__file__).resolve(), "--measure-memory", (small, large))
    held = (large - small) * 2 * int(np.prod(IMAGE)) * 4 / 2**20
    return (
        f"peak RSS of explain_dataset over a generator tf.data.Dataset of {IMAGE[0]}x{IMAGE[1]}x{IMAGE[2]} "
        f"images, shards of {MEMORY_SHARD}: {low:.0f} MB at {small:,} rows, {high:.0f} MB at {large:,} rows "
        f"(difference {high - low:+.0f} MB; holding every row's input and attributions would add {held:.0f} MB)"
    )


def ray_lines(x, model, repeats, in_memory):
    """(a Markdown table, lines): each Ray configuration's start-up and throughput beyond it, and what scales.

    A run costs its start-up S (actors importing TensorFlow, loading the
    `.keras` model, tracing) plus its rows at the configuration's rate, so
    from the medians of N and RAY_SCALE x N rows: rows/s beyond the start-up
    = (RAY_SCALE - 1) N / (T(kN) - T(N)) and S = T(N) - N / rate. The overhead
    per batch is what a batch costs on one worker with TensorFlow's two
    threads beyond the same rows' share of the in-memory explain().
    """
    with tempfile.TemporaryDirectory(prefix="dataset-ray-") as folder:
        path = str(Path(folder) / "digits.keras")
        model.save(path)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            runs = ray_runs(x, path)
            warmup = next(iter(runs.values()))
            rounds = interleaved_rounds(runs, repeats, warmups={next(iter(runs)): warmup})
        finally:
            ray.shutdown()
    print(f"Ray seconds per round: {rounds.text(digits=2)}")
    median = rounds.medians()
    rows, lines = len(x), []
    table = [f"| Ray run | seconds, N = {rows:,} | seconds, {RAY_SCALE}N | start-up (s) | rows/s beyond start-up |",
             "|---|---:|---:|---:|---:|"]
    rates = {}
    for name in RAY_CONFIGS:
        small, large = median[f"{name}, N"], median[f"{name}, {RAY_SCALE}N"]
        if large <= small:
            raise RuntimeError(f"{name}: {RAY_SCALE}N rows took no longer than N ({large:.2f} s, {small:.2f} s); "
                               "the machine is too busy for this measurement, or N is too small (--rows).")
        rates[name] = (RAY_SCALE - 1) * rows / (large - small)
        start_up = small - rows / rates[name]
        table.append(f"| {name} | {small:.2f} | {large:.2f} | {start_up:.1f} | {rates[name]:.0f} |")
    table.append(f"| explain() in memory, this process (2 threads) | {in_memory:.2f} | | 0 | {rows / in_memory:.0f} |")
    one, two = rates["1 worker x 1 thread"], rates["2 workers x 1 thread"]
    lines.append(f"2 workers vs 1 worker (1 thread each): {two / one:.2f}x the rows/s beyond start-up")
    lines.append(f"2 workers x 1 thread vs 1 worker x 2 threads (both use the 2 cores): "
                 f"{two / rates['1 worker x 2 threads']:.2f}x")
    batch_ray = RAY_BATCH / rates["1 worker x 2 threads"]
    batch_here = in_memory * RAY_BATCH / rows
    lines.append(f"overhead per batch of {RAY_BATCH} rows (1 worker x 2 threads beyond explain() in memory): "
                 f"{(batch_ray - batch_here) * 1000:.0f} ms on {batch_here * 1000:.0f} ms of model work")
    return "\n".join(table), lines


def main(argv=None):
    args = parse_args(argv)
    if args.measure_memory is not None:
        memory_child(args.measure_memory)
        return
    library_versions = versions(("ray", version_of(ray)))
    command = announce(library_versions)
    x = digits(args.rows)
    model = digits_cnn(seed=0)
    explainer = kx.IntegratedGradients(model, steps=16, verbose=0)
    with tempfile.TemporaryDirectory(prefix="dataset-bench-") as folders:
        runs = contenders(explainer, x, folders)
        rounds = interleaved_rounds(runs, args.repeats, warmups=dict(runs))
    print(f"seconds per round: {rounds.text(digits=3)}")
    median = rounds.medians()
    memory_name, dataset_name = "explain (in memory)", "explain_dataset (tf.data)"
    throughput = median[memory_name] / median[dataset_name]
    table = "\n".join([
        f"| rows | {memory_name} (s) | {dataset_name} (s) | throughput, explain_dataset / explain() |",
        "|---:|---:|---:|---:|",
        f"| {args.rows:,} | {median[memory_name]:.3f} | {median[dataset_name]:.3f} | "
        f"{ratio(median[memory_name], median[dataset_name])} |",
    ])
    print()
    print(table)
    target = (f"explain_dataset's throughput is {throughput:.2f}x explain()'s "
              f"(target >= {TARGET_RATIO}x: {'MET' if throughput >= TARGET_RATIO else 'MISSED'})")
    print(target)
    memory = measure_memory(args)
    print(memory)
    ray_table = ray_text = None
    if ray is not None and not args.no_ray:
        ray_table, ray_text = ray_lines(x, model, args.repeats, median[memory_name])
        print(ray_table)
        print("\n".join(ray_text))
    if not args.no_write:
        body = [
            f"{provenance(command, library_versions)}.",
            "",
            f"Integrated Gradients (16 steps) of the digits CNN on {args.rows:,} rows; explain_dataset reads a "
            f"tf.data pipeline (batches of 64) and writes shards of {SHARD} rows as .npz; medians of "
            f"{args.repeats} interleaved rounds.",
            "",
            table,
            "",
            f"- {target}.",
            f"- {memory}.",
        ]
        if ray_table is not None:
            body += ["", ray_table, "", *[f"- {line}." for line in ray_text]]
        write_section(SECTION, "\n".join(body))


if __name__ == "__main__":
    main()
