"""Timing and memory benchmark of LimeText against lime and the model's own forward passes.

What is measured
----------------
N sentences (20; --quick 5) are explained with S perturbation samples each
(5000, lime's default; --quick 500), N * S perturbed strings in all, by a
small string model: TextVectorization(vocabulary=VOCABULARY,
output_sequence_length=24) -> Embedding(16) -> GlobalAveragePooling1D ->
Dense(2, softmax), trained for 5 epochs (seeded) to say whether a sentence
holds more "positive" words than "negative" ones. The sentences are drawn
with numpy from a fixed word list (no data set is downloaded): 8 to 16
filler words with one to three words of one side and at most one of the
other, lower case, one space between words, so lime's default split
(r"\\W+") and ours ("whitespace") cut them into the same words.

Columns, all on the same sentences, each explaining its predicted class:

* lower bound: the model's forward passes over N * S perturbed strings,
  through a bare `tf.function` of the model (input signature: a (None,)
  string tensor, reshaped to (None, 1) inside; traced before timing), in
  batches of the size LimeText uses (`batch_size_for`), outputs fetched as
  numpy. The strings are built before timing the way LIME builds them (the
  first is the sentence, the others drop 1 to W of its W distinct words,
  count and words uniform), and held as one string tensor per batch. The
  bound holds the model alone: no masks, no string building, no distances,
  no regression.
* strings built + model: the lower bound with the perturbed strings built
  inside the compiled function as LimeText builds them (each text's words
  and separators as a string tensor per pair, the removed words blanked with
  `tf.where`, one `tf.strings.reduce_join`), from masks drawn before timing:
  the least an implementation that assembles the strings in the graph can
  cost. The gap to ours is drawing the masks, the distances and kernel
  weights, the surrogate sums and fits, and the batching loop.
* ours: `kx.LimeText(model, num_samples=S, random_state=0).explain(texts,
  num_features=10)` end to end (num_features=10 is lime's default; ours
  keeps every word by default). Called once before timing (the first call
  traces).
* lime, model.predict: `LimeTextExplainer(random_state=0).explain_instance(
  text, classifier_fn, labels=(target,), num_samples=S)` per sentence with
  `classifier_fn = lambda texts: model.predict(np.array(texts)[:, None],
  verbose=0)`, what a lime user writes for Keras. Keras 3's `predict` refuses
  numpy string arrays ("Invalid dtype: str..."); the script checks this at
  start-up and then uses the closest thing users write,
  `model.predict(tf.constant(texts)[:, None], verbose=0)` (it says which).
  lime sends all S strings of a sentence in one call; `predict` cuts them
  into its default batches of 32.
* lime, direct call: the same with `classifier_fn = lambda texts:
  model(tf.constant(texts)[:, None], training=False).numpy()`, one model call
  of S strings: lime's best case with Keras.

The five contenders alternate for `--repeats` rounds (medians reported, on
wall-clock and process CPU time). The top-5 words by |weight| of ours and
lime (their masks come from different generators) are compared per sentence.
Memory: ours runs once in a fresh process at S and at 4 x S samples, each
reporting its peak resident memory (`common.peak_rss_at_two_sizes`).

Targets: ours / lower bound <= 1.3x; lime / ours >= 10x (judged against
lime with `model.predict`, the ratio to lime with a direct call also given).

How to run
----------
From the repository root:

    .venv/bin/python benchmarks/lime_text.py                    # full run
    .venv/bin/python benchmarks/lime_text.py --quick --no-write # smoke run

Unless `--no-write`, the section "## LimeText (benchmarks/lime_text.py)" of
benchmarks/RESULTS.md is replaced.
"""

import argparse
import os
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

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_explain as kx  # noqa: E402

lime = optional_import("lime")
if lime is not None:
    from lime.lime_text import LimeTextExplainer

SECTION = "LimeText (benchmarks/lime_text.py)"
POSITIVE = "great excellent superb lovely brilliant moving charming delightful".split()
NEGATIVE = "awful boring dull tedious clumsy bland weak messy".split()
FILLER = (
    "the a film movie plot cast story scene actor music long short old new red blue city night day house "
    "road water light dark quiet loud slow fast small big early late script camera ending score"
).split()
VOCABULARY = FILLER + POSITIVE + NEGATIVE
LENGTH, NUM_FEATURES, TOP_K = 24, 10, 5
COLUMNS = ("lower bound", "strings built + model", "ours", "lime, model.predict", "lime, direct call")


# -- data and model --------------------------------------------------------------------


