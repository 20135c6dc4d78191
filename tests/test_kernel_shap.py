"""KernelShap: exact Shapley values when enumerated, the linear case, parity with shap."""

import itertools
import math
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_breast_cancer

from keras_explain.api import build_explainer
from keras_explain.methods.lime.kernel_shap import KernelShap, coalition_budget, coalition_plan

shap = pytest.importorskip("shap")


def _shapley(value, num_players):
    """Shapley values by the definition, from value(coalition as a tuple of players)."""
    phi = np.zeros(num_players)
    for player in range(num_players):
        others = [p for p in range(num_players) if p != player]
        for size in range(num_players):
            weight = math.factorial(size) * math.factorial(num_players - size - 1) / math.factorial(num_players)
            for coalition in itertools.combinations(others, size):
                with_player = tuple(sorted(coalition + (player,)))
                phi[player] += weight * (value(with_player) - value(coalition))
    return phi


def _interventional_values(model, example, background, target, groups):
    """v(S) = mean over the background of f(x on the groups in S, background elsewhere), for every S."""
    count = int(groups.max()) + 1
    coalitions = [c for size in range(count + 1) for c in itertools.combinations(range(count), size)]
    composites = []
    for coalition in coalitions:
        keep = np.isin(groups, coalition).reshape(groups.shape + (1,) * (example.ndim - groups.ndim))
        composites.append(np.where(keep, example, background))
    outputs = model.predict(np.concatenate(composites), verbose=0, batch_size=4096)[:, target]
    means = outputs.astype(np.float64).reshape(len(coalitions), len(background)).mean(axis=1)
    return dict(zip(coalitions, means))


def _brute_force(model, x, background, targets, groups):
    found = []
    for example, target in zip(x, targets):
        values = _interventional_values(model, example, background, target, groups)
        found.append(_shapley(values.__getitem__, int(groups.max()) + 1))
    return np.array(found)


def _f(model, x, targets):
    return model.predict(x, verbose=0).astype(np.float64)[np.arange(len(x)), targets]


# -- exactness ------------------------------------------------------------------------


def test_enumerated_coalitions_give_the_brute_force_shapley_values():
    keras.utils.set_random_seed(11)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(6, activation="sigmoid"),
         keras.layers.Dense(2)]
    )
    rng = np.random.default_rng(0)
    background = rng.normal(size=(6, 4)).astype("float32")
    x = rng.normal(size=(3, 4)).astype("float32") * 2.0
    e = KernelShap(model, background, verbose=0).explain(x, targets=np.array([0, 1, 1]))
    expected = _brute_force(model, x, background, e.targets, np.arange(4))
    np.testing.assert_allclose(e.attributions, expected, atol=1e-6)
    assert np.abs(expected).max() > 0.05  # a nonlinear model with effects to get right
    mean = model.predict(background, verbose=0).astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(e.expected_value, mean[e.targets], atol=1e-6)
    difference = _f(model, x, e.targets) - e.expected_value
    np.testing.assert_allclose(e.attributions.sum(axis=1), difference, atol=1e-5)
    assert np.abs(e.additivity_gap).max() < 1e-5


