"""Explanation.evaluate, the scores in files, reports and the training callback, and bad input."""

import os

import numpy as np
import pytest
from test_callbacks import X, Y, make_model, read_events, scalar

import keras_explain as kx
from keras_explain import metrics
from keras_explain.callbacks import ExplanationLogger
from keras_explain.render import card, scores

NAMES = ["deletion", "insertion", "mufidelity", "faithfulness_correlation", "infidelity", "max_sensitivity",
         "randomization"]


@pytest.fixture()
def explained(small_cnn, images):
    return kx.GradientSaliency(small_cnn).explain(images)


def test_evaluate_stores_scores_that_equal_the_metric_calls(explained, small_cnn, images):
    results = explained.evaluate(["deletion", "mufidelity"], steps=4, nb_samples=10, random_state=2)
    assert list(results) == ["deletion", "mufidelity"]
    direct = metrics.MuFidelity(nb_samples=10, random_state=2)(small_cnn, images, explained.attributions)
    np.testing.assert_array_equal(explained.metric_scores["mufidelity"], direct.scores)
    deletion = metrics.Deletion(steps=4)(small_cnn, images, explained)
    np.testing.assert_array_equal(explained.metric_scores["deletion"], deletion.scores)
    # A later call merges its scores with the earlier ones.
    explained.evaluate(metrics.Insertion(steps=3))
    assert sorted(explained.metric_scores) == ["deletion", "insertion", "mufidelity"]


def test_scores_are_saved_loaded_and_shown(explained, small_cnn, tmp_path):
    explained.evaluate(["deletion", "insertion"], steps=3)
    loaded = kx.Explanation.load(explained.save(tmp_path / "scored.npz"))
    for name in ("deletion", "insertion"):
        np.testing.assert_array_equal(loaded.metric_scores[name], explained.metric_scores[name])
    with pytest.raises(ValueError) as error:
        loaded.evaluate("deletion")
    assert str(error.value) == (
        "model: expected the explained model (the explanation has no explainer: it was loaded from a file), "
        "received None."
    )
    # After load the explainer is rebuilt from the explanation's method and config.
    loaded.evaluate(["max_sensitivity"], model=small_cnn, nb_samples=2, random_state=0)
    assert sorted(loaded.metric_scores) == ["deletion", "insertion", "max_sensitivity"]
    checks = card.example_checks(loaded, 1)
    assert checks["metric:deletion"] == loaded.metric_scores["deletion"][1]
    assert card.SCALAR_PARTS["metric:deletion"] == "deletion AUC (lower is better)"
    assert card.example_summary(loaded, 1)["metrics"] == {
        name: float(loaded.metric_scores[name][1]) for name in ("deletion", "insertion", "max_sensitivity")
    }
    path = kx.report.write_html([loaded], tmp_path / "report.html")
    html = open(path, encoding="utf-8").read()
    shown = card.format_number(loaded.metric_scores["insertion"][0])
    assert f'insertion AUC (higher is better)</td><td class="num">{shown}</td>' in html


def test_the_score_table(explained):
    explained.evaluate(["deletion", "mufidelity"], steps=2, nb_samples=4, random_state=0)
    table = scores.score_table(explained)
    assert [m["name"] for m in table["metrics"]] == ["deletion", "mufidelity"]
    assert table["metrics"][0]["mean"] == pytest.approx(explained.metric_scores["deletion"].mean())
    assert table["rows"][2] == {
        "input": "#2",
        "scores": {n: float(explained.metric_scores[n][2]) for n in ("deletion", "mufidelity")},
    }
    lines = scores.table_text(table).splitlines()
    assert lines[0].split() == ["input", "deletion", "↓", "mufidelity", "↑"]
    assert len(lines) == 2 + len(explained) + 2 and lines[-1].split()[0] == "mean"


def test_every_metric_by_name_and_its_label():
    assert metrics.available_metrics() == NAMES
    for name, cls in metrics.METRICS.items():
        assert cls.name == name
        assert scores.METRIC_LABELS[name][1] == cls.higher_is_better
        assert cls.__doc__ and "Reference" in (cls.__doc__ + (cls.__mro__[1].__doc__ or ""))