def make_texts(count, seed):
    """`count` sentences and their labels (1: more positive words than negative ones)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(count):
        label = i % 2
        major, minor = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
        words = list(rng.choice(FILLER, size=rng.integers(8, 17)))
        extra = list(rng.choice(major, size=rng.integers(1, 4))) + list(rng.choice(minor, size=rng.integers(0, 2)))
        for word in extra:
            words.insert(int(rng.integers(0, len(words) + 1)), word)
        if sum(w in major for w in words) <= sum(w in minor for w in words):
            words.append(str(rng.choice(major)))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.array(labels)


def train_model(seed=0):
    """The string model, trained for 5 epochs; returns (model, held-out accuracy)."""
    keras.utils.set_random_seed(seed)
    text = keras.Input(shape=(1,), dtype="string")
    ids = keras.layers.TextVectorization(vocabulary=VOCABULARY, output_sequence_length=LENGTH)(text)
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(len(VOCABULARY) + 2, 16)(ids))
    model = keras.Model(text, keras.layers.Dense(2, activation="softmax")(pooled))
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    texts, labels = make_texts(2000, seed=1)
    model.fit(tf.constant(texts)[:, None], labels, epochs=5, batch_size=64, verbose=0)
    test, test_labels = make_texts(400, seed=2)
    predicted = np.argmax(model(tf.constant(test)[:, None], training=False).numpy(), axis=1)
    return model, float(np.mean(predicted == test_labels))


# -- the contenders --------------------------------------------------------------------


def lime_keeps(count, samples, rng):
    """(S, count) bool: LIME's text masks, the first all kept, then 1..count of the words removed."""
    removed = rng.integers(1, count + 1, samples)
    ranks = np.argsort(np.argsort(rng.random((samples, count)), axis=1), axis=1)
    keep = ranks >= removed[:, None]
    keep[0] = True
    return keep


def perturbed_strings(texts, samples, seed=0):
    """N * S strings drawn as LIME draws them: the text, then 1..W of its W distinct words removed."""
    rng = np.random.default_rng(seed)
    out = []
    for text in texts:
        words = text.split()
        distinct = list(dict.fromkeys(words))
        position = np.array([distinct.index(w) for w in words])
        keep = lime_keeps(len(distinct), samples, rng)
        out += [" ".join(w for w, k in zip(words, row[position]) if k) for row in keep]
    return out


def string_floor(model, texts, samples, batch_size, seed=0):
    """The lower bound with the perturbed strings built in the graph as LimeText builds them.

    Per pair, the text's pieces (words and separators), each piece's word
    and the keep mask are prepared before timing (masks from `lime_keeps`);
    the timed function gathers the mask per piece, blanks the removed words,
    joins the pieces with `tf.strings.reduce_join` and calls the model.
    """
    rng = np.random.default_rng(seed)
    width = 2 * max(len(t.split()) for t in texts)
    most = max(len(set(t.split())) for t in texts)
    pieces, owners, keeps = [], [], []
    for text in texts:
        words = text.split()
        distinct = list(dict.fromkeys(words))
        row, owner = np.full(width, "", dtype=object), np.full(width, -1, np.int32)
        row[0 : 2 * len(words) : 2] = words
        row[1 : 2 * len(words) - 1 : 2] = " "
        owner[0 : 2 * len(words) : 2] = [distinct.index(w) for w in words]
        keep = np.zeros((samples, most), np.float32)
        keep[:, : len(distinct)] = lime_keeps(len(distinct), samples, rng)
        pieces.append(np.repeat(row[None], samples, axis=0))
        owners.append(np.repeat(owner[None], samples, axis=0))
        keeps.append(keep)
    pieces, owners, keeps = np.concatenate(pieces).astype(str), np.concatenate(owners), np.concatenate(keeps)

    def build_and_call(piece, owner, keep):
        kept = (tf.gather(keep, tf.maximum(owner, 0), batch_dims=1) > 0.5) | (owner < 0)
        texts = tf.strings.reduce_join(tf.where(kept, piece, ""), axis=1)
        return model(tf.reshape(texts, [-1, 1]), training=False)

    signature = [tf.TensorSpec((None, width), tf.string), tf.TensorSpec((None, width), tf.int32),
                 tf.TensorSpec((None, most), tf.float32)]
    forward = tf.function(build_and_call, input_signature=signature)
    batches = [
        (tf.constant(pieces[k : k + batch_size]), tf.constant(owners[k : k + batch_size]),
         tf.constant(keeps[k : k + batch_size]))
        for k in range(0, len(pieces), batch_size)
    ]

    def run():
        return [forward(*batch).numpy() for batch in batches]

    return run


def lower_bound(model, strings, batch_size):
    """The model's forward passes over `strings` in batches (pre-built string tensors)."""
    forward = tf.function(
        lambda batch: model(tf.reshape(batch, [-1, 1]), training=False),
        input_signature=[tf.TensorSpec((None,), tf.string)],
    )
    batches = [tf.constant(strings[k : k + batch_size]) for k in range(0, len(strings), batch_size)]

    def run():
        return [forward(batch).numpy() for batch in batches]

    return run


