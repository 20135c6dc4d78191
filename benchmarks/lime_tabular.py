"""Timing benchmark of LimeTabular against lime and the model's own forward passes.

What is measured
----------------
100 rows of scikit-learn's breast_cancer data (30 features), each explained
with 5000 samples (500,000 model rows in all), for MLP classifiers trained on
the data, three ways:

* lower bound: the model's forward pass over 500,000 rows drawn the way LIME
  draws them (our sampler's own rows, generated before timing), through a
  bare `tf.function` traced once before timing, in batches of the batch size
  LimeTabular uses, outputs fetched as numpy. No sampling, no surrogate: the
  work no LIME implementation can skip.
* ours: `kx.LimeTabular(model, x_train, random_state=0).explain(rows)` with
  num_features=10 (the defaults: quartile bins, feature_selection "auto"),
  end to end: validation, sampling, model, surrogate fits and labels. Called
  once before timing (the first call traces).
* sampling: our sampler alone (`NeighbourhoodSampler.draw`: SplitMix64 draws
  and per-bin inverse-CDF tables in one XLA-compiled function, the same
  batches of (row, sample) pairs, inputs prepared before timing), without
  the model or the surrogate. LimeTabular draws exactly
  these samples, so lower bound + sampling is the least an implementation
  producing its results can cost; the gap to ours is the kernel weights,
  the surrogate fits, the batching loop and the labels.
* lime: `lime.lime_tabular.LimeTabularExplainer(x_train)` with
  `explain_instance(row, predict_fn, labels=(target,), num_features=10,
  num_samples=5000)` per row, the same defaults, with two predict functions:
  "compiled" (a `tf.function` of the model, traced once; lime's best case)
  and "model.predict" (Keras' `model.predict(rows, verbose=0)`, what lime's
  documentation and most users pass).

Models: "small" (30 -> 32 relu -> 2 softmax, the parity tests' model) and
"wide" (30 -> 256 relu -> 256 relu -> 2 softmax), each with a Normalization
layer in front and trained for a few epochs (seeded). The small model makes
the forward pass nearly free, so fixed costs (sampling, surrogate) dominate
ours / lower bound and lime / ours is at its largest; the wide one shows a
model whose forward pass dominates.

Targets: ours >= 20x faster than lime end to end, judged against lime as its
users run it (`model.predict`), with the ratio to lime with a compiled
predict function also stated (and its ceiling, lime / lower bound: no
implementation can beat the model's own forward passes); ours within 2.0x
of the lower bound; and drawing the samples cheaper than the forward pass
over them (sampling / lower bound < 1).

The contenders alternate for `--repeats` rounds: each round runs the lower
bound, sampling and ours on all rows (medians reported) and lime, with each predict
function, on a share of the rows, so that every row is explained by lime
once (its total is reported) and load on a shared machine hits all alike. The script also
prints the agreement of ours with lime on the same rows (mean Spearman
correlation of |weights| and top-5 overlap), and lime's agreement with
itself under another seed on the first 20 rows (the noise floor).

How to run
----------
From the repository root:

    .venv/bin/python benchmarks/lime_tabular.py             # full run, 2-4 minutes on 2 cores
    .venv/bin/python benchmarks/lime_tabular.py --quick --no-write   # smoke run

The script prints the versions, the command and a Markdown table, and
(unless `--no-write`) replaces the section
"## LimeTabular (benchmarks/lime_tabular.py)" of benchmarks/RESULTS.md.
"""

import argparse
import os

# common sets the environment defaults, so it comes before Keras and TensorFlow.
from common import (
    add_run_options,
    announce,
    apply_defaults,
    interleaved_rounds,
    optional_import,
    provenance,
    ratio,
    version_of,
    versions,
    write_section,
)

# isort: split

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402

from keras_explain.methods.lime.tabular import LimeTabular  # noqa: E402

lime = optional_import("lime")
if lime is not None:
    from lime.lime_tabular import LimeTabularExplainer

SECTION = "LimeTabular (benchmarks/lime_tabular.py)"
MODELS = {"small": (32,), "wide": (256, 256)}


# -- data and models ------------------------------------------------------------