def test_bad_input_messages(explained, small_cnn, images):
    def message(call):
        with pytest.raises(ValueError) as error:
            call()
        return str(error.value)

    wrong = explained.attributions[..., :1]
    assert message(lambda: metrics.Deletion()(small_cnn, images, wrong)) == (
        "attributions: expected an array of shape (7, 12, 12, 2) like x, or (7, 12, 12) with one value per "
        "pixel, received an array of shape (7, 12, 12, 1) and dtype float32."
    )
    assert message(lambda: metrics.Deletion(steps=0)) == "steps: expected an integer >= 1, received 0."
    assert message(lambda: metrics.Insertion(steps=2.5)) == "steps: expected an integer >= 1, received 2.5."
    names = ", ".join(repr(n) for n in NAMES)
    assert message(lambda: explained.evaluate(["deletion", "nope"])) == (
        f"metrics: expected a Metric or one of {names}, received 'nope'."
    )
    assert message(lambda: explained.evaluate("deletion", nb_samples=3)) == (
        "options: expected options of the metrics given by name (deletion), received nb_samples, which none "
        "of them takes."
    )
    mufidelity = metrics.MuFidelity(nb_samples=4)
    assert message(lambda: mufidelity(small_cnn, images, explained, perturbations=np.ones(3))) == (
        "perturbations: expected an array of shape (7, 4, 9, 9) (examples, samples, ...), received an array "
        "of shape (3,) and dtype float32."
    )
    assert message(lambda: metrics.MaxSensitivity()(small_cnn, images, explained.attributions)) == (
        "explainer: expected an explainer instance or a method name, since MaxSensitivity re-explains inputs "
        "and the attributions came as an array; received None."
    )
    assert message(lambda: metrics.Deletion(baseline="blur")(small_cnn, images.reshape(7, -1)[:, :10], np.ones((7, 10)))
                   ).startswith("x: expected")
    assert message(lambda: metrics.FaithfulnessCorrelation(subset_size=288)(small_cnn, images, explained)) == (
        "subset_size: expected an integer below 288, the number of features, received 288."
    )
    assert message(lambda: metrics.Deletion(activation="relu")) == (
        "activation: expected one of 'softmax', 'sigmoid', received 'relu'."
    )
    with pytest.raises(TypeError):
        metrics.Deletion()(small_cnn, images, explained, perturbations=np.ones(3))


def test_blur_needs_images(linear_model, rows):
    with pytest.raises(ValueError) as error:
        metrics.Insertion(baseline="blur")(linear_model, rows, np.ones_like(rows))
    assert str(error.value) == (
        "baseline: expected images (N, H, W, C) for 'blur', received x of shape (11, 5); use a number or 'mean'."
    )


LOGGED = ["deletion", "mufidelity", "randomization"]


def test_the_callback_logs_metric_means_and_leaves_training_alone(tmp_path):
    def train(callbacks):
        model = make_model(seed=3)
        model.fit(X, Y, epochs=2, batch_size=64, verbose=0, callbacks=callbacks)
        return model

    plain = train([])
    logger = ExplanationLogger(
        "saliency", (X[:4], Y[:4]), tmp_path, formats=("tensorboard", "npz"), on_error="raise",
        metrics=[metrics.Deletion(steps=4), metrics.MuFidelity(nb_samples=8, random_state=0), "randomization"],
    )
    logged = train([logger])
    for before, after in zip(plain.get_weights(), logged.get_weights()):
        np.testing.assert_array_equal(before, after)
    events = read_events(tmp_path / "explanations")
    found = {(tag, step): scalar(v) for tag, step, v in events if tag.split("/")[-1] in LOGGED}
    assert sorted(found) == [(f"saliency/{n}", s) for n in LOGGED for s in (0, 1)]
    # The last epoch's scalars are the metrics of the final model, here recomputed.
    e = kx.GradientSaliency(logged).explain(X[:4], targets=Y[:4])
    assert found[("saliency/deletion", 1)] == pytest.approx(
        metrics.Deletion(steps=4)(logged, None, e).mean, abs=1e-6
    )
    assert found[("saliency/mufidelity", 1)] == pytest.approx(
        metrics.MuFidelity(nb_samples=8, random_state=0)(logged, None, e).mean, abs=1e-6
    )
    saved = kx.Explanation.load(os.path.join(tmp_path, "explanations", "npz", "saliency_epoch_0001.npz"))
    assert saved.metric_scores["randomization"].mean() == pytest.approx(found[("saliency/randomization", 1)])
    assert logger.get_config()["metrics"] == LOGGED


def test_the_callback_checks_metric_names(tmp_path):
    with pytest.raises(ValueError) as error:
        ExplanationLogger("saliency", X[:2], tmp_path, metrics=["delete"])
    assert str(error.value).startswith("metrics: expected a Metric or one of 'deletion'")


def test_max_sensitivity_needs_attributions_shaped_as_the_explainer_gives(explained, small_cnn, images):
    heatmaps = explained.attributions.sum(axis=-1)  # (N, H, W): a valid shape, not saliency's
    with pytest.raises(ValueError) as error:
        metrics.MaxSensitivity(explainer="saliency", nb_samples=2)(small_cnn, images, heatmaps)
    assert str(error.value) == (
        "attributions: expected the shape the explainer gives, (N,) + (12, 12, 2), received (7, 12, 12)."
    )
