"""Gradient methods on token ids, explained through an Embedding layer (keras_explain.engine.embedding)."""

import keras
import numpy as np
import pytest
from helpers import models

import keras_explain as kx

STEPS, DIM, CLASSES = models.TEXT_STEPS, models.TEXT_DIM, models.N_CLASSES
KEYWORD = models.KEYWORD


@pytest.fixture(scope="module")
def linear_text():
    return models.linear_text_model()


@pytest.fixture(scope="module")
def conv_text():
    return models.conv_text_model()


@pytest.fixture(scope="module")
def text_ids():
    return models.token_ids(9, seed=3)


def _weights(model):
    """(E (V, D), W (D, K), b (K,)) of a linear text model."""
    return model.get_layer("tokens").embeddings.numpy(), *model.get_layer("head").get_weights()


def _linear_scores(model, ids, target):
    """f_target(ids) = w . mean_t E[ids_t] + b, from the weights."""
    table, kernel, bias = _weights(model)
    return table[ids].mean(axis=1) @ kernel[:, target] + bias[target]


# -- exact values on the linear model --------------------------------------------------


@pytest.mark.parametrize("sequential", [False, True])
def test_integrated_gradients_over_tokens_is_analytic(sequential, text_ids):
    model = models.linear_text_model(sequential=sequential)
    table, kernel, bias = _weights(model)
    e = kx.IntegratedGradients(model, steps=5, verbose=0).explain(text_ids, targets=1)
    # f is linear in the embeddings: IG_t = w . (E[id_t] - 0) / T for the target's weights w.
    np.testing.assert_allclose(e.attributions, table[text_ids] @ kernel[:, 1] / STEPS, atol=1e-6)
    np.testing.assert_allclose(e.baseline_scores, bias[1], atol=1e-6)
    np.testing.assert_allclose(e.completeness_gap, 0.0, atol=1e-5)
    assert e.attributions.shape == text_ids.shape
    np.testing.assert_array_equal(e.inputs, text_ids)
    assert e.extras["token_space"] == "ids" and e.extras["embedding_layer"] == "tokens"


def test_baseline_token_interpolates_from_its_embedding(linear_text, text_ids):
    table, kernel, _ = _weights(linear_text)
    e = kx.IntegratedGradients(linear_text, steps=4, baseline_token=0, verbose=0).explain(text_ids, targets=2)
    np.testing.assert_allclose(e.attributions, (table[text_ids] - table[0]) @ kernel[:, 2] / STEPS, atol=1e-6)
    # f at the baseline embedding: every position holds E[0].
    np.testing.assert_allclose(
        e.baseline_scores, _linear_scores(linear_text, np.zeros((1, STEPS), int), 2)[0], atol=1e-6
    )
    np.testing.assert_allclose(e.completeness_gap, 0.0, atol=1e-5)


def test_saliency_times_input_and_gradient_are_analytic(linear_text, text_ids):
    table, kernel, bias = _weights(linear_text)
    targets = np.arange(len(text_ids)) % CLASSES
    times = kx.GradientSaliency(linear_text, multiply_by_inputs=True, verbose=0).explain(text_ids, targets)
    expected = np.einsum("ntd,dn->nt", table[text_ids], kernel[:, targets]) / STEPS
    np.testing.assert_allclose(times.attributions, expected, atol=1e-6)
    full = kx.GradientSaliency(linear_text, token_reduce=None, verbose=0).explain(text_ids, targets)
    # The gradient with respect to each embedding value is w_d / T.
    assert full.attributions.shape == (len(text_ids), STEPS, DIM) and full.extras["token_space"] == "embeddings"
    np.testing.assert_allclose(
        full.attributions, np.broadcast_to(kernel[:, targets].T[:, None] / STEPS, full.attributions.shape), atol=1e-7
    )
    # Predictions come from the same pass and equal the model's.
    np.testing.assert_allclose(times.predictions, table[text_ids].mean(axis=1) @ kernel + bias, atol=1e-5)
    np.testing.assert_array_equal(times.targets, targets)