def load_data(rows):
    """Training data (all 569 rows), labels, and `rows` spread-out rows to explain."""
    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    step = max(1, len(x) // rows)
    return x, data.target, x[::step][:rows], list(data.feature_names)


def train(x, y, hidden, seed=0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((x.shape[1],)), keras.layers.Normalization(mean=x.mean(0), variance=x.var(0))]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    layers.append(keras.layers.Dense(2, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=10, batch_size=64, verbose=0)
    return model


# -- the three contenders ----------------------------------------------------------


def forward_function(model, size):
    return tf.function(
        lambda rows: model(rows, training=False),
        input_signature=[tf.TensorSpec((None, size), tf.float32)],
    )


def lime_samples(explainer, rows, samples):
    """The 500,000 rows LIME would send to the model, from our sampler (not timed)."""
    sampler = explainer._sampler
    stats = explainer.stats
    parts = []
    for i, row in enumerate(rows):
        tiled = np.repeat(row[None], samples, axis=0)
        inputs, _ = sampler(
            tf.constant(tiled),
            tf.constant(stats.row_positions(tiled.astype(np.float64))),
            None,
            tf.fill([samples], i),
            tf.range(samples),
            tf.constant(0, tf.int64),
        )
        parts.append(inputs.numpy())
    return np.concatenate(parts)


def lower_bound(function, inputs, batch_size):
    """The model's forward pass over `inputs` in batches, outputs as numpy."""
    tensor = tf.constant(inputs)

    def run():
        return [
            function(tensor[start : start + batch_size]).numpy()
            for start in range(0, len(inputs), batch_size)
        ]

    return run


def sampling_only(explainer, rows, samples, batch_size):
    """Our sampler alone over all (row, sample) pairs, in the batches LimeTabular uses."""
    sampler = explainer._sampler
    size = rows.shape[1]
    def last_rows(x, positions, pair, sample, seed):
        # The whole batch is drawn; only a row of it is fetched, as the model
        # would consume the rest in place.
        inputs, same, _ = sampler.draw(x, positions, None, pair, sample, seed)
        return inputs[-1], same[-1]

    draw = tf.function(
        last_rows,
        input_signature=[
            tf.TensorSpec((None, size), tf.float32),
            tf.TensorSpec((None, size), tf.int32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((), tf.int64),
        ],
    )
    positions = explainer.stats.row_positions(rows.astype(np.float64))
    seed = tf.constant(0, tf.int64)
    feeds = []
    for start in range(0, len(rows) * samples, batch_size):
        pairs = np.arange(start, min(start + batch_size, len(rows) * samples))
        index = (pairs // samples).astype(np.int32)
        feeds.append(
            (
                tf.constant(rows[index]),
                tf.constant(positions[index]),
                tf.constant(index),
                tf.constant((pairs % samples).astype(np.int32)),
                seed,
            )
        )

    def run():
        return [[part.numpy() for part in draw(*feed)] for feed in feeds]

    return run


def lime_explainer(x, seed=0):
    return LimeTabularExplainer(x.astype(np.float64), random_state=seed)


def lime_weights(explainer, rows, targets, predict, samples, indices):
    """lime's weights for the rows `indices` as (len, F), one `explain_instance` each."""
    weights = np.zeros((len(indices), rows.shape[1]))
    for k, i in enumerate(indices):
        label = int(targets[i])
        explanation = explainer.explain_instance(
            rows[i].astype(np.float64), predict, labels=(label,), num_features=10, num_samples=samples
        )
        for feature, weight in explanation.local_exp[label]:
            weights[k, feature] = weight
    return weights


def agreement(ours, theirs):
    spearman = np.mean([spearmanr(np.abs(a), np.abs(b))[0] for a, b in zip(ours, theirs)])
    top = np.mean(
        [
            len(set(np.argsort(-np.abs(a))[:5]) & set(np.argsort(-np.abs(b))[:5])) / 5
            for a, b in zip(ours, theirs)
        ]
    )
    return float(spearman), float(top)


def measure(name, hidden, x, y, rows, args):
    model = train(x, y, hidden)
    explainer = LimeTabular(
        model, x, num_samples=args.samples, batch_size=args.batch_size, random_state=0, verbose=0
    )
    batch_size = explainer.batch_size_for(tf.constant(rows))
    function = forward_function(model, x.shape[1])
    inputs = lime_samples(explainer, rows, args.samples)
    bound = lower_bound(function, inputs, batch_size)
    sampling = sampling_only(explainer, rows, args.samples, batch_size)

    def compiled(batch):
        return function(batch.astype(np.float32)).numpy().astype(np.float64)

    def keras_predict(batch):
        return model.predict(batch.astype(np.float32), verbose=0).astype(np.float64)

    bound()  # trace
    sampling()  # trace
    targets = explainer.explain(rows).targets  # trace
    compiled(rows[:2]), keras_predict(rows[:2])
    runs = {"lower bound": bound, "sampling": sampling, "ours": lambda: explainer.explain(rows)}
    theirs = np.zeros(rows.shape)
    chunks = np.array_split(np.arange(len(rows)), args.repeats)
    if lime is not None:

        def run_lime(predict, keep):
            def run(peer, chunk):
                weights = lime_weights(peer, rows, targets, predict, args.samples, chunk)
                if keep:
                    theirs[chunk] = weights

            return run

        runs["lime"] = run_lime(compiled, keep=True)
        runs["lime, model.predict"] = run_lime(keras_predict, keep=False)

    def prepare(contender, round_index):
        """lime's explainer (built untimed) and its share of the rows; nothing for the others."""
        return (lime_explainer(x), chunks[round_index]) if contender.startswith("lime") else ()

    # Interleaved rounds: the lower bound, sampling and ours on all rows, lime on a share
    # of the rows (each row once over the rounds), so that load on a shared
    # machine hits every contender alike.
    rounds = interleaved_rounds(runs, args.repeats, prepare=prepare)
    explained = rounds.outputs["ours"]
    median = {key: value for key, value in rounds.medians().items() if not key.startswith("lime")}
    print(f"{name}: batch {batch_size} rows per model call; seconds per round: {rounds.text()}")
    if lime is None:
        return median, batch_size, None
    median["lime"] = sum(rounds.wall["lime"])
    median["lime, model.predict"] = sum(rounds.wall["lime, model.predict"])
    floor_rows = min(20, len(rows))
    floor = np.arange(floor_rows)
    again = lime_weights(lime_explainer(x, seed=1), rows, targets, compiled, args.samples, floor)
    quality = agreement(explained.attributions, theirs) + agreement(again, theirs[:floor_rows])
    quality += (floor_rows,)
    print(
        f"{name}: ours vs lime on {len(rows)} rows: Spearman |w| {quality[0]:.3f}, top-5 {quality[1]:.3f}; "
        f"lime vs lime (seed 1) on {floor_rows} rows: {quality[2]:.3f}, {quality[3]:.3f}"
    )
    return median, batch_size, quality


def markdown_table(results, rows):
    """The table; lime's columns only when lime is installed."""
    per_row = lambda key: lambda m: f"{1000 * m[key] / rows:.1f}"  # noqa: E731
    columns = [
        ("lower bound (s)", lambda m: f"{m['lower bound']:.2f}", False),
        ("sampling (s)", lambda m: f"{m['sampling']:.2f}", False),
        ("ours (s)", lambda m: f"{m['ours']:.2f}", False),
        ("lime, model.predict (s)", lambda m: f"{m['lime, model.predict']:.2f}", True),
        ("lime, compiled predict (s)", lambda m: f"{m['lime']:.2f}", True),
        ("ours / lower bound", lambda m: ratio(m["ours"], m["lower bound"]), False),
        (
            "(lower bound + sampling) / lower bound",
            lambda m: ratio(m["lower bound"] + m["sampling"], m["lower bound"]),
            False,
        ),
        ("lime (model.predict) / ours", lambda m: ratio(m["lime, model.predict"], m["ours"], 1), True),
        ("lime (compiled) / ours", lambda m: ratio(m["lime"], m["ours"], 1), True),
        ("lime (compiled) / lower bound", lambda m: ratio(m["lime"], m["lower bound"], 1), True),
        ("ours per row (ms)", per_row("ours"), False),
        ("lime (model.predict) per row (ms)", per_row("lime, model.predict"), True),
    ]
    columns = [(heading, cell) for heading, cell, peer in columns if lime is not None or not peer]
    lines = [
        "| model | " + " | ".join(heading for heading, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, (median, _, _) in results.items():
        lines.append(f"| {name} | " + " | ".join(cell(median) for _, cell in columns) + " |")
    return "\n".join(lines)


# -- reporting ------------------------------------------------------------------------


def target_lines(results, rows, samples):
    """The targets, each with the ratios measured in this run and met / not met."""
    bound = {name: m["ours"] / m["lower bound"] for name, (m, _, _) in results.items()}
    floor = {
        name: (m["lower bound"] + m["sampling"]) / m["lower bound"]
        for name, (m, _, _) in results.items()
    }
    rest = "; ".join(
        f"{name} {1000 * (m['ours'] - m['lower bound']) / rows:.1f} ms "
        f"(sampling alone {1000 * m['sampling'] / rows:.1f} ms)"
        for name, (m, _, _) in results.items()
    )
    draw = {name: m["sampling"] / m["lower bound"] for name, (m, _, _) in results.items()}
    own = [
        "Target within 2.0x of the lower bound: "
        + ", ".join(
            f"{name} {value:.2f}x {'MET' if value <= 2.0 else 'NOT MET'} "
            f"(drawing the samples alone brings the bound to {floor[name]:.2f}x)"
            for name, value in bound.items()
        )
        + ".",
        "Target sampling cheaper than the forward pass (sampling / lower bound < 1): "
        + ", ".join(f"{name} {value:.2f}x {'MET' if value < 1 else 'NOT MET'}" for name, value in draw.items())
        + ".",
        f"Ours minus the lower bound, per row (sampling, kernel weights, surrogate sums and fits, "
        f"the batching loop, labels): {rest}.",
    ]
    if lime is None:
        return ["lime is not installed: the targets against lime are not measured."] + own
    usual = {name: m["lime, model.predict"] / m["ours"] for name, (m, _, _) in results.items()}
    best = {name: m["lime"] / m["ours"] for name, (m, _, _) in results.items()}
    ceiling = {name: m["lime"] / m["lower bound"] for name, (m, _, _) in results.items()}
    reach = {
        name: m["lime"] / (m["lower bound"] + m["sampling"]) for name, (m, _, _) in results.items()
    }
    return [
        "Target >= 20x faster than lime end to end, against lime as its users run it "
        f"(`explain_instance(row, model.predict, num_samples={samples})` per row): "
        + ", ".join(
            f"{name} {value:.0f}x {'MET' if value >= 20 else 'NOT MET'}" for name, value in usual.items()
        )
        + ".",
        "Against lime with a compiled predict function (its best case): "
        + ", ".join(
            f"{name} {best[name]:.1f}x ({'meets' if best[name] >= 20 else 'below'} 20x; "
            f"ceilings: lime / lower bound {ceiling[name]:.1f}x for any implementation, "
            f"lime / (lower bound + sampling) {reach[name]:.1f}x for one drawing these samples)"
            for name in best
        )
        + ".",
    ] + own


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=None, help="rows explained (default 100)")
    parser.add_argument("--samples", type=int, default=None, help="samples per row (default 5000)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds of ours and lower bound (default 3)")
    parser.add_argument("--batch-size", type=int, default=None, help="LimeTabular batch_size (default: its own)")
    parser.add_argument("--models", default="small,wide", help="comma-separated: small, wide")
    add_run_options(parser, quick="smoke run: 10 rows, 1000 samples, 1 round")
    args = apply_defaults(
        parser.parse_args(argv), {"rows": (10, 100), "samples": (1000, 5000), "repeats": (1, 3)}
    )
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    if any(m not in MODELS for m in args.models):
        parser.error(f"--models: choose from {', '.join(MODELS)}")
    if min(args.rows, args.repeats) < 1 or args.samples < 2:
        parser.error("--rows and --repeats must be >= 1, --samples >= 2")
    return args


def main(argv=None):
    args = parse_args(argv)
    library_versions = versions(("lime", version_of(lime, "lime")))
    command = announce(library_versions)
    x, y, rows, _ = load_data(args.rows)
    print(f"{len(rows)} breast_cancer rows x {args.samples} samples = {len(rows) * args.samples} model rows")
    load_before = os.getloadavg()[0]
    results = {}
    for name in args.models:
        results[name] = measure(name, MODELS[name], x, y, rows, args)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after the run"
    print(f"{load} ({os.cpu_count()} cores)")
    table = markdown_table(results, len(rows))
    readings = target_lines(results, len(rows), args.samples)
    print()
    print(table)
    print()
    for line in readings:
        print(f"- {line}")
    if not args.no_write:
        shapes = "; ".join(
            f"{name}: 30 -> {' -> '.join(str(u) for u in MODELS[name])} -> 2, {batch} rows per model call"
            for name, (_, batch, _) in results.items()
        )
        agree = "; ".join(
            f"{name}: Spearman |w| {q[0]:.2f}, top-5 {q[1]:.2f} "
            f"(lime vs itself, seed 1, first {q[4]} rows: {q[2]:.2f}, {q[3]:.2f})"
            for name, (_, _, q) in results.items()
            if q is not None
        ) or "lime is not installed"
        reading = "\n".join(f"- {line}" for line in readings)
        body = (
            f"{provenance(command, library_versions)}; {load} on {os.cpu_count()} shared cores.\n\n"
            f"{len(rows)} breast_cancer rows x {args.samples} samples ({len(rows) * args.samples} model rows), "
            f"num_features=10, quartile bins; {args.repeats} interleaved round(s): medians for ours, the "
            f"lower bound and sampling, totals over the rounds for lime (each row once). Models ({shapes}). "
            f"Sampling is our sampler alone (the samples LimeTabular draws, no model, no surrogate): "
            f"lower bound + sampling is the least any implementation giving these results can cost.\n\n"
            f"{table}\n\n"
            f"{reading}\n\n"
            f"Agreement of ours with lime on the same rows: {agree}.\n"
        )
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
