"""The `summarize` command: the global views of saved explanations.

```sh
keras-explain summarize explanations/kernel_shap.npz --out summary
keras-explain summarize shards/*.npz --out summary --max-features 10
```

It loads the `.npz` files that `Explanation.save` (and `explain`) write,
summarizes them together with `kx.summarize` (several files are shards of
one method and the same features), and writes to `--out`:

* `summary.csv` and `summary.json`: per feature the mean |attribution|,
  the mean attribution and their standard deviations, ranked; per explained
  class too when the files explain several classes (every feature, whatever
  `--max-features`);
* for tables, `summary_bar.png` and `summary_beeswarm.png`
  (`kx.viz.summary_plot`) and `dependence_FEATURE.png` for the strongest
  feature (`kx.viz.dependence_plot`); for a global explanation
  (PermutationImportance) the bar plot alone; for images
  `class_average.png` (`kx.viz.class_average_plot`);
* `summary.html`: the tables and plots on one self-contained page.

Exit status as for `explain`: 0 success, 2 bad usage or input (one line on
stderr), 1 an unexpected failure.
"""

import argparse
import csv
import json
import os
import re
import time
import zipfile

import numpy as np

from keras_explain.cli.usage import PROG, Printer
from keras_explain.engine.errors import check_int
from keras_explain.io.messages import error, file_error

#: What each RESULT must be, in error messages.
EXPECTED = "a saved explanation (.npz file written by Explanation.save())"

_EPILOG = (
    "examples:\n"
    "  keras-explain summarize explanations/kernel_shap.npz --out summary\n"
    "  keras-explain summarize shards/*.npz --out summary --max-features 10\n"
    "\n"
    "files written to --out:\n"
    "  summary.csv            per feature (and per explained class): rank, mean |attribution|, mean, spreads\n"
    "  summary.json           the same, with the method, the files and the counts\n"
    "  summary_bar.png        mean |attribution| per feature (importances for a global explanation)\n"
    "  summary_beeswarm.png   every example's attribution, coloured by the feature's value (tables)\n"
    "  dependence_NAME.png    the strongest feature's attribution against its value (tables)\n"
    "  class_average.png      the mean |attribution| map per explained class (images)\n"
    "  summary.html           the tables and plots on one self-contained page\n"
    "\n"
    "exit status: 0 success, 2 bad usage or input (one line on stderr), 1 unexpected failure"
)

#: The keywords of the `summarize` sub-parser.
SUMMARIZE_PARSER = dict(
    help="write the global views (summary table and plots) of saved explanations",
    description="Summarize saved explanations (.npz files of one method and the same features, for example "
    "the shards of a dataset) and write the summary table, the summary and dependence plots and an HTML "
    "page to --out.",
    formatter_class=argparse.RawDescriptionHelpFormatter,
    epilog=_EPILOG,
)

#: The arguments of `summarize`: (names, keywords).
SUMMARIZE_ARGUMENTS = (
    (
        ("results",),
        dict(
            metavar="RESULT",
            nargs="+",
            help="saved explanations (.npz files written by Explanation.save() or by explain), of one "
            "method and the same features; several are summarized together",
        ),
    ),
    (("--out", "-o"), dict(default="summary", metavar="DIR", help="output folder (default: summary)")),
    (
        ("--max-features",),
        dict(
            type=int,
            default=20,
            metavar="N",
            help="features in the plots and the HTML page (the CSV and JSON list them all; default: 20)",
        ),
    ),
    (("--quiet", "-q"), dict(action="store_true", help="print only errors")),
    (("--debug",), dict(action="store_true", help="show the traceback of an error")),
)

#: The columns of summary.csv.
CSV_COLUMNS = ("class", "rank", "feature", "index", "mean_abs", "mean", "std_abs", "std")


def check_results(paths):
    """Each RESULT exists and is a file (before TensorFlow is imported)."""
    for path in paths:
        if not os.path.exists(path):
            raise file_error("RESULT", EXPECTED, path, "which does not exist")
        if os.path.isdir(path):
            raise file_error("RESULT", EXPECTED, path, "which is a directory")


def read_result(path):
    """The `Explanation` saved in `path`.

    Raises:
        ValueError: for a file that is not an .npz archive, or an archive
            without a saved explanation.
    """
    from keras_explain.explanation import Explanation

    if not zipfile.is_zipfile(path):
        raise file_error("RESULT", EXPECTED, path, "which is not an .npz archive")
    try:
        return Explanation.load(path)
    except ValueError as problem:
        if str(problem).startswith("path: "):
            raise file_error("RESULT", EXPECTED, path, "an .npz archive without a saved explanation") from None
        raise


