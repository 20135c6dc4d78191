"""RandomizationSanity on a trained CNN: the maps change, the user's model does not."""

import numpy as np
import pytest

import keras_explain as kx
from keras_explain import metrics
from keras_explain.metrics.statistics import rank_correlation


@pytest.fixture(scope="module")
def trained(quadrant_task):
    model, x, y, accuracy = quadrant_task
    assert accuracy > 0.9
    return model, x[:12], y[:12]


def test_saliency_of_a_trained_cnn_decorrelates_under_cascading_randomization(trained):
    model, x, y = trained
    before = [w.copy() for w in model.get_weights()]
    predictions = model.predict(x, verbose=0)
    e = kx.GradientSaliency(model).explain(x, targets=y)
    result = metrics.RandomizationSanity(random_state=0)(model, None, e)
    head, first = model.layers[-1].name, model.layers[1].name  # names Keras numbered
    assert result.layers == [head, "last_conv", first]
    assert result.correlations.shape == (len(x), 3)
    np.testing.assert_array_equal(result.scores, result.correlations[:, -1])
    # Each map correlates perfectly with itself; after randomization little is left.
    assert all(rank_correlation(np.abs(m), np.abs(m)) == 1.0 for m in e.attributions[..., 0])
    assert np.all(result.correlations.mean(axis=0) < 0.5)
    assert not result.higher_is_better
    # The user's model: weights bit-identical, the same outputs, the explanation unchanged.
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(model.predict(x, verbose=0), predictions)
    again = kx.GradientSaliency(model).explain(x, targets=y)
    np.testing.assert_array_equal(again.attributions, e.attributions)


def test_the_correlations_are_the_spearman_correlations_of_re_explanations(trained):
    model, x, y = trained
    e = kx.GradientSaliency(model).explain(x[:4], targets=y[:4])
    head_name = model.layers[-1].name
    result = metrics.RandomizationSanity(layers=[head_name], absolute=False, random_state=5)(model, None, e)
    assert result.layers == [head_name]
    # By hand: the same re-initialisation of the head on a copy, then saliency again.
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    rng = np.random.default_rng(5)
    head = copy.get_layer(head_name)
    for weight in head.trainable_weights:
        values = weight.numpy()
        weight.assign(rng.normal(0.0, values.std() or 1 / np.sqrt(values.size), values.shape).astype(values.dtype))
    redone = kx.GradientSaliency(copy).explain(x[:4], targets=y[:4]).attributions[..., 0]
    expected = [rank_correlation(a, b) for a, b in zip(e.attributions[..., 0], redone)]
    np.testing.assert_allclose(result.scores, expected, atol=1e-12)


def test_the_explainer_config_is_kept(trained):
    model, x, y = trained
    ig = kx.IntegratedGradients(model, steps=6, batch_size=32)
    e = ig.explain(x[:3], targets=y[:3])
    chosen = [model.layers[1].name, model.layers[-1].name]
    result = metrics.RandomizationSanity(layers=chosen)(model, None, e)
    assert result.layers == chosen[::-1]  # from the output down, whatever the order given
    named = metrics.RandomizationSanity(explainer="integrated_gradients", method_options={"steps": 6}, layers=chosen)
    np.testing.assert_allclose(named(model, x[:3], e.attributions, targets=y[:3]).scores, result.scores, atol=1e-6)


def test_randomization_errors(trained, linear_models, rows):
    model, x, y = trained
    a = kx.GradientSaliency(model).explain(x[:2]).attributions
    with pytest.raises(ValueError) as error:
        metrics.RandomizationSanity()(model, x[:2], a)
    assert str(error.value) == (
        "explainer: expected an explainer instance or a method name, since RandomizationSanity re-explains "
        "inputs and the attributions came as an array; received None."
    )
    with pytest.raises(ValueError) as error:
        metrics.RandomizationSanity(explainer="saliency", layers=["nope"])(model, x[:2], a)
    assert str(error.value).startswith("layers: expected the name of a layer in model")
    with pytest.raises(ValueError) as error:
        metrics.RandomizationSanity(layers="last_conv")
    assert str(error.value) == "layers: expected None or a list of layer names, received 'last_conv'."
    subclassed = linear_models["subclassed"]
    e = kx.GradientSaliency(subclassed).explain(rows[:2])
    with pytest.raises(ValueError) as error:
        metrics.RandomizationSanity()(subclassed, None, e)
    assert str(error.value).startswith("model: expected a model keras.models.clone_model can copy")
