"""`explain_dataset`: explain a dataset of any length shard by shard, into a folder that resumes.

Streaming. The rows are read one shard at a time: while the model explains
a shard, a background thread (`prefetch.Prefetcher`) prepares the next one
(it reads the tf.data pipeline, slices the array or reads the image
files), and no more than these two shards of inputs and one shard of
results are in memory. Each shard is written to its own file, with its
summary statistics beside it, and then the manifest is rewritten; every
file is written to a temporary name and renamed, so a crash (even
`kill -9`) leaves complete shards and a manifest that lists them.

Resuming. Running the same call again skips the shards listed in the
manifest whose sha256 still verifies and explains the others, giving the
files an uninterrupted run writes (no row lost or repeated). Results made
by another model (weights or layers), another configuration, other
options or targets, another shard size, format or `keep`, or other data
refuse to resume with a ValueError saying what differs. `batch_size`,
`verbose` and `run_eagerly` may change between runs: they never change
results.

Seeds. A method with random draws (LIME, KernelSHAP, SmoothGrad,
GradientSHAP) explains shard k (part r of it on replica r of a strategy)
with the random_state `shard_seed(seed, k, r)`, where `seed` is the
explainer's `random_state` (with random_state=None, a seed drawn once and
kept in the manifest): a resumed shard draws what it drew the first time,
and shards draw independent samples. Each shard's explainer is the
explainer `reseeded` with that seed (its compiled step is shared).

Summary. Per feature, and per explained class, the mean |attribution|,
the mean attribution and their spreads (as `kx.summarize` computes them)
are folded shard by shard and stored with the manifest once the data
ends; `open_results(out).summary()` reads them.
"""

import os
import sys
import time
import warnings

import numpy as np

from keras_explain.datasets.distribute import explain_parts, join_columns, replica_count, row_columns
from keras_explain.datasets.finish import finish_run, start_run
from keras_explain.datasets.hashing import canonical, explainer_config, model_digest
from keras_explain.datasets.prefetch import Prefetcher
from keras_explain.datasets.shards import FORMATS, column_info, pyarrow_modules, stats_name, write_npz, write_shard
from keras_explain.datasets.sources import make_source
from keras_explain.datasets.stats import shard_stats
from keras_explain.engine.errors import check_bool, check_choice, check_int, fail

__all__ = ["explain_dataset", "shard_seed"]


def shard_seed(base, shard, part=0):
    """The random_state of part `part` of shard `shard` for a run of base seed `base`.

    `numpy.random.SeedSequence((base, shard, part))`'s first 32-bit word: a
    pure function of the three numbers, so a shard explained again after a
    crash draws what it drew the first time, and different shards draw
    independent samples.
    """
    return int(np.random.SeedSequence([int(base), int(shard), int(part)]).generate_state(1)[0])