@pytest.mark.parametrize("num_samples", ["auto", 12])
def test_a_linear_model_gets_its_weights_times_the_offset_from_the_background_mean(
    linear_model, linear_weights, rows, num_samples
):
    kernel, _ = linear_weights
    background = rows[:6] * 0.5 + 0.3
    # With 12 of the 30 coalitions drawn the regression is still exact: v is linear in z.
    e = KernelShap(linear_model, background, num_samples=num_samples, random_state=0, verbose=0).explain(rows)
    expected = kernel[:, e.targets].T * (rows - background.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(e.attributions, expected, atol=2e-6)
    assert np.abs(e.additivity_gap).max() < 1e-5


def test_a_feature_equal_to_every_background_row_gets_exactly_zero(tanh_mlp, rows):
    background = rows[:5].copy()
    background[:, 2] = 0.75
    x = rows[5:].copy()
    x[:, 2] = 0.75
    e = KernelShap(tanh_mlp, background, num_samples=10, random_state=1, verbose=0).explain(x)
    assert np.all(e.attributions[:, 2] == 0.0)
    assert np.all(e.attributions[:, [0, 1, 3, 4]] != 0.0)
    assert np.abs(e.additivity_gap).max() < 1e-5


def test_grouped_pixels_carry_their_group_value_which_is_the_shapley_value(small_cnn, images):
    groups = (np.arange(12)[:, None] // 4) * 3 + np.arange(12)[None, :] // 4  # 3 x 3 blocks
    background = images[4:7]
    x = images[:2]
    e = KernelShap(small_cnn, background, feature_groups=groups, verbose=0).explain(x)
    assert e.attributions.shape == x.shape
    values = np.stack([[e.attributions[i][groups == g][0, 0] for g in range(9)] for i in range(2)])
    for g in range(9):
        assert np.all(e.attributions[:, groups == g, :] == values[:, g, None, None])
    np.testing.assert_allclose(values, _brute_force(small_cnn, x, background, e.targets, groups), atol=1e-6)
    difference = _f(small_cnn, x, e.targets) - e.expected_value
    np.testing.assert_allclose(values.astype(np.float64).sum(axis=1), difference, atol=1e-5)
    assert np.abs(e.additivity_gap).max() < 1e-5


def test_a_single_group_takes_the_whole_change(tanh_mlp, rows):
    e = KernelShap(tanh_mlp, rows[:4], feature_groups=np.zeros(5, int), verbose=0).explain(rows)
    difference = _f(tanh_mlp, rows, e.targets) - e.expected_value
    np.testing.assert_allclose(e.attributions, np.repeat(difference[:, None], 5, axis=1), atol=1e-6)


# -- shap -----------------------------------------------------------------------------


def test_coalitions_are_chosen_as_shap_chooses_them():
    """Enumerated sizes: the same coalitions, in the same order, with the same weights."""
    for size, budget, enumerated in [(10, 300, 110), (5, 20, 10), (12, 500, 156)]:
        explainer = shap.KernelExplainer(lambda a: a.sum(axis=1), np.zeros((1, size)))
        np.random.seed(0)
        explainer.shap_values(np.ones((1, size)), nsamples=budget, l1_reg=False, silent=True)
        masks, weights = coalition_plan(size, coalition_budget(size, budget), np.random.default_rng(0))
        assert masks.shape == explainer.maskMatrix.shape
        np.testing.assert_array_equal(masks[:enumerated], explainer.maskMatrix[:enumerated] == 1)
        np.testing.assert_allclose(weights[:enumerated], explainer.kernelWeights[:enumerated], rtol=1e-12)
        # The drawn coalitions are new, and share the kernel mass that is left.
        assert len(np.unique(masks, axis=0)) == len(masks)
        np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-12)
        np.testing.assert_allclose(weights[enumerated:].sum(), explainer.kernelWeights[enumerated:].sum(), rtol=1e-9)
    assert coalition_budget(30, "auto") == 2 * 30 + 2048
    assert coalition_budget(8, "auto") == coalition_budget(8, 10**6) == 2**8 - 2


@pytest.fixture(scope="module")
def breast_cancer_task():
    data = load_breast_cancer()
    x = ((data.data - data.data.mean(axis=0)) / data.data.std(axis=0)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((30,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(2)]
    )
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, data.target, epochs=5, batch_size=64, verbose=0)
    return model, x


def test_parity_with_shap_kernel_explainer_on_breast_cancer(breast_cancer_task):
    model, data = breast_cancer_task
    background, x = data[::11][:50], data[[3, 100, 250]]
    function = tf.function(
        lambda rows: model(rows, training=False)[:, 1], input_signature=[tf.TensorSpec((None, 30), tf.float32)]
    )
    samples = 8192
    np.random.seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = shap.KernelExplainer(lambda rows: function(rows.astype(np.float32)).numpy(), background)
        # l1_reg=False: shap's default keeps only 10 of the 30 features.
        expected = reference.shap_values(x, nsamples=samples, l1_reg=False, silent=True)
    e = KernelShap(model, background, num_samples=samples, random_state=0, verbose=0).explain(x, targets=1)
    assert np.abs(e.attributions - expected).mean() <= 0.05 * np.abs(expected).mean()
    np.testing.assert_allclose(e.expected_value, reference.expected_value, atol=1e-6)
    assert np.abs(e.additivity_gap).max() <= 1e-5


# -- determinism, batching, configuration -----------------------------------------------


def test_seeds_and_batch_sizes(tanh_mlp, rows):
    def run(**options):
        options.setdefault("random_state", 0)
        return KernelShap(tanh_mlp, rows[:4] * 0.5, num_samples=12, verbose=0, **options).explain(rows)

    first = run()
    np.testing.assert_array_equal(first.attributions, run().attributions)
    assert not np.allclose(first.attributions, run(random_state=1).attributions, atol=1e-3)
    for batch_size in (1, 7, 64):
        again = run(batch_size=batch_size)
        np.testing.assert_allclose(again.attributions, first.attributions, atol=1e-6)
        np.testing.assert_allclose(again.additivity_gap, first.additivity_gap, atol=1e-6)


def test_config_round_trip_and_names(tanh_mlp, rows):
    groups = np.array([3, 3, 1, 7, 1])
    explainer = KernelShap(tanh_mlp, rows[:4], num_samples=5, feature_groups=groups, random_state=2, verbose=0)
    config = explainer.get_config()
    assert set(config) == {
        "output", "batch_size", "run_eagerly", "verbose", "background", "num_samples", "random_state",
        "feature_groups",
    }
    rebuilt = KernelShap.from_config(config, tanh_mlp)
    assert repr(rebuilt) == repr(explainer)
    e = explainer.explain(rows)
    np.testing.assert_array_equal(rebuilt.explain(rows).attributions, e.attributions)
    assert e.method == "kernel_shap" and e.config["num_samples"] == 5
    assert np.all(e.attributions[:, 0] == e.attributions[:, 1])
    assert explainer.num_features == 3 and explainer.pairs_per_example == 5
    for name in ("kernel_shap", "kernelshap", "kernel"):
        built, _ = build_explainer(tanh_mlp, name, background=rows[:4])
        assert type(built) is KernelShap


# -- bad input --------------------------------------------------------------------------


def test_bad_arguments_are_refused_with_clear_messages(tanh_mlp, small_cnn, linear_models, rows, images):
    cases = [
        (lambda: KernelShap(tanh_mlp, np.zeros((4, 3), "float32")),
         "background: expected shape (N, 5), received an array of shape (4, 3) and dtype float32."),
        (lambda: KernelShap(tanh_mlp, rows, feature_groups=np.zeros(4, int)),
         "feature_groups: expected integer group labels of shape (5,), received an array of shape (4,) "
         "and dtype int64."),
        (lambda: KernelShap(tanh_mlp, rows, feature_groups=np.zeros(5)),
         "feature_groups: expected integer group labels of shape (5,), received an array of shape (5,) "
         "and dtype float64."),
        (lambda: KernelShap(small_cnn, images, feature_groups=np.zeros((6, 6), int)),
         "feature_groups: expected integer group labels of shape (12, 12, 2), or of its leading axes such as "
         "(12, 12), received an array of shape (6, 6) and dtype int64."),
        (lambda: KernelShap(tanh_mlp, rows, num_samples=1),
         "num_samples: expected 'auto' or an integer >= 2, received 1."),
        (lambda: KernelShap(tanh_mlp, rows, num_samples="many"),
         "num_samples: expected 'auto' or an integer >= 2, received 'many'."),
        (lambda: KernelShap(tanh_mlp, rows).explain(rows[:, :4]),
         "x: expected shape (N, 5), received an array of shape (11, 4) and dtype float32."),
        # A subclassed model declares no input shape: x is checked against the background.
        (lambda: KernelShap(linear_models["subclassed"], rows).explain(rows[:, :4]),
         "x: expected examples shaped like the background, (N, 5), received examples of shape (11, 4)."),
    ]
    for build, message in cases:
        with pytest.raises(ValueError) as error:
            build()
        assert str(error.value) == message
