"""Timing and memory of the global views: summary, beeswarm and dependence plots over many rows.

What is measured
----------------
An explanation of `--rows` (10,000) rows x `--features` (30) features: the
exact SHAP values of a linear model, (x - mean(x)) * w, with standard normal
rows and seeded weights, built directly (no model runs: the global views
only read attributions and inputs). Per round, each of these is timed, the
figures drawn to PNG in memory (matplotlib draws lazily, so a figure that is
not drawn costs nothing yet):

* summary: `kx.summarize(e, keep=False)` (per-feature statistics, no plot);
* beeswarm: `kx.viz.summary_plot(e)`, 20 features, the default max_points
  (5,000 rows drawn, a seeded choice), and with max_points=None (every row);
* dependence: `kx.viz.dependence_plot(e, "x0")` with color_by="auto" (the
  interaction search over every other feature included);
* lower bound: one matplotlib scatter of as many points as our beeswarm
  draws (20 x 5,000), to PNG: drawing those points is the work no beeswarm
  can skip;
* shap (peer, when installed): `shap.summary_plot(values, x, show=False)`
  (20 features, every row) and `shap.dependence_plot(0, values, x,
  show=False)` (its own approximate_interactions), drawn the same way.

Contenders alternate for `--repeats` rounds (3) after one untimed call each;
the table gives wall-clock medians. Memory: the peak RSS of a fresh process
that builds the explanation and draws the summary, beeswarm and dependence
plots once, at 1,000 and 10,000 rows (`--memory-sizes`): the beeswarm's
subsampling keeps the figure's size bounded.

How to run
----------
From the repository root:

    .venv/bin/python benchmarks/global_views.py                      # full run, about a minute
    .venv/bin/python benchmarks/global_views.py --quick --no-write   # smoke run

The script prints the versions, the command, the seconds of every round and
a Markdown table, and (unless `--no-write`) replaces the section
"## Global views" of benchmarks/RESULTS.md.
"""

import argparse
import io
from pathlib import Path