def predict_classifier(model):
    """(description, classifier_fn) with `model.predict`, as lime users write it for Keras."""
    try:
        model.predict(np.array(["a film"])[:, None], verbose=0)
    except ValueError as problem:
        note = (
            f"model.predict refuses numpy string arrays ({str(problem).splitlines()[0][:60]}); "
            "lime's classifier_fn is `model.predict(tf.constant(texts)[:, None], verbose=0)`"
        )
        return note, lambda texts: model.predict(tf.constant(texts)[:, None], verbose=0)
    note = "lime's classifier_fn is `model.predict(np.array(texts)[:, None], verbose=0)`"
    return note, lambda texts: model.predict(np.array(texts)[:, None], verbose=0)


def direct_classifier(model):
    return lambda texts: model(tf.constant(texts)[:, None], training=False).numpy()


def lime_run(texts, targets, classifier, samples, width):
    """lime's weights (N, width), word j of each text in order of first appearance."""

    def run():
        explainer = LimeTextExplainer(random_state=0)
        weights = np.zeros((len(texts), width))
        for i, (text, target) in enumerate(zip(texts, targets)):
            found = explainer.explain_instance(
                text, classifier, labels=(int(target),), num_features=NUM_FEATURES, num_samples=samples
            )
            for feature, weight in found.local_exp[int(target)]:
                weights[i, feature] = weight
        return weights

    return run


def top_overlap(ours, theirs):
    """Mean share of the top-k words by |weight| that two (N, W) weight arrays share."""
    shares = []
    for a, b in zip(ours, theirs):
        k = min(TOP_K, int(np.count_nonzero(a)), int(np.count_nonzero(b)))
        top = lambda w: set(np.argsort(-np.abs(w), kind="stable")[:k])  # noqa: E731
        shares.append(len(top(a) & top(b)) / k if k else 1.0)
    return float(np.mean(shares))


def measure(model, texts, args):
    """Interleaved rounds of the contenders: (rounds, batch size, notes)."""
    explainer = kx.LimeText(model, num_samples=args.samples, random_state=0, verbose=0)
    batch_size = explainer.batch_size_for(tf.constant(texts))
    bound = lower_bound(model, perturbed_strings(texts, args.samples), batch_size)
    first = explainer.explain(texts, num_features=NUM_FEATURES)  # traces
    bound()  # traces
    floor = string_floor(model, texts, args.samples, batch_size)
    floor()  # traces
    runs = {"lower bound": bound, "strings built + model": floor,
            "ours": lambda: explainer.explain(texts, num_features=NUM_FEATURES)}
    notes = [f"ours sends {batch_size} strings per model call; so does the lower bound"]
    if lime is not None:
        note, predict = predict_classifier(model)
        notes.append(note)
        width = first.attributions.shape[1]
        runs["lime, model.predict"] = lime_run(texts, first.targets, predict, args.samples, width)
        runs["lime, direct call"] = lime_run(texts, first.targets, direct_classifier(model), args.samples, width)
        direct_classifier(model)(texts[:2])  # traces the direct call

    def progress(index, rounds):
        print(f"round {index + 1}/{args.repeats}: {rounds.text(digits=3)}", flush=True)

    rounds = interleaved_rounds(runs, args.repeats, after_round=progress)
    if lime is not None:
        ours = rounds.outputs["ours"].attributions
        overlap = top_overlap(ours, rounds.outputs["lime, direct call"])
        notes.append(f"top-{TOP_K} words by |weight|, ours vs lime (own masks each): {overlap:.2f} shared on average")
    return rounds, batch_size, notes


# -- memory, in fresh subprocesses ---------------------------------------------------------


def memory_child(samples, count):
    """Body of the `--measure-memory` subprocess: explain once, print the peak RSS."""
    model, _ = train_model()
    texts, _ = make_texts(count, seed=3)
    kx.LimeText(model, num_samples=samples, random_state=0, verbose=0).explain(texts, num_features=NUM_FEATURES)
    report_peak_rss()


def measure_memory(samples, count):
    sizes = (samples, 4 * samples)
    small, large = peak_rss_at_two_sizes(Path(__file__).resolve(), "--measure-memory", sizes, ["--texts", count])
    return (
        f"memory: peak RSS of ours {small:.0f} MB at {sizes[0]} samples, {large:.0f} MB at {sizes[1]} samples "
        f"per text ({count} texts, fresh processes, model training included): difference {large - small:+.0f} MB"
    )


# -- reporting -----------------------------------------------------------------------------


