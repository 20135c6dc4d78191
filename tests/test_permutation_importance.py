"""PermutationImportance: scikit-learn's permutation importance, computed in the compiled step.

The models here have weights and inputs that are small multiples of 1/4, so
their float32 outputs are exact whatever the batch shape: the comparisons
with scikit-learn and with brute force hold to rounding of the final scores.
"""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.inspection import permutation_importance

import keras_explain as kx
from keras_explain.engine import registry
from keras_explain.methods.perturbation import permutation
from keras_explain.methods.perturbation.permutation import PermutationImportance, row_orders

N, D, REPEATS = 60, 5, 3
WEIGHTS = np.array([2.0, -1.5, 1.0, 0.5, 0.0], dtype=np.float32)


def _dense(units, kernel, bias, activation=None):
    model = keras.Sequential([keras.Input((kernel.shape[0],)), keras.layers.Dense(units, activation=activation)])
    model.layers[0].set_weights([kernel.astype(np.float32), np.asarray(bias, np.float32)])
    return model


def _quarters(shape, seed):
    """Values in {-2, -1.75, ..., 2}: exact in float32 products and sums."""
    return (np.random.default_rng(seed).integers(-8, 9, size=shape) / 4).astype(np.float32)


@pytest.fixture(scope="module")
def regression():
    """A compiled linear regressor y = x w + 0.5, its rows and noisy labels."""
    model = _dense(1, WEIGHTS[:, None], [0.5])
    model.compile(loss="mse")
    x = _quarters((N, D), seed=0)
    y = x @ WEIGHTS + 0.5 + np.random.default_rng(1).integers(-4, 5, size=N) / 8
    return model, x, y


@pytest.fixture(scope="module")
def classifier():
    """An uncompiled 3-class linear classifier, its rows and labels (some flipped)."""
    kernel = np.array([[1, 0, -1], [0.5, -0.5, 0], [0, 1, 0.25], [0, 0, 0], [-0.25, 0, 0.5]])
    model = _dense(3, kernel, [0.0, 0.25, -0.25])
    x = _quarters((N, D), seed=2)
    y = np.argmax(np.asarray(model(x)), axis=1)
    y[::7] = (y[::7] + 1) % 3
    return model, x, y


@pytest.fixture(scope="module")
def binary():
    """A single sigmoid output, its rows and 0/1 labels."""
    model = _dense(1, np.array([[1.0], [-0.5], [0.25], [0.0], [0.75]]), [0.0], activation="sigmoid")
    x = _quarters((N, D), seed=3)
    y = (x @ np.array([1.0, -0.5, 0.25, 0.0, 0.75]) + np.random.default_rng(4).normal(0, 0.5, N) > 0).astype(int)
    return model, x, y


def _permuted(x, group, order):
    """x with the positions in `group` (a mask like one row) taken from the rows `order`."""
    return np.where(group, x[order], x)


def _brute_force(model, x, y, score, masks, seed, repeats=REPEATS):
    """(baseline, importances (groups, repeats)) recomputed with numpy and an eager model."""
    orders = row_orders(seed, len(x), len(masks) * repeats).reshape(len(masks), repeats, len(x))
    baseline = score(y, np.asarray(model(x)))
    permuted = [
        [score(y, np.asarray(model(_permuted(x, mask, order)))) for order in orders[g]]
        for g, mask in enumerate(masks)
    ]
    return baseline, baseline - np.array(permuted)


class RecordingEstimator:
    """The Keras model as a scikit-learn estimator whose `score` records every X it is given."""

    def __init__(self, model, score):
        self.model, self._score, self.seen = model, score, []

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.asarray(self.model(np.asarray(X, np.float32)))

    def score(self, X, y):
        self.seen.append(np.array(X))
        return self._score(y, self.predict(X))


def _row_order(original, shuffled):
    """A row order p with original[p] == shuffled (values may repeat: equal ranks are matched)."""
    by_value = np.argsort(original, kind="stable")
    return by_value[np.argsort(np.argsort(shuffled, kind="stable"), kind="stable")]


