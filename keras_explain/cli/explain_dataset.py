"""The `explain-dataset` command: explain every row of a dataset into shards that resume, or on Ray.

```sh
keras-explain explain-dataset model.keras val.npy --method integrated_gradients --out ig-val
keras-explain explain-dataset model.keras images/ --method gradcam --out cam --shard-size 256
keras-explain explain-dataset model.keras val.npy --method ig --out ig-parquet --ray auto --num-workers 4
```

DATA is a `.npy` array (memory-mapped: it streams from disk), a CSV table
(header = feature names), a folder of PNG/JPEG images or image files. The
run is `kx.explain_dataset`: one file per shard and a manifest in --out,
resumed when run again (unless --no-resume); with --ray it is
`kx.ray.explain` on the Ray cluster at ADDRESS ("auto", "local" for a new
local cluster, or host:port), writing Parquet files to --out.
"""

import argparse
import os
import sys
import time

import numpy as np

from keras_explain import io
from keras_explain.cli.checks import method_plan, parse_options, parse_target
from keras_explain.cli.runtime import import_tensorflow
from keras_explain.cli.usage import PROG, Printer, listing
from keras_explain.engine.errors import check_int
from keras_explain.io.messages import error

_EPILOG = (
    "examples:\n"
    "  keras-explain explain-dataset model.keras val.npy --method integrated_gradients --out ig-val\n"
    "  keras-explain explain-dataset model.keras images/ --method gradcam --out cam --shard-size 256\n"
    "  keras-explain explain-dataset model.keras val.npy --method ig --out ig-pq --ray local --num-workers 2\n"
    "\n"
    "files written to --out:\n"
    "  shard-00000.npz ...        ids, targets, predictions and the --keep columns of each shard (or .parquet)\n"
    "  shard-00000.stats.npz ...  each shard's summary statistics\n"
    "  manifest.json              model digest, configuration, shards with row ranges and sha256\n"
    "  summary.npz                the global summary; kx.open_results(DIR).summary() reads it\n"
    "  (with --ray: Parquet files of columns id, target, prediction, attributions)\n"
    "\n"
    "exit status: 0 success, 2 bad usage or input (one line on stderr), 1 unexpected failure"
)

EXPLAIN_DATASET_PARSER = dict(
    help="explain every row of a dataset into resumable shards (or on a Ray cluster)",
    description="Explain every row of a .npy array, a CSV table or a folder of images with a saved .keras model, "
    "streaming, into one file per shard and a manifest in --out; run it again to resume.",
    formatter_class=argparse.RawDescriptionHelpFormatter,
    epilog=_EPILOG,
)

#: The arguments of `explain-dataset`, in the order --help lists them.
EXPLAIN_DATASET_ARGUMENTS = (
    (("model",), dict(metavar="MODEL", help="the saved model, a .keras file")),
    (("data",), dict(metavar="DATA", nargs="+", help="a .npy array, a .csv table, a folder of images or image files")),
    (("--method",), dict(required=True, metavar="NAME", help="the method: see 'keras-explain methods'")),
    (("--out", "-o"), dict(required=True, metavar="DIR", help="the results folder")),
    (("--shard-size",), dict(type=int, default=1024, metavar="N", help="rows per shard (default: 1024)")),
    (("--format",), dict(default="npz", choices=("npz", "parquet"), help="shard files (default: npz)")),
    (("--keep",), dict(default="attributions", metavar="LIST",
                       help="comma-separated per-row results to write (default: attributions; also inputs, "
                            "completeness_gap, ...)")),
    (("--target",), dict(metavar="N", help="the output to explain for every row (default: the predicted class)")),
    (("--resume",), dict(action=argparse.BooleanOptionalAction, default=True,
                         help="continue the results in --out (default); --no-resume starts again")),
    (("--background",), dict(metavar="FILE.npy", help="reference inputs for deepshap, gradientshap, kernel_shap")),
    (("--training-data",), dict(metavar="FILE", help="training rows (.npy or .csv) for lime_tabular")),
    (("--num-samples",), dict(type=int, metavar="N", help="samples per row for sampling methods")),
    (("--preprocess",), dict(choices=tuple(io.PREPROCESSING),
                             help="how image pixels become inputs (default: unit, none after a Rescaling layer)")),
    (("--option",), dict(action="append", default=[], metavar="NAME=VALUE", help="any other option of the method")),
    (("--seed",), dict(type=int, default=0, metavar="N", help="random_state of sampling methods (default: 0)")),
    (("--batch-size",), dict(type=int, metavar="N", help="rows per model call (bounds memory)")),
    (("--ray",), dict(metavar="ADDRESS", help="run on Ray Data: 'auto', 'local' (start one) or host:port")),
    (("--num-workers",), dict(type=int, default=2, metavar="N", help="Ray actors, each with the model (default: 2)")),
    (("--custom-objects",), dict(action="append", default=[], metavar="FILE.py",
                                 help="a Python file registering custom layers, imported first; repeatable")),
    (("--progress",), dict(action=argparse.BooleanOptionalAction, default=None,
                           help="show the progress line (default: when stderr is a terminal)")),
    (("--quiet", "-q"), dict(action="store_true", help="print only errors")),
    (("--debug",), dict(action="store_true", help="show the traceback of an error")),
)


def _data(args):
    """(kind, value): ("npy", path), ("csv", path) or ("images", list of paths), checked."""
    paths = list(args.data)
    if len(paths) == 1 and os.path.isdir(paths[0]):
        folder = paths[0]
        paths = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.lower().endswith(io.IMAGE_SUFFIXES))
        if not paths:
            raise error("DATA", "a folder holding PNG or JPEG images", f"'{folder}', which holds none")
        return "images", paths
    kinds = io.check_input_files(paths, "DATA")
    if set(kinds) == {"image"}:
        return "images", paths
    if len(paths) != 1:
        raise error("DATA", "one .npy or .csv file, a folder of images or image files", " ".join(paths))
    return ("npy" if paths[0].lower().endswith(".npy") else "csv"), paths[0]


