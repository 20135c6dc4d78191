"""The weighted-ridge surrogate against lime's own LimeBase on the same data."""

import numpy as np
import pytest

from keras_explain.core import surrogate

lime_base = pytest.importorskip("lime.lime_base")


def _problem(seed, samples=400, features=12, labels=2, binary=True):
    rng = np.random.default_rng(seed)
    if binary:
        X = rng.integers(0, 2, size=(samples, features)).astype(float)
        X[0] = 1.0
    else:
        X = rng.normal(size=(samples, features))
    true = rng.normal(size=(features, labels)) * (rng.uniform(size=(features, 1)) < 0.5)
    Y = np.tanh(X @ true + 0.3 * rng.normal(size=(samples, labels)))
    distances = rng.uniform(0, 1, size=samples)
    distances[0] = 0.0
    return X, Y, distances


def _lime(X, Y, distances, label, num_features, method):
    base = lime_base.LimeBase(kernel_fn=lambda d: np.sqrt(np.exp(-(d**2) / 0.25**2)), random_state=0)
    intercept, pairs, score, local = base.explain_instance_with_data(
        X, Y, distances, label, num_features, feature_selection=method
    )
    coef = np.zeros(X.shape[1])
    for feature, weight in pairs:
        coef[feature] = weight
    return intercept, coef, score, local[0]


@pytest.mark.parametrize("method,num_features", [
    ("none", 12), ("highest_weights", 5), ("forward_selection", 4), ("auto", 3), ("auto", 8),
    ("lasso_path", 4),
])
@pytest.mark.parametrize("binary", [True, False])
def test_matches_lime_base(method, num_features, binary):
    problems = [_problem(seed, binary=binary) for seed in range(3)]
    X = np.stack([p[0] for p in problems])
    Y = np.stack([p[1] for p in problems])
    w = np.stack([np.sqrt(np.exp(-(p[2] ** 2) / 0.25**2)) for p in problems])
    ours = surrogate.fit(X, Y, w, num_features=num_features, feature_selection=method)
    for i, (x, y, d) in enumerate(problems):
        for label in range(Y.shape[-1]):
            intercept, coef, score, local = _lime(x, y, d, label, num_features, method)
            np.testing.assert_array_equal(ours["used"][i, label], coef != 0)
            np.testing.assert_allclose(ours["coef"][i, label], coef, atol=1e-8)
            assert ours["intercept"][i, label] == pytest.approx(intercept, abs=1e-8)
            assert ours["score"][i, label] == pytest.approx(score, abs=1e-8)
            assert ours["local_pred"][i, label] == pytest.approx(local, abs=1e-8)


def test_kernels_and_distances():
    X = np.array([[[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])
    cosine = surrogate.cosine_distance_to_first(X).numpy()
    np.testing.assert_allclose(cosine, [[0.0, 1 - 1 / np.sqrt(2), 1.0]], atol=1e-15)
    euclid = surrogate.euclidean_distance_to_first(X).numpy()
    np.testing.assert_allclose(euclid, [[0.0, 1.0, np.sqrt(3)]])
    np.testing.assert_allclose(
        surrogate.exponential_kernel(cosine, 0.25).numpy(), np.sqrt(np.exp(-(cosine**2) / 0.0625))
    )