def test_predictions_and_default_targets_match_the_model(conv_text, text_ids):
    outputs = conv_text.predict(text_ids, verbose=0)
    for explainer in (
        kx.GradientSaliency(conv_text, verbose=0),
        kx.IntegratedGradients(conv_text, steps=64, verbose=0),
    ):
        e = explainer.explain(text_ids)
        np.testing.assert_allclose(e.predictions, outputs, atol=1e-5)
        np.testing.assert_array_equal(e.targets, outputs.argmax(axis=1))


def test_token_reduce_none_sums_to_the_tokens(conv_text, text_ids):
    summed = kx.IntegratedGradients(conv_text, steps=16, verbose=0).explain(text_ids, targets=0)
    full = kx.IntegratedGradients(conv_text, steps=16, token_reduce=None, verbose=0).explain(text_ids, targets=0)
    np.testing.assert_allclose(full.attributions.sum(axis=-1), summed.attributions, atol=1e-6)
    np.testing.assert_allclose(full.completeness_gap, summed.completeness_gap, atol=1e-6)


def test_a_subclassed_model_is_explained_like_the_functional_one(linear_text, text_ids):
    subclassed = models.SubclassedText()
    subclassed(text_ids[:1])
    subclassed.tokens.set_weights(linear_text.get_layer("tokens").get_weights())
    subclassed.head.set_weights(linear_text.get_layer("head").get_weights())
    ours = kx.IntegratedGradients(subclassed, steps=4, verbose=0).explain(text_ids, targets=1)
    reference = kx.IntegratedGradients(linear_text, steps=4, verbose=0).explain(text_ids, targets=1)
    np.testing.assert_allclose(ours.attributions, reference.attributions, atol=1e-6)


# -- completeness, steps="auto", batches ---------------------------------------------


def test_completeness_at_256_steps_on_a_conv_text_model(conv_text, text_ids):
    e = kx.IntegratedGradients(conv_text, steps=256, verbose=0).explain(text_ids)
    scores = conv_text.predict(text_ids, verbose=0)[np.arange(len(text_ids)), e.targets]
    # The gap is against f at the zero embedding, computed independently here.
    head = keras.Model(conv_text.layers[1].output, conv_text.output)
    at_zero = head(np.zeros((1, STEPS, 8), "float32")).numpy()[0, e.targets]
    np.testing.assert_allclose(e.baseline_scores, at_zero, atol=1e-6)
    np.testing.assert_allclose(e.attributions.sum(axis=1), scores - at_zero, atol=1e-3)
    assert np.abs(e.completeness_gap).max() < 1e-3


def test_auto_steps_reach_the_tolerance_and_batches_do_not_matter(conv_text, text_ids):
    auto = kx.IntegratedGradients(conv_text, steps="auto", tolerance=1e-2, verbose=0).explain(text_ids)
    difference = auto.attributions.sum(axis=1) - auto.completeness_gap
    assert auto.steps.min() > 9  # more than the first level's 9 points
    assert np.all(np.abs(auto.completeness_gap) <= 1e-2 * np.maximum(np.abs(difference), 1e-2))
    fixed = kx.IntegratedGradients(conv_text, steps=int(auto.steps[0]), verbose=0).explain(text_ids[:1])
    np.testing.assert_allclose(auto.attributions[:1], fixed.attributions, atol=1e-6)
    small = kx.IntegratedGradients(conv_text, steps=16, batch_size=5, verbose=0).explain(text_ids)
    large = kx.IntegratedGradients(conv_text, steps=16, verbose=0).explain(text_ids)
    np.testing.assert_allclose(small.attributions, large.attributions, atol=1e-6)


# -- masking ---------------------------------------------------------------------------


