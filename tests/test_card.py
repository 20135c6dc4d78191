"""What a card states, computed from a hand-built explanation-like object."""

import json

import numpy as np
import pytest

from keras_explain.render import card


class _Explained:
    """The attributes the card functions read, and nothing else."""

    def __init__(self, attributions, inputs, targets, predictions, **extras):
        self.attributions = np.asarray(attributions)
        self.inputs = np.asarray(inputs)
        self.targets = np.asarray(targets)
        self.predictions = np.asarray(predictions)
        self.extras = dict(extras)

    def __len__(self):
        return len(self.targets)


def _table(**extras):
    return _Explained(
        attributions=[[0.5, -2.0, 0.0, 1.0, -0.25, 3.0], [0.1, -0.1, 0.3, 0.0, 0.0, 0.0]],
        inputs=[[1.0, 2.5, 0.0, 1 / 3, 4.0, 12345.678], [0.0] * 6],
        targets=[2, 0],
        predictions=[[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]],
        feature_names=["age", "bmi", "sex", "bp", "s1", "s2"],
        **extras,
    )


def test_top_features_by_absolute_weight_with_names_and_input_values():
    rows = card.top_features(_table(), 0, top_k=4)
    assert [row["index"] for row in rows] == [5, 1, 3, 0]
    assert [row["label"] for row in rows] == ["s2", "bmi", "bp", "age"]
    assert [row["name"] for row in rows] == ["s2", "bmi", "bp", "age"]
    assert [row["weight"] for row in rows] == [3.0, -2.0, 1.0, 0.5]
    # Values are the inputs with 4 significant digits.
    assert [row["value"] for row in rows] == ["1.235e+04", "2.5", "0.3333", "1"]
    # Equal |weight| keeps column order: 0.1 (column 0) before -0.1 (column 1).
    second = card.top_features(_table(), 1, top_k=None)
    assert [row["index"] for row in second] == [2, 0, 1, 3, 4, 5]
    assert [row["value"] for row in second][:3] == ["0", "0", "0"]


def test_top_features_use_lime_labels_values_and_selection():
    e = _table(
        feature_labels=[[f"f{j} > {j}" for j in range(6)], [f"g{j}" for j in range(6)]],
        feature_values=[[f"v{j}" for j in range(6)], [f"w{j}" for j in range(6)]],
        used=[[True, True, False, False, True, False], [False] * 6],
    )
    rows = card.top_features(e, 0)
    assert [(row["label"], row["value"], row["weight"]) for row in rows] == [
        ("f1 > 1", "v1", -2.0),
        ("f0 > 0", "v0", 0.5),
        ("f4 > 4", "v4", -0.25),
    ]
    assert [row["name"] for row in rows] == ["bmi", "age", "s1"]
    assert card.top_features(e, 1) == []
    everything = card.top_features(e, 0, top_k=2, used_only=False)
    assert [row["label"] for row in everything] == ["f5 > 5", "f1 > 1"]
    named = card.top_features(e, 0, top_k=1, used_only=False, names=list("abcdef"))
    assert named[0]["name"] == "f" and named[0]["label"] == "f5 > 5"


def test_prediction_summary_names_the_predicted_and_the_explained_output():
    summary = card.prediction_summary(_table(), 0, class_names=["cat", "dog", "bird"], top=2)
    assert summary["predicted"] == 1 and summary["predicted_name"] == "dog"
    assert summary["score"] == pytest.approx(0.7)
    assert summary["target"] == 2 and summary["target_name"] == "bird"
    assert summary["target_score"] == pytest.approx(0.2)
    assert summary["output"] is None
    assert [(t["output"], t["name"]) for t in summary["top"]] == [(1, "dog"), (2, "bird")]
    assert [t["score"] for t in summary["top"]] == pytest.approx([0.7, 0.2])
    # A tie for second place keeps output order; no names gives None.
    tied = card.prediction_summary(_table(), 1, top=3)
    assert [t["output"] for t in tied["top"]] == [0, 1, 2]
    assert tied["predicted_name"] is None and tied["target_name"] is None