def _negative_mse(y, outputs):
    return -float(np.mean((np.asarray(y, np.float64) - outputs[:, 0]) ** 2))


def _accuracy(y, outputs):
    return float(np.mean(np.argmax(outputs, axis=1) == y))


@pytest.mark.parametrize("case, metric, score", [
    ("regression", "loss", _negative_mse),
    ("classifier", "accuracy", _accuracy),
])
def test_equals_sklearn_given_the_permutations_it_drew(request, monkeypatch, case, metric, score):
    # scikit-learn shuffles one column at a time, column after column, repeat
    # after repeat, and scores each copy: the estimator records those copies,
    # the row order of each is read back from its shuffled column, and the
    # same orders replace the explainer's draws (`row_orders`, group-major as
    # the copies are). Both then score identical copies.
    model, x, y = request.getfixturevalue(case)
    estimator = RecordingEstimator(model, score)
    reference = permutation_importance(estimator, x, y, n_repeats=REPEATS, random_state=0)
    copies = estimator.seen[1:]
    assert len(copies) == D * REPEATS
    orders = []
    for k, copy in enumerate(copies):
        column = k // REPEATS
        np.testing.assert_array_equal(np.delete(copy, column, axis=1), np.delete(x, column, axis=1))
        orders.append(_row_order(x[:, column], copy[:, column]))
    monkeypatch.setattr(permutation, "row_orders", lambda seed, rows, count: np.array(orders))
    e = PermutationImportance(model, metric=metric, n_repeats=REPEATS, random_state=0, verbose=0).explain(x, y)
    np.testing.assert_allclose(e.importances[0].T, reference.importances, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e.attributions[0], reference.importances_mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e.importances_std[0], reference.importances_std, rtol=1e-6, atol=1e-6)
    assert e.baseline_score == pytest.approx(score(y, estimator.predict(x)), abs=1e-12)


def test_ranks_features_like_sklearn_with_its_own_draws(regression):
    model, x, y = regression
    reference = permutation_importance(RecordingEstimator(model, _negative_mse), x, y, n_repeats=5, random_state=0)
    e = PermutationImportance(model, n_repeats=5, random_state=0, verbose=0).explain(x, y)
    assert list(np.argsort(-e.attributions[0])) == list(np.argsort(-reference.importances_mean)) == [0, 1, 2, 3, 4]
    # A feature of weight 0 changes nothing: exactly 0 in both.
    assert e.attributions[0, 4] == reference.importances_mean[4] == 0.0