def test_mask_zero_average_ignores_padding_exactly():
    model = models.linear_text_model(mask_zero=True)
    table, kernel, _ = _weights(model)
    ids = models.token_ids(6, seed=4, padded=True)
    lengths = (ids != 0).sum(axis=1, keepdims=True)
    e = kx.IntegratedGradients(model, steps=3, baseline_token=0, verbose=0).explain(ids, targets=0)
    # The masked mean divides by the number of real tokens; padding gets nothing.
    expected = np.where(ids != 0, (table[ids] - table[0]) @ kernel[:, 0] / lengths, 0.0)
    np.testing.assert_allclose(e.attributions, expected, atol=1e-6)
    np.testing.assert_allclose(e.completeness_gap, 0.0, atol=1e-5)


def test_mask_zero_lstm_completes_and_leaves_padding_at_zero():
    model = models.lstm_text_model()
    ids = models.token_ids(6, seed=5, padded=True)
    e = kx.IntegratedGradients(model, steps=128, baseline_token=0, verbose=0).explain(ids)
    np.testing.assert_allclose(e.predictions, model.predict(ids, verbose=0), atol=1e-5)
    np.testing.assert_array_equal(e.attributions[ids == 0], 0.0)
    assert np.abs(e.completeness_gap).max() < 1e-3
    s = kx.GradientSaliency(model, multiply_by_inputs=True, verbose=0).explain(ids)
    np.testing.assert_array_equal(s.attributions[ids == 0], 0.0)


# -- the planted keyword -----------------------------------------------------------------


@pytest.fixture(scope="session")
def keyword_task():
    return models.keyword_task()


@pytest.mark.parametrize("name", ["ig", "saliency_x_input"])
def test_the_planted_keyword_is_the_top_token(keyword_task, name):
    model, x, y = keyword_task
    accuracy = (model.predict(x, verbose=0).argmax(axis=1) == y).mean()
    assert accuracy >= 0.95
    positives = x[y == 1]
    if name == "ig":
        explainer = kx.IntegratedGradients(model, steps=32, verbose=0)
    else:
        explainer = kx.GradientSaliency(model, multiply_by_inputs=True, verbose=0)
    e = explainer.explain(positives, targets=1)
    top = positives[np.arange(len(positives)), e.attributions.argmax(axis=1)]
    fraction = (top == KEYWORD).mean()
    assert fraction >= 0.9, fraction


# -- SmoothGrad: noise in embedding space ----------------------------------------------


def test_smoothgrad_on_tokens_is_seeded_and_noise_free_at_zero(conv_text, text_ids):
    def smooth(seed, noise=0.3, inner=None):
        inner = inner or kx.GradientSaliency(conv_text, multiply_by_inputs=True, verbose=0)
        return kx.SmoothGrad(inner, samples=8, noise=noise, random_state=seed, verbose=0).explain(text_ids, targets=0)

    first, again, other = smooth(0), smooth(0), smooth(1)
    np.testing.assert_array_equal(first.attributions, again.attributions)
    assert not np.allclose(first.attributions, other.attributions)
    np.testing.assert_array_equal(first.inputs, text_ids)
    assert first.attributions.shape == text_ids.shape and first.extras["token_space"] == "ids"
    plain = kx.GradientSaliency(conv_text, multiply_by_inputs=True, verbose=0).explain(text_ids, targets=0)
    np.testing.assert_array_equal(smooth(0, noise=0.0).attributions, plain.attributions)
    ig = kx.IntegratedGradients(conv_text, steps=64, verbose=0)
    np.testing.assert_allclose(smooth(0, 0.0, ig).attributions, ig.explain(text_ids, targets=0).attributions, atol=1e-6)