def explain_dataset(
    explainer,
    data,
    out,
    shard_size=1024,
    resume=True,
    keep=("attributions",),
    targets=None,
    format="npz",
    strategy=None,
    preprocess="unit",
    verbose="auto",
    **options,
):
    """Explain every row of a dataset, streaming, into one file per shard and a manifest; resumes.

    See the module docstring for how it streams, resumes, seeds random
    methods and summarizes.

    Args:
        explainer: an `Explainer` of a model with one input, of a method
            that explains examples one by one (not PermutationImportance).
        data: a numpy array (N, ...) (a memory-mapped `.npy` streams from
            disk), a pandas DataFrame (N, F), a list of image files (read
            at the model's input size), or a tf.data.Dataset of x or (x, y)
            of any length, batched or not.
        out: the results folder (created when missing).
        shard_size: rows per shard file. Defaults to 1024.
        resume: continue the results already in `out`; False starts again
            (the previous shard files are removed). Defaults to True.
        keep: the per-row results written besides "ids", "targets" and
            "predictions" (and "names" of image files): "attributions",
            "inputs" and the method's per-example fields
            ("completeness_gap", "segments", ...). Defaults to ("attributions",).
        targets: None (the predicted class), an int, an int array (N,), or
            "labels" (the y of (x, y) data: class indices or one-hot).
            Defaults to None.
        format: "npz" or "parquet" (needs pyarrow). Defaults to "npz".
        strategy: a tf.distribute.Strategy whose replicas share each shard
            (see `keras_explain.datasets.distribute`). Defaults to None.
        preprocess: how image files' pixels become inputs: "unit",
            "minus-one-one" or "none" (see `keras_explain.io.read_image`).
            Defaults to "unit".
        verbose: 0, 1 or "auto" (a progress line of rows, rows/s and ETA on
            stderr, when it is a terminal). Defaults to "auto".
        **options: the method's explain options (`baseline=`, ...).

    Returns:
        `keras_explain.datasets.Results` of `out` (see `open_results`).

    Raises:
        ValueError: for a bad argument, or results in `out` made by another
            run.
        ImportError: for format="parquet" without pyarrow.

    Example:

    ```python
    ig = kx.IntegratedGradients(model, steps=32)
    results = kx.explain_dataset(ig, dataset, out="ig-val", shard_size=1024)
    results.summary().mean_abs            # per feature, over every row
    results.column("attributions")        # (N, ...) when it fits in memory
    ```
    """
    resume = check_bool("resume", resume)
    job = _Job(explainer, data, shard_size, keep, targets, format, strategy, preprocess, options)
    out = os.fspath(out)
    state = start_run(out, job.run, resume, job.config.get("random_state"), job.random, job.source)
    job.seed = state.manifest["seed"]
    bar = _progress_bar(verbose, job.source.rows, sum(e["stop"] - e["start"] for e in state.manifest["shards"]))
    with Prefetcher(job.source.chunks(state.pending, state.open_from)) as chunks:
        for chunk in chunks:
            entry, shared = job.explain(chunk, out)
            state.add_shard(entry, shared, chunk)
            bar.add(entry["stop"] - entry["start"])
    bar.close()
    finish_run(out, state)
    from keras_explain.datasets.results import open_results

    return open_results(out)


class _Job:
    """What a run explains each shard with, from the checked arguments; `run` is the manifest's entry."""

    def __init__(self, explainer, data, shard_size, keep, targets, fmt, strategy, preprocess, options):
        from keras_explain.engine.explainer import Explainer

        if not isinstance(explainer, Explainer):
            fail("explainer", "a keras_explain Explainer", explainer)
        if not type(explainer).per_example:
            fail("explainer", "an explainer of examples one by one (not a global method)", explainer)
        if explainer.model_function.several_inputs:
            fail("explainer", "an explainer of a model with one input", explainer)
        shard_size = check_int("shard_size", shard_size, minimum=1)
        self.format = check_choice("format", fmt, FORMATS)
        if fmt == "parquet":
            pyarrow_modules()
        self.explainer, self.options, self.strategy = explainer, options, strategy
        self.keep = _check_keep(keep)
        self.source = make_source(data, shard_size, explainer.model_function.input_shape, preprocess)
        self.targets = _check_targets(targets, self.source)
        self.replicas = replica_count(strategy)
        self.config = explainer.get_config()
        self.random, self.seed = "random_state" in self.config, None
        self.run = {
            "method": explainer.method,
            "explainer": explainer_config(explainer),
            "model": model_digest(explainer.model),
            "options": canonical(options),
            "targets": canonical(self.targets),
            "shard_size": shard_size,
            "format": fmt,
            "keep": list(self.keep),
            "data": self.source.fingerprint(),
        }
        if self.random:
            self.run["replicas"] = self.replicas

    def explainers(self, shard):
        """One explainer per part of `shard`: with the shard's seeds for a method with random draws.

        `Explainer.reseeded` shares the compiled step, so no shard traces it
        again, and what the constructor derived from the seed stays the same
        for every shard.
        """
        if not self.random:
            return [self.explainer] * self.replicas
        return [self.explainer.reseeded(shard_seed(self.seed, shard, r)) for r in range(self.replicas)]

    def chunk_targets(self, chunk, start):
        if isinstance(self.targets, str):
            return _labels(chunk)
        if isinstance(self.targets, np.ndarray):
            picked = self.targets[start : start + len(chunk)]
            if len(picked) != len(chunk):
                fail("targets", f"one target per row of the data (at least {start + len(chunk)})", self.targets)
            return picked
        return self.targets

    def explain(self, chunk, out):
        """Explain, write and describe one shard; returns (manifest entry, fields not per row)."""
        start = chunk.index * self.source.shard_size
        targets = self.chunk_targets(chunk, start)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts = explain_parts(self.explainers(chunk.index), chunk.x, targets, self.options, self.strategy)
        for message, category in dict.fromkeys((str(w.message), w.category) for w in caught):
            # Row numbers in a method's message count from the shard's first row.
            text = f"shard {chunk.index} (rows {start} to {start + len(chunk) - 1}): {message}"
            warnings.warn(text, category, stacklevel=3)
        split = [row_columns(e, self.keep) for e in parts]
        columns = {"ids": np.arange(start, start + len(chunk), dtype=np.int64)}
        columns.update(join_columns([c for c, _ in split]))
        if chunk.names is not None:
            columns["names"] = chunk.names
        name, digest = write_shard(out, chunk.index, columns, self.format)
        entry = {
            "index": chunk.index,
            "start": start,
            "stop": start + len(chunk),
            "file": name,
            "sha256": digest,
            "columns": {key: column_info(value) for key, value in columns.items()},
        }
        attributions = np.concatenate([e.attributions for e in parts]) if len(parts) > 1 else parts[0].attributions
        if np.ndim(attributions) in (2, 3, 4):
            view = _Rows(attributions, columns["targets"], columns["predictions"])
            entry["stats"] = stats_name(chunk.index)
            entry["stats_sha256"] = write_npz(os.path.join(out, entry["stats"]), shard_stats(view))
        return entry, split[0][1]


