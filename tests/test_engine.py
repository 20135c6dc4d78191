"""The shared engine: batching, input types, compiling, targets, outputs, registry."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_explain as kx
from keras_explain.engine.batching import collect_groups, expand_rows, iterate_groups, segment_sums
from keras_explain.engine.registry import methods_taking_several_inputs


def _explainers(model, cnn=False):
    made = {
        "saliency": kx.GradientSaliency(model, multiply_by_inputs=True),
        "ig": kx.IntegratedGradients(model, steps=9),
        "smoothgrad": kx.SmoothGrad(kx.GradientSaliency(model), samples=5, random_state=0),
        "smooth_ig": kx.SmoothGrad(
            kx.IntegratedGradients(model, steps=4), samples=3, random_state=0, mode="variance"
        ),
    }
    if cnn:
        made["gradcam"] = kx.GradCAM(model)
    return made


@pytest.mark.parametrize("batch_size", [1, 3, 7, 64])
def test_results_do_not_depend_on_batch_size(small_cnn, images, batch_size):
    reference = {name: e.explain(images) for name, e in _explainers(small_cnn, cnn=True).items()}
    for name, explainer in _explainers(small_cnn, cnn=True).items():
        explainer.batch_size = batch_size
        got = explainer.explain(images)
        scale = np.abs(reference[name].attributions).max()
        np.testing.assert_allclose(got.attributions, reference[name].attributions, atol=1e-5 * scale, err_msg=name)
        np.testing.assert_array_equal(got.targets, reference[name].targets)


def test_input_types_give_identical_results(tanh_mlp, rows):
    explainer = kx.IntegratedGradients(tanh_mlp, steps=5)
    reference = explainer.explain(rows)
    labels = np.zeros(len(rows))
    variants = {
        "tensor": tf.constant(rows),
        "float64": rows.astype("float64"),
        "list": rows.tolist(),
        "batched dataset": tf.data.Dataset.from_tensor_slices(rows).batch(4),
        "unbatched dataset": tf.data.Dataset.from_tensor_slices(rows),
        "(x, y) dataset": tf.data.Dataset.from_tensor_slices((rows, labels)).batch(3),
    }
    for name, x in variants.items():
        got = explainer.explain(x)
        np.testing.assert_allclose(got.attributions, reference.attributions, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(got.inputs, rows, atol=1e-6, err_msg=name)


def test_pandas_dataframe_input(linear_model, rows):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(rows, columns=[f"f{i}" for i in range(rows.shape[1])])
    e = kx.GradientSaliency(linear_model).explain(frame)
    np.testing.assert_array_equal(e.inputs, rows)


def test_compiled_once_per_kind(small_cnn, images):
    for name, explainer in _explainers(small_cnn, cnn=True).items():
        explainer.batch_size = 4
        explainer.explain(images)
        first = explainer.trace_count
        explainer.explain(images[:5])
        explainer.batch_size = 3
        explainer.explain(images)
        assert explainer.trace_count == first, name
        # Saliency and Grad-CAM trace one step; the others a forward and an attribution step.
        assert first == (1 if name in ("saliency", "gradcam") else 2), name


def test_run_eagerly_matches_compiled(small_cnn, images):
    compiled = kx.IntegratedGradients(small_cnn, steps=6).explain(images)
    eager = kx.IntegratedGradients(small_cnn, steps=6, run_eagerly=True)
    np.testing.assert_allclose(eager.explain(images).attributions, compiled.attributions, atol=1e-6)
    assert eager.trace_count == 0


@pytest.mark.parametrize("samples,group_size,batch_size", [(1, 1, 4), (6, 6, 4), (6, 2, 5), (12, 3, 1), (5, 5, 64)])
def test_group_sums_match_brute_force(samples, group_size, batch_size):
    n = 7
    data = np.arange(n * 3, dtype="float32").reshape(n, 3)
    seen = []

    def step(feed):
        feed = expand_rows(feed)
        seen.append(len(feed["segment"]))
        value = tf.gather(data, feed["example_index"]) * tf.cast(feed["pair_index"] + 1, tf.float32)[:, None]
        return segment_sums({"v": value}, tf.constant(feed["segment"]))

    groups = iterate_groups(step, {"unused": data}, n, samples, group_size, batch_size)
    got = collect_groups(groups, n * samples // group_size)["v"]
    expected = np.stack(
        [
            sum(data[p // samples] * (p % samples + 1) for p in range(g * group_size, (g + 1) * group_size))
            for g in range(n * samples // group_size)
        ]
    )
    np.testing.assert_allclose(got, expected)
    assert max(seen) <= batch_size and sum(seen) == n * samples


def test_targets_int_and_array(linear_model, rows):
    explainer = kx.GradientSaliency(linear_model)
    np.testing.assert_array_equal(explainer.explain(rows, targets=2).targets, np.full(len(rows), 2))
    chosen = np.arange(len(rows)) % 3
    np.testing.assert_array_equal(explainer.explain(rows, targets=chosen).targets, chosen)


def test_multi_output_model_by_name_and_index(rows):
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(4, activation="tanh")(inputs)
    first = keras.layers.Dense(3, name="kind")(hidden)
    second = keras.layers.Dense(1, name="size")(hidden)
    model = keras.Model(inputs, [first, second])
    by_name = kx.GradientSaliency(model, output="size").explain(rows)
    by_index = kx.GradientSaliency(model, output=1).explain(rows)
    np.testing.assert_allclose(by_name.attributions, by_index.attributions)
    np.testing.assert_allclose(by_name.predictions[:, 0], model(rows)[1].numpy()[:, 0], atol=1e-6)
    np.testing.assert_array_equal(by_name.targets, np.zeros(len(rows)))
    kind = kx.IntegratedGradients(model, output="kind", steps=4).explain(rows)
    np.testing.assert_array_equal(kind.targets, np.argmax(model(rows)[0].numpy(), axis=1))
    with pytest.raises(ValueError) as error:
        kx.GradientSaliency(model).explain(rows)
    assert str(error.value) == (
        "output: the model returns 2 outputs; expected output= an index or a name, received None."
    )
    with pytest.raises(ValueError) as error:
        kx.GradientSaliency(model, output="colour")
    assert str(error.value) == (
        "output: expected one of the model's output names 'kind', 'size', received 'colour'."
    )


def _two_input_linear():
    """y = concat(a, b) W + c: a model with inputs a (N, 3) and b (N, 2, 2)."""
    a = keras.Input((3,), name="a")
    b = keras.Input((2, 2), name="b")
    joined = keras.layers.Concatenate()([a, keras.layers.Flatten()(b)])
    model = keras.Model([a, b], keras.layers.Dense(4)(joined))
    kernel = np.random.default_rng(9).normal(size=(7, 4)).astype("float32")
    model.layers[-1].set_weights([kernel, np.zeros(4, "float32")])
    return model, kernel


def test_models_with_several_inputs(tmp_path):
    model, kernel = _two_input_linear()
    rng = np.random.default_rng(10)
    xa = rng.normal(size=(5, 3)).astype("float32")
    xb = rng.normal(size=(5, 2, 2)).astype("float32")
    e = kx.GradientSaliency(model, batch_size=2).explain([xa, xb], targets=[0, 1, 2, 3, 0])
    # A linear model's gradients are its weights, split and shaped per input.
    np.testing.assert_allclose(e.attributions[0], kernel[:3, e.targets].T, atol=1e-6)
    np.testing.assert_allclose(e.attributions[1], kernel[3:, e.targets].T.reshape(5, 2, 2), atol=1e-6)
    by_name = kx.GradientSaliency(model, multiply_by_inputs=True).explain({"b": xb, "a": xa})
    np.testing.assert_array_equal(by_name.targets, np.argmax(model([xa, xb]).numpy(), axis=1))
    np.testing.assert_allclose(by_name.attributions[0], kernel[:3, by_name.targets].T * xa, atol=1e-6)
    same = kx.Explanation.load(e.save(tmp_path / "two"))
    assert same.multi_input and len(same) == 5
    for got, want in zip(same.attributions + same.inputs, e.attributions + [xa, xb]):
        np.testing.assert_array_equal(got, want)
    messages = {
        "x": (lambda: kx.GradientSaliency(model).explain(xa)),
        "rows": (lambda: kx.GradientSaliency(model).explain([xa, xb[:2]])),
        "keys": (lambda: kx.GradientSaliency(model).explain({"a": xa})),
        "method": (lambda: kx.IntegratedGradients(model)),
        "view": (lambda: e.heatmap()),
    }
    for key, call in messages.items():
        with pytest.raises(ValueError) as error:
            call()
        messages[key] = str(error.value)
    assert messages == {
        "x": "x: expected a list of 2 arrays, one per model input (a, b), received an array of "
        "shape (5, 3) and dtype float32.",
        "rows": "x: expected the same number of rows for every model input, received 5, 2.",
        "keys": "x: expected a dict with the model's inputs 'a', 'b', received keys 'a'.",
        "method": "model: expected a model with a single input for IntegratedGradients, received "
        "a model with 2 inputs (a, b); " + ", ".join(methods_taking_several_inputs())
        + " explain models with several inputs.",
        "view": "heatmap: expected the explanation of a model with one input, received one of a "
        "model with 2 inputs; use e.attributions[k] for input k.",
    }


def test_registry_and_one_call_form(tanh_mlp, rows):
    assert kx.available_methods() == [
        "deepshap", "feature_ablation", "gradcam", "gradcam_plus_plus", "gradientshap",
        "integrated_gradients", "kernel_shap", "lime_image", "lime_tabular", "lime_text", "occlusion",
        "permutation_importance", "saliency", "smoothgrad",
    ]
    direct = kx.IntegratedGradients(tanh_mlp, steps=12, baseline=0.1).explain(rows)
    by_alias = kx.explain(tanh_mlp, rows, method="ig", steps=12, baseline=0.1)
    np.testing.assert_allclose(by_alias.attributions, direct.attributions, atol=1e-6)
    assert by_alias.method == "integrated_gradients"
    smooth = kx.explain(tanh_mlp, rows, method="smoothgrad", explainer="ig", steps=3, samples=2, random_state=1)
    manual = kx.SmoothGrad(kx.IntegratedGradients(tanh_mlp, steps=3), samples=2, random_state=1).explain(rows)
    np.testing.assert_allclose(smooth.attributions, manual.attributions, atol=1e-6)
    with pytest.raises(ValueError) as error:
        kx.explain(tanh_mlp, rows, method="magic")
    assert str(error.value) == (
        "method: expected one of 'deepshap', 'feature_ablation', 'gradcam', 'gradcam_plus_plus', "
        "'gradientshap', 'integrated_gradients', 'kernel_shap', 'lime_image', 'lime_tabular', "
        "'lime_text', 'occlusion', 'permutation_importance', 'saliency', 'smoothgrad', received 'magic'."
    )
    with pytest.raises(ValueError) as error:
        kx.explain(tanh_mlp, rows, method="saliency", steps=3)
    assert str(error.value) == (
        "options: method 'saliency' takes absolute, batch_size, layer, multiply_by_inputs, output, "
        "run_eagerly, token_reduce, verbose; received unknown option(s) steps."
    )


def test_get_config_round_trips(small_cnn):
    for name, explainer in _explainers(small_cnn, cnn=True).items():
        config = explainer.get_config()
        rebuilt = type(explainer).from_config(config, small_cnn)
        assert rebuilt.get_config() == config, name


def test_explain_does_not_mutate_the_explainer(tanh_mlp, rows):
    explainer = kx.IntegratedGradients(tanh_mlp, steps=5, baseline=0.25)
    before = explainer.get_config()
    explainer.explain(rows, baseline=np.ones(5, "float32"))
    assert explainer.get_config() == before


def test_refuses_another_backend(monkeypatch, linear_model):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(RuntimeError) as error:
        kx.GradientSaliency(linear_model)
    assert str(error.value) == (
        "keras_explain needs the TensorFlow backend of Keras, but Keras is running on 'jax'. "
        "Set the environment variable KERAS_BACKEND=tensorflow before importing keras."
    )


def test_memory_is_bounded_by_batch_size(small_cnn, images, monkeypatch):
    """No step call ever sees more than batch_size rows, however many samples."""
    for explainer in _explainers(small_cnn, cnn=True).values():
        explainer.batch_size = 5
        seen = []
        original = explainer._step.__call__

        def spy(kind, tensors, original=original):
            seen.append(max(len(v) for v in expand_rows(tensors).values()))
            return original(kind, tensors)

        monkeypatch.setattr(explainer, "_step", spy)
        explainer.explain(images)
        assert max(seen) == 5


def test_group_sums_are_bit_identical_for_every_batch_size():
    """Sums are taken in float64 and rounded once: batching leaves no trace in them."""
    rng = np.random.default_rng(11)
    n, pairs = 5, 50
    values = rng.normal(size=(n * pairs, 4)).astype("float32") * np.float32(1e3)

    def step(feed):
        feed = expand_rows(feed)
        index = feed["example_index"] * pairs + feed["pair_index"]
        return segment_sums({"v": tf.gather(values, index)}, tf.constant(feed["segment"]))

    results = [
        collect_groups(iterate_groups(step, {"unused": values[:n]}, n, pairs, None, size), n)["v"]
        for size in (1, 7, 64, 333)
    ]
    assert results[0].dtype == np.float32
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
    exact = values.astype(np.float64).reshape(n, pairs, 4).sum(axis=1).astype(np.float32)
    np.testing.assert_array_equal(results[0], exact)


def test_plan_subset_takes_the_chosen_examples_of_every_part():
    from keras_explain.engine.plan import Plan

    x = tf.constant(np.arange(12, dtype="float32").reshape(4, 3))
    plan = Plan(
        x=[x, x * 10], targets=np.array([0, 1, 2, 3]), predictions=np.eye(4), pairs=2,
        per_example={"seed": np.array([5, 6, 7, 8]), "row": x}, per_pair={"mask": np.arange(8)},
        per_pair_index={"alpha": np.array([0.25, 0.75])}, extras={"kept": 1},
    )
    part = plan.subset(np.array([3, 1]))
    np.testing.assert_array_equal(part.x[0].numpy(), x.numpy()[[3, 1]])
    np.testing.assert_array_equal(part.x[1].numpy(), 10 * x.numpy()[[3, 1]])
    np.testing.assert_array_equal(part.targets, [3, 1])
    np.testing.assert_array_equal(part.predictions, np.eye(4)[[3, 1]])
    np.testing.assert_array_equal(part.per_example["seed"], [8, 6])
    np.testing.assert_array_equal(part.per_example["row"].numpy(), x.numpy()[[3, 1]])
    np.testing.assert_array_equal(part.per_pair["mask"], [6, 7, 2, 3])
    assert part.per_pair_index is plan.per_pair_index and part.extras == {"kept": 1} and part.pairs == 2


def test_pair_below_equals_uniforms_below_the_probability():
    """The subsets compared on the bits are those of the uniforms, at every edge of the threshold."""
    from keras_explain.engine.random import pair_below, pair_uniforms, philox_words

    seed, first = tf.constant(5, tf.int64), tf.constant(3, tf.int64)
    # A batch reads its part of one stream: the words of pairs 3 ... 9 whether or not 0 ... 2 come first.
    for size in (1, 3, 4, 81):
        whole = philox_words(seed, tf.constant(0, tf.int64), 10, size).numpy()
        np.testing.assert_array_equal(whole[3:], philox_words(seed, first, 7, size).numpy())
        assert len(np.unique(whole)) == whole.size
    uniforms = pair_uniforms(seed, first, 3000, 81).numpy()
    step = 2.0**-23
    for probability in (0.0, 0.2, 0.5, 1 / 3, 0.999999, 1.0, 1.5 * step, 2.5 * step, 2 * step, 1 - 0.5 * step):
        below = pair_below(seed, first, 3000, 81, probability).numpy()
        np.testing.assert_array_equal(below, uniforms < np.float32(probability))
    # A uniform lands exactly on the threshold: strictly below leaves it out.
    value = float(uniforms[7, 11])
    assert not pair_below(seed, first, 3000, 81, value).numpy()[7, 11]
    assert pair_below(seed, first, 3000, 81, np.nextafter(np.float32(value), np.float32(1))).numpy()[7, 11]