def test_smoothgrad_noise_is_added_to_the_embeddings(linear_text, text_ids):
    # The gradient of the linear model is the same at every embedding, so noisy
    # embeddings leave it unchanged, and gradient x input averages E + noise.
    table, kernel, _ = _weights(linear_text)
    plain = kx.GradientSaliency(linear_text, verbose=0).explain(text_ids, targets=1)
    smooth = kx.SmoothGrad(
        kx.GradientSaliency(linear_text, verbose=0), samples=16, noise=0.5, random_state=3, verbose=0
    )
    np.testing.assert_allclose(smooth.explain(text_ids, targets=1).attributions, plain.attributions, atol=1e-6)
    times = kx.SmoothGrad(
        kx.GradientSaliency(linear_text, multiply_by_inputs=True, verbose=0),
        samples=4000,
        noise=0.5,
        random_state=3,
        verbose=0,
    ).explain(text_ids[:2], targets=1)
    exact = table[text_ids[:2]] @ kernel[:, 1] / STEPS
    spread = 0.5 * np.ptp(table[text_ids[:2]].reshape(2, -1), axis=1)[:, None]
    # Per token the noise adds w . eps / T, eps ~ N(0, spread^2 I): its mean over 4000 draws has
    # standard deviation spread * |w| / (T sqrt(4000)); 5 of them bound it.
    bound = 5 * spread * np.linalg.norm(kernel[:, 1]) / (STEPS * np.sqrt(4000))
    assert np.all(np.abs(times.attributions - exact) <= bound)
    assert not np.allclose(times.attributions, exact, atol=1e-7)


# -- GradientShap and DeepShap ----------------------------------------------------------


def test_gradientshap_completeness_in_expectation(linear_text, text_ids):
    background = models.token_ids(12, seed=6)
    samples = 400
    e = kx.GradientShap(linear_text, background, samples=samples, random_state=0, verbose=0).explain(
        text_ids, targets=1
    )
    scores = _linear_scores(linear_text, text_ids, 1)
    reference = _linear_scores(linear_text, background, 1)
    np.testing.assert_allclose(e.expected_value, reference.mean(), atol=1e-6)
    # On a linear model each draw adds f(x) - f(r) exactly, whatever alpha: the sum misses
    # f(x) - E f(background) only by the mean of `samples` draws of f(r) around E f, whose
    # standard deviation is std f(background) / sqrt(samples); 4 of them bound it.
    bound = 4 * reference.std() / np.sqrt(samples)
    assert np.all(np.abs(e.attributions.sum(axis=1) - (scores - reference.mean())) <= bound)
    np.testing.assert_allclose(e.additivity_gap, e.attributions.sum(axis=1) - (scores - reference.mean()), atol=1e-6)
    assert e.attributions.shape == text_ids.shape and e.extras["token_space"] == "ids"


def test_deepshap_on_tokens_matches_the_linear_value_and_adds_up(linear_text, conv_text, text_ids):
    table, kernel, _ = _weights(linear_text)
    background = models.token_ids(5, seed=7)
    e = kx.DeepShap(linear_text, background, verbose=0).explain(text_ids, targets=0)
    differences = (table[text_ids][:, None] - table[background][None]).mean(axis=1)
    np.testing.assert_allclose(e.attributions, differences @ kernel[:, 0] / STEPS, atol=1e-6)
    deep = kx.DeepShap(conv_text, background, verbose=0).explain(text_ids)
    scores = conv_text.predict(text_ids, verbose=0)[np.arange(len(text_ids)), deep.targets]
    expected = conv_text.predict(background, verbose=0).mean(axis=0)[deep.targets]
    np.testing.assert_allclose(deep.attributions.sum(axis=1), scores - expected, atol=1e-5)
    assert deep.extras["token_space"] == "ids"


def test_deepshap_on_a_sequential_text_model(text_ids):
    model = models.linear_text_model(sequential=True)
    table, kernel, _ = _weights(model)
    background = models.token_ids(4, seed=10)
    e = kx.DeepShap(model, background, verbose=0).explain(text_ids, targets=2)
    differences = (table[text_ids][:, None] - table[background][None]).mean(axis=1)
    np.testing.assert_allclose(e.attributions, differences @ kernel[:, 2] / STEPS, atol=1e-6)


