"""The `evaluate` command: explain inputs of a saved model, score the explanation, report.

```sh
keras-explain evaluate digits.keras three.png seven.png --method saliency \\
    --metrics deletion,insertion,mufidelity --metric-option steps=20 --out scores
```

It reads and explains the inputs exactly as `explain` does (the same
options), scores the explanation with `kx.metrics` (the metrics' seeds are
`--seed`), prints a table (a row per input, a column per metric, the means
last) and writes `METHOD-metrics.json` to `--out`, plus the files of
`--format` (default: the `.npz` explanation, its `metric_scores` inside;
`html` shows the scores on every card).
"""

import json
import os
import time

from keras_explain.cli.checks import parse_options
from keras_explain.cli.explain import explain_files, report_warnings
from keras_explain.cli.outputs import write_outputs
from keras_explain.cli.usage import FORMATS, PROG, Printer
from keras_explain.io.messages import error

DEFAULT_FORMATS = "npz"

#: `--format` of `evaluate`, in place of `explain`'s.
FORMAT_ARGUMENT = (
    ("--format",),
    dict(
        default=DEFAULT_FORMATS,
        metavar="LIST",
        help=f"comma-separated files to write besides METHOD-metrics.json, from {', '.join(FORMATS)} "
        f"(default: {DEFAULT_FORMATS})",
    ),
)

#: The arguments `evaluate` adds to those of `explain`: (names, keywords).
METRIC_ARGUMENTS = (
    (
        ("--metrics",),
        dict(
            required=True,
            metavar="LIST",
            help="comma-separated metrics: deletion, insertion, mufidelity, faithfulness_correlation, "
            "infidelity, max_sensitivity, randomization",
        ),
    ),
    (
        ("--metric-option",),
        dict(
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="an option of the metrics, repeatable, given to every metric that takes it "
            "(--metric-option steps=20 --metric-option baseline=\"'mean'\")",
        ),
    ),
)

EVALUATE_EPILOG = (
    "examples:\n"
    "  keras-explain evaluate digits.keras three.png --method saliency --metrics deletion,insertion\n"
    "  keras-explain evaluate cnn.keras batch.npy --method integrated_gradients "
    "--metrics mufidelity --metric-option nb_samples=64\n"
    "\n"
    "files written to --out:\n"
    "  METHOD-metrics.json  every input's score per metric, the means and the metrics' settings\n"
    "  and the files of --format, as explain writes them (default: METHOD.npz, scores inside)\n"
    "\n"
    "exit status: 0 success, 2 bad usage or input (one line on stderr), 1 unexpected failure"
)


def parse_metrics(text):
    """The metric names of a comma-separated `--metrics`, each once."""
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise error("--metrics", "a comma-separated list of metric names", f"{text!r}")
    return names


def run_evaluate(args):
    """The `evaluate` command; returns the exit status."""
    started = time.perf_counter()
    say = Printer(args.quiet)
    names = parse_metrics(args.metrics)
    metric_options = parse_options(args.metric_option)
    defaults = {"random_state": args.seed, "batch_size": args.batch_size}
    run = explain_files(args, say, False, lambda: resolve_metrics(names, defaults, metric_options))
    explanation, metrics = run.explanation, run.prepared
    report_warnings(run.warnings)
    from keras_explain.metrics import evaluation
    from keras_explain.render import scores

    start = time.perf_counter()
    results = evaluation.evaluate(explanation, metrics)
    say(f"{PROG}: {', '.join(results)} scored in {time.perf_counter() - start:.2f} s")
    table = scores.score_table(explanation)
    say(scores.table_text(table))
    written = [write_metrics_json(explanation, metrics, table, args.out)]
    written += write_outputs(explanation, args, run.formats, run.class_names, run.model_path, False)
    for path in written:
        say(f"{PROG}: wrote {path}")
    say(f"{PROG}: done in {time.perf_counter() - started:.1f} s")
    return 0


def resolve_metrics(names, defaults, options):
    """The metrics named by `--metrics`, with `--metric-option`; errors name the flags."""
    from keras_explain.metrics import evaluation

    try:
        return evaluation.resolve_metrics(names, defaults=defaults, **options)
    except ValueError as failure:
        text = str(failure)
        for name, flag in (("metrics:", "--metrics:"), ("options:", "--metric-option:")):
            text = f"{flag}{text[len(name):]}" if text.startswith(name) else text
        raise ValueError(text) from None


def write_metrics_json(explanation, metrics, table, folder):
    """Write `METHOD-metrics.json`: the scores per input and metric, the means and the settings."""
    from keras_explain.explanation import jsonable

    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{explanation.method}-metrics.json")
    settings = {metric.name: jsonable(metric.get_config()) for metric in metrics}
    for entry in table["metrics"]:
        entry["config"] = settings.get(entry["name"])
    summary = {
        "format": "keras_explain.cli.metrics",
        "version": 1,
        "method": explanation.method,
        "config": explanation.config,
        "model": explanation.extras.get("model_file"),
        "targets": [int(t) for t in explanation.targets],
        **table,
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(jsonable(summary), handle, indent=1, allow_nan=True)
    return path