def test_linear_regression_under_mse_has_a_closed_form(regression):
    # Shuffling column j by the order p moves every prediction by w_j d, with
    # d = x[p, j] - x[:, j]; with residuals r = y - f(x) the MSE grows by
    # w_j^2 mean(d^2) - 2 w_j mean(d r): the importance under metric="loss".
    model, x, y = regression
    e = PermutationImportance(model, n_repeats=REPEATS, random_state=7, verbose=0).explain(x, y)
    residuals = y - (x.astype(np.float64) @ WEIGHTS + 0.5)
    orders = row_orders(7, N, D * REPEATS).reshape(D, REPEATS, N)
    expected = np.empty((REPEATS, D))
    for j in range(D):
        for r in range(REPEATS):
            d = x[orders[j, r], j].astype(np.float64) - x[:, j]
            expected[r, j] = WEIGHTS[j] ** 2 * np.mean(d**2) - 2 * WEIGHTS[j] * np.mean(d * residuals)
    np.testing.assert_allclose(e.importances[0], expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e.attributions[0], expected.mean(axis=0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e.importances_std[0], expected.std(axis=0), rtol=1e-5, atol=1e-6)
    assert e.baseline_score == pytest.approx(-np.mean(residuals**2), abs=1e-12)
    # A keras error metric is negated into a score: the same importances.
    same = PermutationImportance(model, metric=keras.metrics.MeanSquaredError(), n_repeats=REPEATS, random_state=7)
    np.testing.assert_allclose(same.explain(x, y, verbose=0).attributions, e.attributions, rtol=1e-6, atol=1e-6)


def test_accuracy_by_argmax_and_by_a_sigmoid_threshold(classifier, binary):
    eye = list(np.eye(D, dtype=bool))
    for (model, x, y), threshold in ((classifier, False), (binary, True)):
        e = PermutationImportance(model, metric="accuracy", n_repeats=REPEATS, random_state=3, verbose=0).explain(x, y)

        def score(labels, outputs):
            predicted = outputs[:, 0] > 0.5 if threshold else np.argmax(outputs, axis=1)
            return float(np.mean(predicted == labels))

        baseline, importances = _brute_force(model, x, y, score, eye, seed=3)
        assert e.baseline_score == baseline
        np.testing.assert_allclose(e.importances[0], importances.T, atol=1e-7)
        assert np.any(importances != 0)


def test_a_keras_metric_is_copied_reset_and_updated_with_every_row(binary):
    model, x, y = binary
    auc = keras.metrics.AUC()
    auc.update_state([0, 1], [0.9, 0.1])
    before = float(auc.result())
    e = PermutationImportance(model, metric=auc, n_repeats=REPEATS, random_state=4, verbose=0).explain(x, y)

    def fresh_auc(labels, outputs):
        metric = keras.metrics.AUC()
        metric.update_state(labels, outputs)
        return float(metric.result())

    baseline, importances = _brute_force(model, x, y, fresh_auc, list(np.eye(D, dtype=bool)), seed=4)
    assert e.baseline_score == pytest.approx(baseline, abs=1e-7)
    np.testing.assert_allclose(e.importances[0], importances.T, atol=1e-6)
    assert float(auc.result()) == before  # the user's metric keeps its state


def test_a_callable_gets_numpy_labels_and_outputs_and_higher_is_better(regression):
    model, x, y = regression
    seen = []

    def negative_mae(labels, outputs):
        seen.append((type(labels), labels.shape, type(outputs), outputs.shape, outputs.dtype))
        return -float(np.mean(np.abs(labels - outputs[:, 0])))

    e = PermutationImportance(model, metric=negative_mae, n_repeats=2, random_state=5, verbose=0).explain(x, y)
    assert set(seen) == {(np.ndarray, (N,), np.ndarray, (N, 1), np.dtype("float32"))}
    assert len(seen) == 1 + D * 2
    baseline, importances = _brute_force(model, x, y, negative_mae, list(np.eye(D, dtype=bool)), seed=5, repeats=2)
    np.testing.assert_allclose(e.importances[0], importances.T, rtol=1e-6, atol=1e-7)
    assert e.attributions[0, 0] > e.attributions[0, 3] > 0 == e.attributions[0, 4]


def test_dataframe_columns_by_name_are_shuffled_together(regression):
    model, x, y = regression
    frame = pd.DataFrame(x, columns=list("abcde"))
    groups = [["a", "b"], "c", ["d", "e"]]
    by_name = PermutationImportance(model, feature_groups=groups, n_repeats=REPEATS, random_state=6, verbose=0)
    e = by_name.explain(frame, pd.Series(y))
    assert e.feature_names == ["a+b", "c", "d+e"] and e.attributions.shape == (1, 3)
    masks = [np.isin(np.arange(D), members) for members in ([0, 1], [2], [3, 4])]
    baseline, importances = _brute_force(model, x, y, _negative_mse, masks, seed=6)
    np.testing.assert_allclose(e.importances[0], importances.T, rtol=1e-6, atol=1e-6)
    # The same groups as an integer mask of one row, or named in a dict.
    mask = PermutationImportance(model, feature_groups=np.array([0, 0, 1, 2, 2]), n_repeats=REPEATS, random_state=6)
    same = mask.explain(x, y, verbose=0)
    np.testing.assert_array_equal(same.importances, e.importances)
    assert same.feature_names == ["x0+x1", "x2", "x3+x4"]
    named = PermutationImportance(model, feature_groups={"ab": ["a", "b"], "c": "c", "de": ["d", "e"]}, random_state=6)
    assert named.explain(frame, y, verbose=0).feature_names == ["ab", "c", "de"]
    assert e.as_list(0)[0][0] == "a+b"


def test_image_channels_and_a_broadcast_pixel_mask():
    keras.utils.set_random_seed(9)
    layers = [keras.layers.Conv2D(3, 2, activation="tanh"), keras.layers.Flatten(), keras.layers.Dense(2)]
    model = keras.Sequential([keras.Input((4, 4, 2)), *layers])
    x = np.random.default_rng(10).uniform(size=(12, 4, 4, 2)).astype(np.float32)
    y = np.random.default_rng(11).integers(0, 2, size=12)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    e = PermutationImportance(model, n_repeats=2, random_state=12, verbose=0).explain(x, y)
    assert e.feature_names == ["channel 0", "channel 1"] and e.attributions.shape == (1, 2)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def score(labels, outputs):
        return -float(loss(labels, outputs))

    channels = [np.arange(2) == c for c in range(2)]
    _, importances = _brute_force(model, x, y, score, channels, seed=12, repeats=2)
    np.testing.assert_allclose(e.importances[0], importances.T, rtol=1e-5, atol=1e-6)
    halves = np.zeros((4, 4, 1), dtype=int)
    halves[2:] = 5
    e = PermutationImportance(model, feature_groups=halves, n_repeats=2, random_state=12, verbose=0).explain(x, y)
    assert e.feature_names == ["group 0", "group 5"]
    masks = [np.broadcast_to(halves == v, (4, 4, 2)) for v in (0, 5)]
    _, importances = _brute_force(model, x, y, score, masks, seed=12, repeats=2)
    np.testing.assert_allclose(e.importances[0], importances.T, rtol=1e-5, atol=1e-6)


def test_tf_data_tensors_and_batch_sizes_give_the_numpy_answer(regression):
    model, x, y = regression
    explainer = PermutationImportance(model, n_repeats=REPEATS, random_state=8, verbose=0)
    reference = explainer.explain(x, y)
    traces = explainer.trace_count
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(7)
    for e in (
        explainer.explain(dataset),
        explainer.explain(tf.constant(x), tf.constant(y)),
        explainer.explain(x, y=y),
        explainer.explain(x, targets=y),
        explainer.explain(tf.data.Dataset.from_tensor_slices(x).batch(9), y),
        PermutationImportance(model, n_repeats=REPEATS, random_state=8, batch_size=7, verbose=0).explain(x, y),
        PermutationImportance(model, n_repeats=REPEATS, random_state=8, batch_size=1, verbose=0).explain(x, y),
        kx.api.explain(model, x, method="feature_permutation", y=y, n_repeats=REPEATS, random_state=8, verbose=0),
    ):
        np.testing.assert_array_equal(e.importances, reference.importances)
        assert e.baseline_score == reference.baseline_score
    explainer.explain(x[:13], y[:13])
    assert explainer.trace_count == traces


def test_the_same_seed_repeats_and_another_differs(regression):
    model, x, y = regression
    first = PermutationImportance(model, random_state=1, verbose=0).explain(x, y)
    again = PermutationImportance(model, random_state=1, verbose=0).explain(x, y)
    np.testing.assert_array_equal(first.importances, again.importances)
    other = PermutationImportance(model, random_state=2, verbose=0).explain(x, y)
    assert not np.array_equal(first.importances, other.importances)
    fresh = PermutationImportance(model, verbose=0)
    assert not np.array_equal(fresh.explain(x, y).importances, fresh.explain(x, y).importances)


def test_one_global_example_that_saves_and_rebuilds(regression, tmp_path):
    model, x, y = regression
    explainer = PermutationImportance(model, n_repeats=4, random_state=0, verbose=0)
    e = explainer.explain(x, y)
    assert len(e) == 1 and e.method == "permutation_importance"
    assert e.attributions.shape == (1, D) and e.importances.shape == (1, 4, D) and e.importances_std.shape == (1, D)
    np.testing.assert_array_equal(e.targets, [0])
    np.testing.assert_allclose(e.predictions, np.asarray(model(x)).mean(axis=0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(e.inputs, x.mean(axis=0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(e.importances_std, e.importances.std(axis=1), rtol=1e-6)
    loaded = kx.Explanation.load(e.save(tmp_path / "pi"))
    np.testing.assert_array_equal(loaded.importances, e.importances)
    assert loaded.baseline_score == e.baseline_score and loaded.feature_names == e.feature_names
    before = dict(vars(explainer))
    explainer.explain(x, y)
    assert {k: v is before[k] for k, v in vars(explainer).items()} == {k: True for k in before}
    rebuilt = PermutationImportance.from_config(explainer.get_config(), model)
    assert repr(rebuilt) == repr(explainer)
    np.testing.assert_array_equal(rebuilt.explain(x, y).importances, e.importances)
    assert registry.explainer_class("permutation") is registry.explainer_class("feature_permutation") is type(explainer)


def test_bad_input_is_refused_with_the_argument_named(regression, classifier):
    model, x, y = regression
    explainer = PermutationImportance(model, verbose=0)

    def refused(call, message):
        with pytest.raises(ValueError) as error:
            call()
        assert str(error.value) == message

    refused(lambda: explainer.explain(x), (
        "y: expected the labels of x, one per row (or x a tf.data.Dataset of (x, y) batches), received None."
    ))
    refused(lambda: explainer.explain(x, y[:10]), (
        f"y: expected one label per row of x ({N} rows), received an array of shape (10,) and dtype float64."
    ))
    twice = (
        "y: expected the labels once: explain(x, y), explain(x, y=y) or x a tf.data.Dataset of (x, y), "
        "received an array of shape (60,) and dtype float64."
    )
    labelled = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    refused(lambda: explainer.explain(labelled, y), twice)
    refused(lambda: explainer.explain(labelled, y=y), twice)
    refused(lambda: explainer.explain(x, y, y=y), twice)
    refused(lambda: explainer.explain(x, 3), f"y: expected one label per row of x ({N} rows), received 3.")
    refused(lambda: PermutationImportance(model, feature_groups=np.zeros(4, int)).explain(x, y), (
        "feature_groups: expected an integer mask shaped like one example, (5,) (axes of size 1 broadcast), "
        "received an array of shape (4,) and dtype int64."
    ))
    refused(lambda: PermutationImportance(model, feature_groups=[["a"], "c"]).explain(x, y), (
        "feature_groups: expected column indices between 0 and 4 (names need a DataFrame), received 'a'."
    ))
    frame = pd.DataFrame(x, columns=list("abcde"))
    refused(lambda: PermutationImportance(model, feature_groups=["z"]).explain(frame, y), (
        "feature_groups: expected columns of x (a, b, c, d, e) or indices below 5, received 'z'."
    ))
    refused(lambda: PermutationImportance(model, feature_groups=np.zeros(5)), (
        "feature_groups: expected None, an integer numpy mask shaped like one example, or a list (or dict) of "
        "column groups (a column name or index, or a list of them), received an array of shape (5,) and dtype float64."
    ))
    refused(lambda: PermutationImportance(classifier[0]), (
        "metric: expected a model compiled with a loss for metric='loss' (or pass metric='accuracy', a "
        "keras.metrics.Metric or a callable(y_true, y_pred)), received a model that is not compiled with a loss."
    ))
    expected = "'loss', 'accuracy', a keras.metrics.Metric or a callable(y_true, y_pred) -> float, higher is better"
    refused(lambda: PermutationImportance(model, metric="auc"), f"metric: expected {expected}, received 'auc'.")
    refused(lambda: PermutationImportance(model, metric=keras.losses.MeanSquaredError()), (
        f"metric: expected {expected}, received a keras.losses.Loss (MeanSquaredError), where lower is better; "
        "pass lambda y, p: -float(loss(y, p))."
    ))
    refused(lambda: PermutationImportance(model, n_repeats=0), "n_repeats: expected an integer >= 1, received 0.")