def test_deepshap_refuses_a_subclassed_text_model(text_ids):
    model = models.SubclassedText(name="reader")
    model(text_ids[:1])
    with pytest.raises(ValueError) as error:
        kx.DeepShap(model, models.token_ids(3, seed=8))
    assert str(error.value) == (
        "model: expected a Sequential or Functional model for DeepShap on token ids, received the "
        "subclassed model 'reader' (SubclassedText), whose call DeepShap cannot see into; use "
        "kx.IntegratedGradients or kx.GradientShap, which explain token ids of any model."
    )


def test_deepshap_refuses_a_masked_embedding():
    with pytest.raises(ValueError) as error:
        kx.DeepShap(models.lstm_text_model(), models.token_ids(3, seed=8))
    assert str(error.value) == (
        "model: expected an Embedding layer without mask_zero for DeepShap, received layer "
        "'tokens' with mask_zero=True, whose mask DeepLIFT's rules do not take; use "
        "kx.IntegratedGradients or kx.GradientShap, which explain token ids of any model."
    )


# -- errors and configuration ------------------------------------------------------------


def test_integer_input_without_an_embedding_is_refused():
    ids = keras.Input((STEPS,), dtype="int32")
    model = keras.Model(ids, keras.layers.Dense(2)(keras.layers.Rescaling(1.0)(ids)), name="counts")
    for build in (kx.GradientSaliency, kx.IntegratedGradients, lambda m: kx.GradientShap(m, models.token_ids(2, 9))):
        with pytest.raises(ValueError) as error:
            build(model)
        assert str(error.value) == (
            "model: expected an Embedding layer to explain a model whose input is integer token ids "
            "(int32), received model 'counts' with none; gradients do not flow into integer ids, so "
            "the gradient methods explain ids through the output of an Embedding layer."
        )


def test_layer_must_be_an_embedding_of_the_model(linear_text):
    with pytest.raises(ValueError) as error:
        kx.IntegratedGradients(linear_text, layer="mean")
    assert str(error.value) == (
        f"layer: expected an Embedding layer of model {linear_text.name!r} to explain token ids through, "
        "received layer 'mean' of type GlobalAveragePooling1D."
    )
    other = keras.layers.Embedding(3, 2)
    with pytest.raises(ValueError, match=r"^layer: expected a layer of model .* which it does not contain\.$"):
        kx.GradientSaliency(linear_text, layer=other)
    with pytest.raises(ValueError) as error:
        kx.GradientSaliency(linear_text, token_reduce="mean")
    assert str(error.value) == (
        "token_reduce: expected 'sum' (one attribution per token) or None (per embedding value), received 'mean'."
    )


def test_baseline_token_needs_token_ids(tanh_mlp, linear_text):
    with pytest.raises(ValueError) as error:
        kx.IntegratedGradients(tanh_mlp, baseline_token=0)
    assert str(error.value) == (
        "baseline_token: expected None unless token ids are explained without a baseline, received 0."
    )
    with pytest.raises(ValueError, match=r"^baseline: expected None, a number, or embeddings of shape \(6, 4\)"):
        kx.IntegratedGradients(linear_text, baseline=np.zeros(6, "float32"), verbose=0).explain(models.token_ids(2, 1))


def test_config_round_trips_with_the_layer(linear_text, text_ids):
    ig = kx.IntegratedGradients(linear_text, steps=4, layer="tokens", baseline_token=0, token_reduce=None)
    config = ig.get_config()
    assert config["layer"] == "tokens" and config["baseline_token"] == 0 and config["token_reduce"] is None
    by_instance = kx.GradientSaliency(linear_text, layer=linear_text.get_layer("tokens"))
    assert by_instance.get_config()["layer"] == "tokens" and by_instance.token_space.dim == DIM
    rebuilt = kx.IntegratedGradients.from_config(config, linear_text)
    assert rebuilt.get_config() == config
    np.testing.assert_array_equal(
        rebuilt.explain(text_ids, verbose=0).attributions, ig.explain(text_ids, verbose=0).attributions
    )
