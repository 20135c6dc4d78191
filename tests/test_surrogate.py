"""The weighted-ridge surrogate against lime's own LimeBase on the same data."""

import numpy as np
import pytest

import keras_explain.methods.lime.surrogate as surrogate

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


def _centred_statistics(X, Y, w):
    """The statistics by their definition: weighted means, then centred products."""
    total = w.sum(axis=1)
    x_mean = np.einsum("ns,nsf->nf", w, X) / total[:, None]
    y_mean = np.einsum("ns,nsl->nl", w, Y) / total[:, None]
    Xc, Yc = X - x_mean[:, None], Y - y_mean[:, None]
    return {
        "gram": np.einsum("ns,nsf,nsg->nfg", w, Xc, Xc),
        "cross": np.einsum("ns,nsl,nsf->nlf", w, Yc, Xc),
        "yy": np.einsum("ns,nsl->nl", w, Yc**2),
        "x_mean": x_mean,
        "y_mean": y_mean,
    }


@pytest.mark.parametrize("binary", [True, False])
def test_shifted_sums_equal_the_centred_statistics(binary):
    problems = [_problem(seed, binary=binary) for seed in range(3)]
    X = np.stack([p[0] for p in problems])
    Y = np.stack([p[1] for p in problems]) + 5.0  # outputs far from 0: no cancellation either
    X[1, :, 4] = X[1, 0, 4]  # a feature that never moves around input 1
    w = np.stack([np.sqrt(np.exp(-(p[2] ** 2) / 0.25**2)) for p in problems])
    expected = _centred_statistics(X, Y, w)
    stats = surrogate.statistics(X, Y, w)
    for key, value in expected.items():
        np.testing.assert_allclose(getattr(stats, key), value, rtol=1e-10, atol=1e-10, err_msg=key)
    np.testing.assert_array_equal(stats.first, X[:, 0])
    np.testing.assert_array_equal(stats.constant, np.ptp(X, axis=1) == 0)
    assert stats.constant[1, 4] and stats.constant.sum() == 1

    # Streamed in uneven runs of (input, sample) pairs, in input-major order, with
    # another output shift: the same statistics.
    samples = X.shape[1]
    root = np.sqrt(w).reshape(-1)
    reference = Y[:, 0] - 0.3
    a = (np.sqrt(w)[..., None] * (X - X[:, :1])).reshape(-1, X.shape[-1])
    b = (np.sqrt(w)[..., None] * (Y - reference[:, None])).reshape(-1, Y.shape[-1])
    accumulator = surrogate.Accumulator(X[:, 0], reference)
    cuts = [0, 1, 7, 399, 400, 401, 650, 1111, len(root)]
    for start, stop in zip(cuts[:-1], cuts[1:]):
        accumulator.add_pairs(start, samples, root[start:stop], a[start:stop], b[start:stop])
    streamed = accumulator.statistics()
    for key, value in expected.items():
        np.testing.assert_allclose(getattr(streamed, key), value, rtol=1e-10, atol=1e-10, err_msg=key)
    np.testing.assert_array_equal(streamed.constant, stats.constant)
    for method, count in (("auto", 4), ("highest_weights", 6), ("lasso_path", 5), ("none", 12)):
        one = surrogate.fit_statistics(stats, count, method)
        other = surrogate.fit_statistics(streamed, count, method)
        np.testing.assert_array_equal(one["used"], other["used"])
        for key in ("coef", "intercept", "score", "local_pred"):
            np.testing.assert_allclose(one[key], other[key], atol=1e-10, err_msg=(method, key))


def test_constant_outputs_score_one():
    X, _, distances = _problem(0)
    Y = np.full((len(X), 1), 0.7)
    w = np.sqrt(np.exp(-(distances**2) / 0.25**2))
    fitted = surrogate.fit(X[None], Y[None], w[None], num_features=3)
    np.testing.assert_array_equal(fitted["coef"], 0.0)
    assert fitted["score"][0, 0] == 1.0
    assert fitted["intercept"][0, 0] == pytest.approx(0.7, abs=1e-15)
