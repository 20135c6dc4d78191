"""Every registered method x every invariant the engine promises.

A method registered later is covered by adding its `Case` to helpers/method_cases.py;
`test_every_registered_method_has_a_case` fails until it is there.
"""

import numpy as np
import pytest
import tensorflow as tf

import keras_explain as kx

METHODS = kx.available_methods()
#: The documented agreement across batch sizes (absolute, relative): the
#: engine's sums do not depend on batching (test_engine checks them bit for
#: bit), but a model's own float32 pass over a row may differ in its last bits
#: between batch shapes (CPU matrix kernels block by batch size).
BATCH_TOLERANCE = (1e-6, 1e-5)


def _assert_same(a, b, where, tolerance=None):
    """Two explanations with identical attributions, targets, predictions and parts.

    With `tolerance` (absolute, relative), float arrays may differ within it.
    """

    def same(x, y, what):
        if tolerance is None or not np.issubdtype(np.asarray(x).dtype, np.floating):
            np.testing.assert_array_equal(x, y, err_msg=f"{where}: {what}")
        else:
            np.testing.assert_allclose(
                x, y, atol=tolerance[0], rtol=tolerance[1], err_msg=f"{where}: {what}"
            )

    same(a.attributions, b.attributions, "attributions")
    np.testing.assert_array_equal(a.targets, b.targets, err_msg=where)
    same(a.predictions, b.predictions, "predictions")
    assert sorted(a.extras) == sorted(b.extras), where
    for key, value in a.extras.items():
        if isinstance(value, np.ndarray):
            same(value, b.extras[key], key)
        else:
            assert value == b.extras[key], (where, key)


def _explain(case, explainer, x=None, **options):
    """explain() of a case: with its labels (`y`) for a method that explains a dataset."""
    x = case.x if x is None else x
    if case.labels is not None and not isinstance(x, tf.data.Dataset):
        options["y"] = case.labels[: len(x)]
    return explainer.explain(x, **options)


def test_every_registered_method_has_a_case(method_cases):
    assert sorted(method_cases) == METHODS


@pytest.mark.parametrize("name", METHODS)
def test_results_do_not_depend_on_the_batch_size(method_cases, name):
    case = method_cases[name]
    reference = _explain(case, case.build(verbose=0))
    for batch_size in (1, 7, 64):
        again = _explain(case, case.build(batch_size=batch_size, verbose=0))
        _assert_same(reference, again, f"{name} batch_size={batch_size}", BATCH_TOLERANCE)


@pytest.mark.parametrize("name", METHODS)
def test_numpy_tensor_and_dataset_give_the_same_answer(method_cases, name):
    case = method_cases[name]
    explainer = case.build(verbose=0)
    reference = _explain(case, explainer)
    _assert_same(reference, _explain(case, explainer, tf.constant(case.x)), f"{name} tf.Tensor")
    labels = np.zeros(len(case.x)) if case.labels is None else case.labels
    labelled = tf.data.Dataset.from_tensor_slices((case.x, labels)).batch(3)
    _assert_same(reference, explainer.explain(labelled), f"{name} tf.data (x, y)")
    if case.labels is None:  # a dataset of x alone
        batched = tf.data.Dataset.from_tensor_slices(case.x).batch(4)
        _assert_same(reference, explainer.explain(batched), f"{name} tf.data")


@pytest.mark.parametrize("name", METHODS)
def test_a_second_call_and_a_new_row_count_do_not_retrace(method_cases, name):
    case = method_cases[name]
    explainer = case.build(batch_size=5, verbose=0)
    _explain(case, explainer)
    traces = explainer.trace_count
    assert traces >= 1
    _explain(case, explainer)
    _explain(case, explainer, case.x[:3])
    assert explainer.trace_count == traces


@pytest.mark.parametrize("name", METHODS)
def test_the_same_random_state_gives_identical_results(method_cases, name):
    case = method_cases[name]
    first = _explain(case, case.build(verbose=0))
    _assert_same(first, _explain(case, case.build(verbose=0)), name)
    if case.seeded:
        other = _explain(case, case.build(random_state=99, verbose=0))
        assert not np.array_equal(first.attributions, other.attributions), name


@pytest.mark.parametrize("name", METHODS)
def test_reseeded_explains_as_the_rebuilt_explainer_without_tracing_again(method_cases, name):
    case = method_cases[name]
    explainer = case.build(verbose=0)
    if not case.seeded:
        with pytest.raises(ValueError) as error:
            explainer.reseeded(3)
        assert str(error.value) == (
            f"random_state: expected no seed: {type(explainer).__name__} draws nothing at random, received 3."
        )
        return
    first = _explain(case, explainer)
    traces = explainer.trace_count
    copy = explainer.reseeded(99)
    rebuilt = type(explainer).from_config({**explainer.get_config(), "random_state": 99}, explainer.model)
    again = _explain(case, copy)
    _assert_same(again, _explain(case, rebuilt), f"{name} reseeded")
    assert copy.get_config()["random_state"] == 99 and explainer.get_config()["random_state"] != 99
    assert copy.trace_count == explainer.trace_count == traces
    _assert_same(first, _explain(case, explainer), f"{name} after reseeded")


@pytest.mark.parametrize("name", METHODS)
def test_config_and_file_round_trips(method_cases, name, tmp_path):
    case = method_cases[name]
    explainer = case.build(verbose=0)
    config = explainer.get_config()
    rebuilt = type(explainer).from_config(config, explainer.model)
    assert repr(rebuilt) == repr(explainer)
    e = _explain(case, explainer)
    _assert_same(e, _explain(case, rebuilt), f"{name} from_config")
    loaded = kx.Explanation.load(e.save(tmp_path / name))
    _assert_same(e, loaded, f"{name} save/load")
    assert loaded.method == e.method == name
    assert loaded.config == e.config
    assert {k: type(v).__name__ for k, v in loaded.parts.items()} == {
        k: type(v).__name__ for k, v in e.parts.items()
    }


@pytest.mark.parametrize("name", METHODS)
def test_bad_examples_and_targets_are_refused(method_cases, name):
    case = method_cases[name]
    explainer = case.build(verbose=0)
    x = case.x.copy()
    x[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"^(x|rows): expected finite values.*(row 1|index \(1, 0)"):
        _explain(case, explainer, x)
    with pytest.raises(ValueError, match=r"^(x|rows): expected .*shape"):
        _explain(case, explainer, case.x[0])
    outputs = explainer.predict(case.x[:1]).shape[1]
    if case.labels is None:  # a dataset method has labels, not targets
        with pytest.raises(ValueError, match=rf"^targets: expected .*{outputs - 1}.*received {outputs}"):
            explainer.explain(case.x, targets=outputs)
    else:
        with pytest.raises(ValueError, match=r"^y: expected one label per row"):
            explainer.explain(case.x, y=case.labels[:2])