def test_prediction_summary_of_one_output_and_of_no_prediction_table():
    single = _Explained([[1.0, 2.0]], [[0.0, 0.0]], [0], [[-3.5]])
    summary = card.prediction_summary(single, 0)
    assert summary["output"] == -3.5 and summary["target_score"] == -3.5
    assert summary["predicted"] is None and summary["score"] is None and summary["top"] == []
    flat = _Explained([[1.0]], [[0.0]], [4], [0.3])
    summary = card.prediction_summary(flat, 0, class_names=["a"])
    assert summary["target"] == 4 and summary["target_name"] is None
    assert summary["target_score"] is None and summary["output"] is None


def test_prediction_kind_reads_the_whole_batch():
    assert card.prediction_kind([[0.1, 0.9], [0.5, 0.5]]) == "probability"
    assert card.prediction_kind([[0.1, 0.9], [0.5, 0.6]]) == "score"
    assert card.prediction_kind([[-0.1, 1.1]]) == "score"
    assert card.prediction_kind([[2.0], [3.0]]) == "output"
    assert card.prediction_kind([0.2, 0.3]) is None


def test_checks_take_the_scalar_parts_in_their_order():
    e = _table(
        score=np.array([0.5, 0.25]),
        completeness_gap=np.array([-0.01, 0.02], dtype="float32"),
        intercept=np.array([[0.75, 9.0], [0.125, 9.0]]),
        additivity_gap=np.array([1.0, 2.0, 3.0]),  # not one per example
        local_pred=np.array(["a", "b"]),  # not numbers
    )
    checks = card.example_checks(e, 1)
    assert list(checks) == ["completeness_gap", "score", "intercept"]
    assert checks["completeness_gap"] == pytest.approx(0.02)
    assert checks["score"] == 0.25 and checks["intercept"] == 0.125
    assert card.SCALAR_PARTS["score"] == "surrogate R²"
    assert card.scalar_part(e, "additivity_gap") is None
    np.testing.assert_array_equal(card.scalar_part(e, "intercept"), [0.75, 0.125])


def test_example_summary_is_json_ready():
    e = _table(
        class_names=["cat", "dog", "bird"],
        input_names=["first", "second"],
        completeness_gap=np.array([-0.5, 0.0]),
        score=np.array([0.9, 0.1]),
    )
    row = card.example_summary(e, 0, top=2)
    assert json.loads(json.dumps(row)) == row
    assert row["input"] == "first" and row["note"] is None
    assert row["target"] == 2 and row["target_name"] == "bird"
    assert row["predicted"] == 1 and row["predicted_name"] == "dog"
    assert row["score"] == pytest.approx(0.7)  # the predicted output's; the part does not replace it
    assert row["attribution_sum"] == pytest.approx(2.25)
    assert row["completeness_gap"] == -0.5
    assert [t["name"] for t in row["top"]] == ["dog", "bird"]
    assert [f["feature"] for f in row["features"]] == ["s2", "bmi", "bp", "age", "s1", "sex"]
    single = _Explained([[1.0, 2.0]], [[0.0, 0.0]], [0], [[-3.5]], score=np.array([0.4]))
    row = card.example_summary(single, 0, class_names=["value"])
    assert row["input"] == "#0" and row["output"] == -3.5 and row["score"] == 0.4
    assert "predicted" not in row and row["target_name"] == "value"


def test_names_labels_and_numbers():
    e = _table(input_names=["a", "b"])
    assert card.resolve_names(e, "input_names", None, 2) == ["a", "b"]
    assert card.resolve_names(e, "input_names", (1, 2), 2) == ["1", "2"]
    assert card.resolve_names(e, "input_notes", None, 2) is None
    with pytest.raises(ValueError) as error:
        card.resolve_names(e, "class_names", ["x"], 3)
    assert str(error.value) == "class_names: expected 3 names, one per output, received 1."
    with pytest.raises(ValueError) as error:
        card.resolve_names(e, "input_names", "ab", 2)
    assert str(error.value) == "input_names: expected a list of 2 names, received a str."
    assert card.output_label(2, ["a", "b", "c"]) == "2 'c'" and card.output_label(3, ["a"]) == "3"
    assert card.format_number(0.0) == "0" and card.format_number(float("nan")) == "nan"
    assert card.format_number(-1234.5678) == "-1235" and card.format_number(0.123456, 3) == "0.123"