class _Rows:
    """The attributions, targets and predictions of a shard, read as an explanation by the summary."""

    def __init__(self, attributions, targets, predictions):
        self.attributions, self.targets, self.predictions = attributions, targets, predictions


def _labels(chunk):
    if chunk.y is None:
        raise ValueError(
            "targets: expected data with labels, a tf.data.Dataset of (x, y), for targets='labels', "
            "received data without labels."
        )
    y = np.asarray(chunk.y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1).astype(np.int64)
    return y.reshape(len(y)).astype(np.int64)


def _check_keep(keep):
    if isinstance(keep, str):
        keep = (keep,)
    if not isinstance(keep, (list, tuple)) or not all(isinstance(k, str) for k in keep):
        fail("keep", "a tuple of column names such as ('attributions', 'inputs')", keep)
    reserved = sorted({"ids", "targets", "predictions", "names"} & set(keep))
    if reserved:
        fail("keep", "names other than ids, targets, predictions and names (always written)", reserved)
    return tuple(dict.fromkeys(keep))


def _check_targets(targets, source):
    if targets is None or isinstance(targets, (int, np.integer)) and not isinstance(targets, bool):
        return None if targets is None else int(targets)
    if isinstance(targets, str):
        check_choice("targets", targets, ("labels",))
        return targets
    array = np.asarray(targets)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        fail("targets", "None, an int, 'labels' or an int array (N,)", targets)
    if source.rows is not None and len(array) != source.rows:
        fail("targets", f"one target per row of the data ({source.rows})", array)
    return array.astype(np.int64)


def _progress_bar(verbose, total, done):
    if verbose not in (0, 1, "auto", True, False):
        fail("verbose", "0, 1 or 'auto'", verbose)
    if verbose == "auto":
        verbose = sys.stderr is not None and sys.stderr.isatty()
    return Progress(total, done, enabled=bool(verbose))


class Progress:
    """One line on stderr: rows explained (of the total when known), rows per second and the time left.

    Args:
        total: rows of the data, or None when unknown.
        done: rows already explained (skipped when resuming).
        stream: where to write. Defaults to sys.stderr.
        enabled: write at all. Defaults to True.
    """

    def __init__(self, total, done=0, stream=None, enabled=True):
        self.total, self.done, self.new, self.enabled = total, done, 0, enabled
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()

    def text(self):
        """"1024/5000 rows (20%), 812 rows/s, ETA 5 s" (without the total and ETA for unknown lengths)."""
        rate = self.new / max(time.perf_counter() - self.started, 1e-9)
        if self.total is None:
            return f"{self.done} rows, {rate:.0f} rows/s"
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        share = 100 * self.done // max(self.total, 1)
        return f"{self.done}/{self.total} rows ({share}%), {rate:.0f} rows/s, ETA {left:.0f} s"

    def add(self, rows):
        self.done += rows
        self.new += rows
        if self.enabled:
            self.stream.write(f"\rexplain_dataset: {self.text()}   ")
            self.stream.flush()

    def close(self):
        if self.enabled and self.new:
            self.stream.write("\n")
            self.stream.flush()