def markdown_table(medians, unit):
    """One row: each contender's median seconds and the ratios."""
    present = [c for c in COLUMNS if c in medians]
    ours = medians["ours"]
    ratios = {
        "ours / lower bound": ratio(ours, medians["lower bound"]),
        "(strings built + model) / lower bound": ratio(medians["strings built + model"], medians["lower bound"]),
    }
    for peer in present[3:]:
        ratios[f"{peer} / ours"] = ratio(medians[peer], ours, 1)
    if "lime, direct call" in medians:
        ratios["lime, direct call / lower bound"] = ratio(medians["lime, direct call"], medians["lower bound"], 1)
    headings = [f"{c} ({unit})" for c in present] + list(ratios)
    cells = [f"{medians[c]:.3f}" for c in present] + list(ratios.values())
    return "\n".join(
        ["| " + " | ".join(headings) + " |", "|" + "---:|" * len(headings), "| " + " | ".join(cells) + " |"]
    )


def target_lines(medians, clock):
    bound = medians["ours"] / medians["lower bound"]
    floor = medians["strings built + model"] / medians["lower bound"]
    lines = [
        f"{clock}: ours / lower bound = {bound:.2f}x, target <= 1.3x: {'MET' if bound <= 1.3 else 'NOT MET'} "
        f"(building the perturbed strings in the graph alone brings the bound to {floor:.2f}x; ours / that = "
        f"{medians['ours'] / medians['strings built + model']:.2f}x)"
    ]
    if lime is None:
        return lines + [f"{clock}: lime is not installed, so the targets against lime are not measured"]
    usual = medians["lime, model.predict"] / medians["ours"]
    direct = medians["lime, direct call"] / medians["ours"]
    ceiling = medians["lime, direct call"] / medians["lower bound"]
    lines.append(
        f"{clock}: lime (model.predict) / ours = {usual:.1f}x, target >= 10x: {'MET' if usual >= 10 else 'NOT MET'}; "
        f"lime (direct call) / ours = {direct:.1f}x (lime (direct call) / lower bound = {ceiling:.1f}x is the most "
        f"any implementation could reach there)"
    )
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=None, help="sentences explained (default 20)")
    parser.add_argument("--samples", type=int, default=None, help="samples per sentence (default 5000)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3)")
    add_run_options(parser, quick="smoke run: 5 sentences, 500 samples, 1 round")
    parser.add_argument("--measure-memory", type=int, default=None, help=argparse.SUPPRESS)
    args = apply_defaults(parser.parse_args(argv), {"texts": (5, 20), "samples": (500, 5000), "repeats": (1, 3)})
    if min(args.texts, args.repeats) < 1 or args.samples < 2:
        parser.error("--texts and --repeats must be >= 1, --samples >= 2")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.measure_memory is not None:
        memory_child(args.measure_memory, args.texts)
        return
    library_versions = versions(("lime", version_of(lime, "lime")))
    command = announce(library_versions)
    load_before = os.getloadavg()[0]
    model, accuracy = train_model()
    texts, _ = make_texts(args.texts, seed=3)
    words = [len(set(t.split())) for t in texts]
    setup = (
        f"{len(texts)} sentences ({min(words)} to {max(words)} distinct words) x {args.samples} samples = "
        f"{len(texts) * args.samples} perturbed strings; model accuracy on 400 held-out sentences {accuracy:.3f}"
    )
    print(setup)
    rounds, batch_size, notes = measure(model, texts, args)
    for note in notes:
        print(note)
    tables = {clock: markdown_table(rounds.medians(clock), unit) for clock, unit in (("wall", "s"), ("cpu", "CPU s"))}
    targets = target_lines(rounds.medians(), "wall-clock") + target_lines(rounds.medians("cpu"), "CPU time")
    memory = measure_memory(args.samples, args.texts)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after the run on {os.cpu_count()} cores"
    print(f"\n{tables['wall']}\n\nProcess CPU seconds (all threads):\n\n{tables['cpu']}\n")
    for line in targets + [memory, load]:
        print(f"- {line}")
    if not args.no_write:
        lines = [setup] + notes + targets + [memory, load]
        body = (
            f"{provenance(command, library_versions)}.\n\n"
            f"Medians of {args.repeats} interleaved round(s); each sentence explains its predicted class; "
            f"num_features=10 (lime's default) for both. The lower bound is the model alone over the same number "
            f"of perturbed strings, built before timing, in ours' batches ({batch_size} strings per call).\n\n"
            f"{tables['wall']}\n\nThe same rounds in process CPU seconds (all threads):\n\n{tables['cpu']}\n\n"
            + "\n".join(f"- {line}." for line in lines)
            + "\n"
        )
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