# common sets the environment defaults, so it comes before Keras and TensorFlow.
from common import (
    add_run_options,
    announce,
    apply_defaults,
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

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import keras_explain as kx  # noqa: E402

shap = optional_import("shap")

SECTION = "Global views (benchmarks/global_views.py)"
SHOWN = 20
#: The most seconds a global view may take on 10,000 rows (the issue: "under a few seconds").
TARGET_SECONDS = 3.0


def linear_explanation(rows, features, seed=0):
    """The exact SHAP values of a seeded linear model on standard normal rows, as an Explanation."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    weights = rng.normal(size=features) * np.linspace(2.0, 0.1, features)
    values = (x - x.mean(axis=0)) * weights
    outputs = (x @ weights)[:, None]
    expected = np.full(rows, outputs.mean())
    names = [f"x{j}" for j in range(features)]
    return kx.Explanation(values, x, np.zeros(rows, np.int64), outputs, "kernel_shap", feature_names=names,
                          expected_value=expected)


def png(figure):
    """Draw a figure to PNG in memory; returns the byte count."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.tell()


def scatter_bound(points, seed=1):
    """One scatter of `points` points (colours by value) drawn to PNG: the floor of a beeswarm."""
    rng = np.random.default_rng(seed)
    x, y, c = rng.normal(size=points), rng.uniform(0, SHOWN, size=points), rng.uniform(size=points)

    def draw():
        figure = Figure(figsize=(7.0, 7.3))
        figure.add_subplot().scatter(x, y, c=c, s=9, linewidths=0, rasterized=True)
        return png(figure)

    return draw


def pyplot_png(draw):
    """Run a shap plotting call (pyplot, show=False), draw its current figure to PNG, close it."""
    import matplotlib.pyplot as plt

    def run():
        draw()
        size = png(plt.gcf())
        plt.close("all")
        return size

    return run


def contenders(e):
    """{name: callable} of the timed calls on explanation `e`."""
    runs = {
        "summary": lambda: kx.summarize(e, keep=False),
        "beeswarm": lambda: png(kx.viz.summary_plot(e, max_features=SHOWN)),
        "beeswarm, every row": lambda: png(kx.viz.summary_plot(e, max_features=SHOWN, max_points=None)),
        "dependence": lambda: png(kx.viz.dependence_plot(e, "x0")),
        "scatter lower bound": scatter_bound(SHOWN * min(len(e), 5000)),
    }
    if shap is not None:
        values, x = e.attributions, e.inputs
        runs["shap beeswarm"] = pyplot_png(lambda: shap.summary_plot(values, x, max_display=SHOWN, show=False))
        runs["shap dependence"] = pyplot_png(lambda: shap.dependence_plot(0, values, x, show=False))
    return runs


def memory_child(rows, features):
    """Body of the `--measure-memory` subprocess: the three global views once, then the peak RSS."""
    e = linear_explanation(rows, features)
    kx.summarize(e, keep=False)
    png(kx.viz.summary_plot(e, max_features=SHOWN))
    png(kx.viz.dependence_plot(e, "x0"))
    report_peak_rss()


def markdown_table(rows, features, median):
    names = ["summary", "beeswarm", "beeswarm, every row", "dependence", "scatter lower bound"]
    peers = [n for n in ("shap beeswarm", "shap dependence") if n in median]
    head = "| rows x features | " + " | ".join(f"{n} (s)" for n in names + peers)
    head += " | beeswarm / lower bound | shap beeswarm / ours (every row) | shap dependence / ours |"
    line = f"| {rows:,} x {features} | " + " | ".join(f"{median[n]:.3f}" for n in names + peers)
    line += f" | {ratio(median['beeswarm'], median['scatter lower bound'])}"
    line += f" | {ratio(median.get('shap beeswarm'), median['beeswarm, every row'])}"
    line += f" | {ratio(median.get('shap dependence'), median['dependence'])} |"
    return "\n".join([head, "|---|" + "---:|" * (len(names) + len(peers) + 3), line])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=None, help="rows explained (default 10,000)")
    parser.add_argument("--features", type=int, default=30, help="features per row (default 30)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 3)")
    parser.add_argument("--memory-sizes", type=int, nargs=2, default=None,
                        help="the two row counts of the memory runs (default 1000 10000)")
    add_run_options(parser, quick="smoke run: 1,000 rows, 1 round, memory at 200 and 1,000 rows")
    parser.add_argument("--measure-memory", type=int, default=None, help=argparse.SUPPRESS)
    args = apply_defaults(parser.parse_args(argv), {
        "rows": (1000, 10_000), "repeats": (1, 3), "memory_sizes": ([200, 1000], [1000, 10_000]),
    })
    if min(args.rows, args.features, args.repeats) < 1 or args.features < 2:
        parser.error("--rows and --repeats must be >= 1, --features >= 2")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.measure_memory is not None:
        memory_child(args.measure_memory, args.features)
        return
    library_versions = versions(("matplotlib", matplotlib.__version__), ("shap", version_of(shap)))
    command = announce(library_versions)
    e = linear_explanation(args.rows, args.features)
    runs = contenders(e)
    rounds = interleaved_rounds(runs, args.repeats, warmups=dict(runs))
    print(f"seconds per round: {rounds.text(digits=3)}")
    median = rounds.medians()
    table = markdown_table(args.rows, args.features, median)
    print()
    print(table)
    views = ("summary", "beeswarm", "dependence")
    slowest = max(median[n] for n in views)
    target = (
        f"the slowest of summary, beeswarm and dependence takes {slowest:.2f} s on {args.rows:,} rows "
        f"(target under {TARGET_SECONDS:g} s: {'MET' if slowest < TARGET_SECONDS else 'MISSED'})"
    )
    print(target)
    small, large = args.memory_sizes
    low, high = peak_rss_at_two_sizes(Path(__file__).resolve(), "--measure-memory", (small, large),
                                      ["--features", args.features])
    memory = (
        f"peak RSS of summary + beeswarm + dependence in a fresh process: {low:.0f} MB at {small:,} rows, "
        f"{high:.0f} MB at {large:,} rows (difference {high - low:+.0f} MB)"
    )
    print(memory)
    if not args.no_write:
        body = "\n".join([
            f"{provenance(command, library_versions)}.",
            "",
            f"Exact linear SHAP values of {args.rows:,} rows x {args.features} features, {SHOWN} features "
            f"drawn, figures drawn to PNG, medians of {args.repeats} interleaved rounds. The beeswarm "
            "draws a seeded choice of 5,000 rows by default (the title says so); shap draws every row.",
            "",
            table,
            "",
            f"- {target}.",
            f"- {memory}.",
        ])
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
