"""Small text classifiers the demo trains itself, explained with LimeText and with gradients over token ids.

Part of `make demo` (examples/demo.py calls `explain_texts`). The texts are
made here: random words from a short vocabulary, and the label says whether
the word "excellent" occurs; the model takes raw strings (TextVectorization
inside), so LimeText removes words from the strings themselves.
"""

import os

import keras
import numpy as np
import tensorflow as tf

import keras_explain as kx
from keras_explain.cli import main as keras_explain_command

WORDS = "the a film plot cast music story long slow fine quiet night".split()
KEYWORD = "excellent"


def texts_and_labels(count=400, seed=0):
    """`count` texts of 8 random words; odd ones end with the keyword (label 1)."""
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, 8)) + (f" {KEYWORD}" if i % 2 else "") for i in range(count)]
    return texts, np.arange(count) % 2


def train(seed=0):
    """A bag-of-words classifier of raw strings, trained in about a second."""
    texts, labels = texts_and_labels(seed=seed)
    keras.utils.set_random_seed(seed)
    raw = keras.Input(shape=(1,), dtype="string")
    bag = keras.layers.TextVectorization(vocabulary=WORDS + [KEYWORD], output_mode="multi_hot")(raw)
    model = keras.Model(raw, keras.layers.Dense(2, activation="softmax")(bag))
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    model.fit(tf.constant(texts)[:, None], labels, epochs=30, batch_size=64, verbose=0)
    return model, texts


def explain_texts(out, seed=0):
    """LimeText of four texts: writes lime_text.html, lime_text_tokens.png and a report.

    Returns:
        (the index page's rows, the Explanation).
    """
    model, texts = train(seed)
    e = kx.LimeText(model, num_samples=2000, random_state=seed, verbose=0).explain(texts[:4])
    top = e.as_list(1)[:3]
    print("  LimeText, text 1 (with the keyword): " + ", ".join(f"{w} {v:+.3f}" for w, v in top))
    with open(os.path.join(out, "lime_text.html"), "w", encoding="utf-8") as handle:
        handle.write(kx.viz.text_html(e))
    png = "lime_text_tokens.png"
    kx.viz.text_plot(e, 1, top_k=5, save=os.path.join(out, png))
    kx.report.write_html(e, os.path.join(out, "lime_text_report.html"), title="LimeText on a keyword classifier")
    # As many samples as each text needs: its top 5 words stable, errors within 5 % of the largest weight.
    auto = kx.LimeText(model, num_samples="auto", random_state=seed, verbose=0).explain(texts[:4])
    print(f"  LimeText num_samples='auto': samples per text {auto.samples_used.tolist()}, text 1's top word "
          f"{auto.as_list(1)[0][0]}")
    line = f"LimeText of a text model taking strings; text 1's top word: {top[0][0]} ({top[0][1]:+.3f})"
    return [{"title": "text: lime_text", "png": png, "summary": line}], e


def explain_token_ids(out, seed=0):
    """Integrated Gradients and gradient x input on a Conv1D model of token ids (an Embedding first).

    Writes token_ids_ig.html and token_ids_ig.png.

    Returns:
        (the index page's rows, the Explanation).
    """
    texts, labels = texts_and_labels(seed=seed)
    vocabulary = ["[pad]", "[unk]"] + WORDS + [KEYWORD]
    vectorize = keras.layers.TextVectorization(vocabulary=WORDS + [KEYWORD], output_sequence_length=10)
    ids = vectorize(np.array(texts)).numpy().astype("int32")  # (N, 10), 0 = padding
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((10,), dtype="int32")
    h = keras.layers.Embedding(len(vocabulary), 8)(inputs)
    h = keras.layers.Conv1D(8, 3, padding="same", activation="tanh")(h)  # word triples
    h = keras.layers.Dense(8, activation="tanh")(keras.layers.GlobalMaxPooling1D()(h))
    model = keras.Model(inputs, keras.layers.Dense(2)(h))
    model.compile(keras.optimizers.Adam(0.02), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(ids, labels, epochs=40, batch_size=64, verbose=0)
    e = kx.IntegratedGradients(model, steps="auto", rule="gauss_legendre", baseline_token=0, verbose=0).explain(
        ids[:4], targets=1
    )
    times = kx.GradientSaliency(model, multiply_by_inputs=True, verbose=0).explain(ids[:4], targets=1)
    top = [vocabulary[ids[1, t]] for t in (e.attributions[1].argmax(), times.attributions[1].argmax())]
    print(f"  token ids, text 1: top token {top[0]} (IG), {top[1]} (gradient x input); "
          f"largest completeness gap {np.abs(e.completeness_gap).max():.1e}")
    with open(os.path.join(out, "token_ids_ig.html"), "w", encoding="utf-8") as handle:
        handle.write(kx.viz.text_html(e, vocabulary=vocabulary))
    kx.viz.text_plot(e, 1, top_k=5, vocabulary=vocabulary, save=os.path.join(out, "token_ids_ig.png"))
    # The same model from the command line, on a .npy file of ids.
    model.save(os.path.join(out, "token_ids.keras"))
    np.save(os.path.join(out, "token_ids.npy"), ids[:4])
    status = keras_explain_command([
        "explain", os.path.join(out, "token_ids.keras"), os.path.join(out, "token_ids.npy"),
        "--method", "integrated_gradients", "--option", "rule='gauss_legendre'", "--option", "steps=64",
        "--out", os.path.join(out, "token_ids_cli"), "-q",
    ])
    if status:
        raise SystemExit(f"keras-explain explain on token ids failed with status {status}")
    line = f"Integrated Gradients over token ids (Embedding output); text 1's top token: {top[0]}"
    return [{"title": "text: token ids, integrated gradients", "png": "token_ids_ig.png", "summary": line}], e
