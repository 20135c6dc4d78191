"""The command on token ids: a `.npy` of ids for a saved Embedding model, explained as in Python."""

import types

import keras
import numpy as np
import pytest
from helpers import models

import keras_explain as kx
from keras_explain import cli

PREFIX = "keras-explain: error: "
WORDS = [f"w{k}" for k in range(models.TEXT_VOCABULARY)]


def _save(root, name, sequential=False):
    path = root / name
    models.linear_text_model(sequential=sequential).save(path)
    return path, keras.saving.load_model(path)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The linear token-id model (int32 input) and its Sequential twin (float32 input), saved; padded ids."""
    root = tmp_path_factory.mktemp("ids")
    ids = models.token_ids(5, seed=3, padded=True).astype(np.int64)  # what np.array(...) of ints gives
    np.save(root / "ids.npy", ids)
    files = {"functional": _save(root, "ids.keras"), "sequential": _save(root, "ids_seq.keras", sequential=True)}
    return types.SimpleNamespace(root=root, ids=ids, files=files)


def _run(saved, model, method, *extra, capsys, inputs="ids.npy"):
    out = saved.root / f"{model}_{method}_{inputs.replace('.', '_')}"
    argv = ["explain", str(saved.files[model][0]), str(saved.root / inputs), "--method", method]
    code = cli.main(argv + list(extra) + ["--out", str(out), "--format", "npz,html"])
    captured = capsys.readouterr()
    return code, captured, out


def _explained(saved, model, method, *extra, capsys):
    code, captured, out = _run(saved, model, method, *extra, capsys=capsys)
    assert code == 0, captured.err
    return kx.Explanation.load(out / f"{method}.npz"), captured.out, out


def test_lime_text_on_ids_matches_python(saved, capsys):
    vocabulary = f"vocabulary={WORDS!r}"
    e, printed, out = _explained(
        saved, "functional", "lime_text", "--num-samples", "300", "--seed", "4", "--option", vocabulary, capsys=capsys
    )
    model = saved.files["functional"][1]
    expected = kx.LimeText(model, num_samples=300, random_state=4, vocabulary=WORDS, verbose=0).explain(saved.ids)
    np.testing.assert_array_equal(e.attributions, expected.attributions)
    np.testing.assert_array_equal(e.targets, np.argmax(model.predict(saved.ids, verbose=0), axis=1))
    # The ids reach the method as the model's int32, not as the float32 that .npy inputs are read in.
    assert "5 inputs (N, 6) int32" in printed and e.inputs.dtype == expected.inputs.dtype == np.int64
    np.testing.assert_array_equal(e.inputs, saved.ids)
    # Words: the distinct non-padding ids of each row in order of first appearance, named by the vocabulary.
    for i, row in enumerate(saved.ids):
        distinct = list(dict.fromkeys(int(v) for v in row if v != 0))
        assert e.tokens[i] == expected.tokens[i] == [WORDS[v] for v in distinct]
        assert int(e.num_tokens[i]) == len(distinct)
        assert not np.any(e.attributions[i, len(distinct) :])
    page = (out / "lime_text.html").read_text(encoding="utf-8")
    assert page.count('class="kx-tokens"') == len(saved.ids) and f">{WORDS[int(saved.ids[0, 0])]}</span>" in page


@pytest.mark.parametrize("model, dtype", [("functional", np.int32), ("sequential", np.float32)])
def test_integrated_gradients_on_ids_matches_python_and_the_weights(saved, model, dtype, capsys):
    e, printed, _ = _explained(saved, model, "integrated_gradients", "--option", "steps=8", capsys=capsys)
    loaded = saved.files[model][1]
    expected = kx.IntegratedGradients(loaded, steps=8, verbose=0).explain(saved.ids)
    np.testing.assert_allclose(e.attributions, expected.attributions, rtol=0, atol=1e-6)
    # Linear in the embeddings: IG_t = w_target . E[id_t] / T from a zero embedding.
    table = loaded.get_layer("tokens").embeddings.numpy()
    kernel = loaded.get_layer("head").get_weights()[0]
    analytic = np.einsum("ntd,dn->nt", table[saved.ids], kernel[:, e.targets]) / models.TEXT_STEPS
    np.testing.assert_allclose(e.attributions, analytic, atol=1e-6)
    assert e.extras["token_space"] == "ids" and e.attributions.shape == saved.ids.shape
    # A model declaring integer ids gets them in its dtype; one declaring floats, as before.
    assert e.inputs.dtype == dtype and f"5 inputs (N, 6) {np.dtype(dtype).name}" in printed
    np.testing.assert_array_equal(e.inputs, saved.ids)


def test_ids_that_are_not_exact_integers_are_refused(saved, capsys):
    fractional = saved.ids.astype(np.float64)
    fractional[1, 2] = 3.5
    np.save(saved.root / "fractional.npy", fractional)
    large = saved.ids.copy()
    large[2, 4] = 2**24 + 1  # float32 reads it as 2**24
    np.save(saved.root / "large.npy", large)
    cases = {
        "fractional.npy": "whole-number token ids for a model taking int32, received 3.5 in fractional.npy[1].",
        "large.npy": "token ids of magnitude below 16777216 (read as float32), received 16777216 in large.npy[2].",
    }
    for name, message in cases.items():
        code, captured, out = _run(saved, "functional", "integrated_gradients", capsys=capsys, inputs=name)
        assert code == 2
        assert captured.err.strip().splitlines()[-1] == f"{PREFIX}INPUT: expected {message}"
        assert not out.exists()


def test_num_samples_auto_from_the_command_line(saved, capsys):
    e, _, _ = _explained(saved, "functional", "lime_text", "--num-samples", "auto", "--seed", "4", capsys=capsys)
    model = saved.files["functional"][1]
    expected = kx.LimeText(model, num_samples="auto", random_state=4, verbose=0).explain(saved.ids)
    np.testing.assert_array_equal(e.attributions, expected.attributions)
    np.testing.assert_array_equal(e.extras["samples_used"], expected.samples_used)
    code, captured, _ = _run(saved, "functional", "lime_text", "--num-samples", "many", capsys=capsys)
    assert code == 2 and "--num-samples: invalid sample_count value: 'many'" in captured.err