def _arguments(args, method, options, item_shape):
    """The method's constructor and explain options, from the flags and --option."""
    from keras_explain.cli.checks import method_takes

    plan, _ = method_plan(method, args, options)
    arguments = dict(options)
    for parameter, attribute in plan.items():
        value = getattr(args, attribute)
        if attribute == "background":
            value = io.read_array(value, item_shape, name="--background")
        elif attribute == "training_data":
            value = (io.read_table(value, "--training-data").rows if value.lower().endswith(".csv")
                     else io.read_array(value, item_shape, name="--training-data"))
        arguments[parameter] = value
    if "random_state" in method_takes(method):
        arguments["random_state"] = args.seed
    if args.batch_size is not None:
        arguments["batch_size"] = check_int("--batch-size", args.batch_size, minimum=1)
    return arguments


def run_explain_dataset(args):
    """The `explain-dataset` command; returns the exit status."""
    started = time.perf_counter()
    say = Printer(args.quiet)
    show_progress = (args.progress if args.progress is not None else sys.stderr.isatty()) and not args.quiet
    model_path = io.check_model_file(args.model, "MODEL")
    kind, data = _data(args)
    options = parse_options(args.option)
    check_int("--shard-size", args.shard_size, minimum=1)
    keep = tuple(k.strip() for k in args.keep.split(",") if k.strip())
    target = parse_target(args.target)
    if isinstance(target, str):
        raise error("--target", "an output index (an integer)", f"'{target}'")
    import_tensorflow()
    from keras_explain import api

    method = api.explainer_class(args.method).method
    if args.ray is not None:
        return _run_on_ray(args, say, kind, data, method, options, target, model_path, started)
    custom = {}
    for path in args.custom_objects:
        custom.update(io.import_custom_objects(path, "--custom-objects"))
    model = io._load_model(model_path, custom_objects=custom or None, name="MODEL", cli=True)
    from keras_explain.engine import model as model_info

    input_shape = model_info.input_shape(model)
    item_shape = None if input_shape is None else input_shape[1:]
    arguments = _arguments(args, method, options, item_shape)
    explainer, call = api.build_explainer(model, method, **arguments, verbose=0)
    values, names, preprocess = _read_data(args, kind, data, model, say)
    import keras_explain as kx

    before = _complete_rows(args.out) if args.resume else 0
    results = kx.explain_dataset(explainer, values, out=args.out, shard_size=args.shard_size, resume=args.resume,
                                 keep=keep, targets=target, format=args.format, preprocess=preprocess,
                                 verbose=1 if show_progress else 0, **call)
    _say_results(say, results, method, started, names, before)
    return 0


def _complete_rows(out):
    """Rows of the complete shards already in `out` (0 when it holds no results)."""
    from keras_explain.datasets import open_results

    try:
        return len(open_results(out))
    except (ValueError, OSError):
        return 0


def _read_data(args, kind, data, model, say):
    """(the rows for explain_dataset, feature names or None, the images' preprocess)."""
    if kind == "images":
        from keras_explain.cli.scaling import choose_preprocess

        args.inputs = data
        return data, None, choose_preprocess(args, model, say)
    if kind == "csv":
        table = io.read_table(data, "DATA")
        return table.rows, list(table.feature_names), None
    rows = np.load(data, mmap_mode="r", allow_pickle=False)
    if rows.dtype.kind not in "biuf" or rows.ndim < 1 or not len(rows):
        raise error("DATA", "a non-empty numeric .npy array", f"'{data}' of shape {rows.shape} and dtype {rows.dtype}")
    return rows, None, None


def _say_results(say, results, method, started, names, before):
    seconds = time.perf_counter() - started
    new = len(results) - before
    resumed = f", {before} resumed from complete shards" if before else ""
    say(f"{PROG}: {method} explained {len(results)} rows in {len(results.shards)} shards ({new} in this run{resumed}), "
        f"{seconds:.1f} s, {new / max(seconds, 1e-9):.0f} rows/s with loading")
    try:
        summary = results.summary()
    except ValueError:
        summary = None
    if summary is not None:
        labels = names if names is not None and summary.map_shape is None else summary.labels
        say(f"{PROG}: strongest features by mean |attribution| over {summary.count} rows:")
        listing(say, [f"{labels[j]}: {summary.mean_abs[j]:.4g}" for j in summary.order[:5]])
    say(f"{PROG}: wrote {os.path.join(results.directory, 'manifest.json')} and {len(results.shards)} shard files")


def _run_on_ray(args, say, kind, data, method, options, target, model_path, started):
    if kind != "npy":
        raise error("--ray", "DATA as one .npy file (each worker memory-maps it)", f"{kind} data")
    import ray

    import keras_explain as kx

    connect = not ray.is_initialized()  # a process already connected keeps its cluster
    if connect:
        ray.init(address=None if args.ray == "local" else args.ray, include_dashboard=False, log_to_driver=False)
    try:
        arguments = _arguments(args, method, options, None)
        arguments.pop("batch_size", None)
        out = kx.ray.explain(data, model_path, method, out=args.out, num_workers=args.num_workers,
                             batch_size=args.shard_size, targets=target, **arguments)
    finally:
        if connect:
            ray.shutdown()
    workers = f"{args.num_workers} worker{'s' if args.num_workers != 1 else ''}"
    say(f"{PROG}: {method} on Ray ({workers}) done in {time.perf_counter() - started:.1f} s; "
        f"wrote Parquet files to {out}")
    return 0
