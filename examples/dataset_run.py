"""Explain a whole dataset: every digit, streamed into resumable shards, then its global views.

Part of `make demo` (examples/demo.py calls `explain_all_digits`). The run
stops part-way (as a crash would), is resumed by the same call, and its
per-class mean |attribution| maps are drawn from the summary folded while
streaming. The command line does the same on a `.npy` file.
"""

import os

import numpy as np
import tensorflow as tf

import keras_explain as kx


class _Interrupted(Exception):
    pass


def _rows_of(x, stop=None):
    """A tf.data.Dataset of the rows of x, made by a generator that fails after `stop` rows (None: never)."""

    def generate():
        for i, row in enumerate(x):
            if i == stop:
                raise _Interrupted
            yield row

    spec = tf.TensorSpec(x.shape[1:], tf.float32)
    return tf.data.Dataset.from_generator(generate, output_signature=spec)


def explain_all_digits(out, model, x, model_path, run, class_names=None, shard_size=256):
    """Integrated Gradients of every row of x into out/dataset/ig-digits, interrupted once and resumed.

    Args:
        out: the demo's output folder.
        model: the digits CNN.
        x: every digit, (N, 8, 8, 1) float32.
        model_path: the saved `.keras` file, for the command line.
        run: runs a keras-explain command (examples/saved_model.run).
        class_names: the digits' names.
        shard_size: rows per shard. Defaults to 256.

    Returns:
        (the rows of the index page: dicts of title, png, summary; the results).
    """
    folder = os.path.join(out, "dataset")
    target = os.path.join(folder, "ig-digits")
    ig = kx.IntegratedGradients(model, steps=32, rule="gauss_legendre", verbose=0)
    cut = 3 * shard_size + shard_size // 2
    try:
        kx.explain_dataset(ig, _rows_of(x, cut), out=target, shard_size=shard_size, resume=False, verbose=0)
    except Exception as error:  # tf.data reports the generator's exception as its own error
        if "_Interrupted" not in f"{type(error).__name__} {error}":
            raise
    kept = len(kx.open_results(target))
    # The same call on the same data resumes: the complete shards are kept, the partial one is redone.
    results = kx.explain_dataset(ig, _rows_of(x), out=target, shard_size=shard_size, verbose=0)
    whole = ig.explain(x[:shard_size * 2])
    same = np.array_equal(results.column("attributions")[: len(whole.attributions)], whole.attributions)
    print(f"  explain_dataset: stopped after {cut} rows with {kept} rows in complete shards, resumed to "
          f"{len(results)} rows in {len(results.manifest['shards'])} shards; equal to explain(): {same}")
    summary = results.summary()
    png = "dataset-class-averages.png"
    kx.viz.class_average_plot(summary, class_names=class_names, save=os.path.join(out, png))
    npy = os.path.join(folder, "digits.npy")
    np.save(npy, x)
    run(["explain-dataset", model_path, npy, "--method", "saliency", "--out", os.path.join(folder, "saliency"),
         "--shard-size", str(shard_size), "--no-resume"])
    line = (f"{len(results)} digits explained with IG (32 Gauss-Legendre steps) in shards of {shard_size}, "
            f"interrupted after {cut} rows and resumed; per-class mean |attribution| from the streamed summary")
    return [{"title": "every digit: explain_dataset", "png": png, "summary": line}], results