def summarize_results(items, paths):
    """`kx.summarize(items)`, its errors naming RESULT and the files instead of the list positions."""
    from keras_explain.summaries import summarize

    try:
        return summarize(items, keep=False)
    except ValueError as problem:
        text = str(problem)
        if not text.startswith("explanations: "):
            raise
        text = "RESULT: " + text[len("explanations: "):]
        text = re.sub(r"\bexplanation (\d+)\b", lambda found: f"'{paths[int(found[1])]}'", text)
        raise ValueError(text) from None


def _feature_rows(summary):
    from keras_explain.render.html_global import summary_rows

    return summary_rows(summary, len(summary.order))


def write_csv(summary, path):
    """Write summary.csv: every feature for all examples ("all"), then per class; returns the path."""
    parts = [("all", summary)] + [(str(c), summary.per_class[c]) for c in summary.classes or ()]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for label, part in parts:
            for row in _feature_rows(part):
                writer.writerow([label] + [repr(row[name]) if isinstance(row[name], float) else row[name]
                                           for name in CSV_COLUMNS[1:]])
    return path


def write_json(summary, paths, path):
    """Write summary.json: the method, the files, the counts and every feature's statistics."""
    document = {
        "format": "keras_explain.cli.summarize",
        "version": 1,
        "method": summary.method,
        "kind": summary.kind,
        "count": int(summary.count),
        "files": [os.path.basename(p) for p in paths],
        "map_shape": None if summary.map_shape is None else list(summary.map_shape),
        "classes": summary.classes,
        "features": _feature_rows(summary),
        "per_class": {
            str(c): {"count": int(part.count), "features": _feature_rows(part)}
            for c, part in summary.per_class.items()
        },
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, allow_nan=True)
    return path


def file_stem(name, limit=60):
    """A feature name as part of a file name: runs of other characters than letters, digits, "._-" become "_"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("_")[:limit] or "feature"


def write_plots(items, summary, out, max_features):
    """Write the plots of the summary to `out`; returns their paths."""
    from keras_explain.feature_views import table_view
    from keras_explain.render import global_images, global_plots

    if summary.map_shape is not None:
        path = os.path.join(out, "class_average.png")
        global_images.class_average_plot(items, save=path)
        return [path]
    paths = [os.path.join(out, "summary_bar.png")]
    global_plots.summary_plot(items, kind="bar", max_features=max_features, save=paths[0])
    if summary.kind == "global":
        return paths
    paths.append(os.path.join(out, "summary_beeswarm.png"))
    global_plots.summary_plot(items, kind="beeswarm", max_features=max_features, save=paths[-1])
    top = int(summary.order[0])
    table = table_view(items, "summarize")
    if np.isfinite(table.values[:, top]).any():
        paths.append(os.path.join(out, f"dependence_{file_stem(table.names[top])}.png"))
        global_plots.dependence_plot(items, top, save=paths[-1])
    return paths


def write_page(items, summary, out, max_features):
    """Write summary.html, the tables and plots on one page; returns its path."""
    from keras_explain.render import html

    path = os.path.join(out, "summary.html")
    title = f"{summary.method}: summary of {summary.count} example{'s' if summary.count != 1 else ''}"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(html.summary_page_html(items, title=title, max_features=max_features))
    return path


def run_summarize(args):
    """The `summarize` command; returns the exit status."""
    started = time.perf_counter()
    say = Printer(args.quiet)
    max_features = check_int("--max-features", args.max_features, minimum=1)
    check_results(args.results)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise error("--out", "a folder", f"'{args.out}', which is a file")

    from keras_explain.cli.runtime import import_tensorflow

    import_tensorflow()  # the summaries' checks use it; its log lines stay off stderr
    items = [read_result(path) for path in args.results]
    summary = summarize_results(items, args.results)
    files = f"{len(items)} file{'s' if len(items) != 1 else ''}"
    shape = summary.map_shape
    features = f"{len(summary.order)} features" if shape is None else f"{shape[0]} x {shape[1]} pixels"
    say(f"{PROG}: {summary.method}: {summary.count} example{'s' if summary.count != 1 else ''} from {files}, "
        f"{features}")
    labels = summary.labels
    top = ", ".join(f"{labels[j]} ({summary.mean_abs[j]:.4g})" for j in summary.order[:5])
    say(f"{PROG}: strongest by mean |attribution|: {top}")
    os.makedirs(args.out, exist_ok=True)
    written = [
        write_csv(summary, os.path.join(args.out, "summary.csv")),
        write_json(summary, args.results, os.path.join(args.out, "summary.json")),
    ]
    written += write_plots(items, summary, args.out, max_features)
    written.append(write_page(items, summary, args.out, max_features))
    for path in written:
        say(f"{PROG}: wrote {path}")
    say(f"{PROG}: done in {time.perf_counter() - started:.1f} s")
    return 0
