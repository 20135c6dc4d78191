"""Run shap.DeepExplainer on saved models, in a process of its own.

Used by tests/test_deepshap.py for the parity checks. shap's DeepExplainer
replaces TensorFlow gradient functions while it runs and, when it fails
half-way, leaves one of them in place, so it never runs in the test process.

    python tests/helpers/shap_reference.py DIR NAME [NAME ...]

For each NAME, reads DIR/NAME.keras, DIR/NAME_x.npy and DIR/NAME_bg.npy, runs
`shap.DeepExplainer(model, background).shap_values(x)` with shap's own
additivity check, and writes DIR/NAME_shap.npy (N, ..., K) and
DIR/NAME_expected.npy (K,). DIR/results.json maps each NAME to
{"ok": true} or {"ok": false, "error": "<exception type>: <message>"}.
"""

import json
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
warnings.filterwarnings("ignore")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import shap  # noqa: E402
from tensorflow.python.eager import execute as _tf_execute  # noqa: E402


def run_case(directory, name):
    model = keras.models.load_model(os.path.join(directory, f"{name}.keras"), compile=False)
    x = np.load(os.path.join(directory, f"{name}_x.npy"))
    background = np.load(os.path.join(directory, f"{name}_bg.npy"))
    explainer = shap.DeepExplainer(model, background)
    values = np.asarray(explainer.shap_values(x, check_additivity=True))
    np.save(os.path.join(directory, f"{name}_shap.npy"), values)
    np.save(os.path.join(directory, f"{name}_expected.npy"), np.asarray(explainer.expected_value))


def main(directory, names):
    results = {}
    # When shap fails inside a model call it leaves its eager gradient hook
    # installed, which breaks every later call in this process. Put the
    # original back after each case, so that one failure does not spoil the
    # next case (this script is the only place that runs shap).
    original_hook = _tf_execute.record_gradient
    for name in names:
        try:
            run_case(directory, name)
            results[name] = {"ok": True}
        except Exception as error:  # noqa: BLE001 - recorded for the test to report
            message = str(error).strip().splitlines()
            results[name] = {
                "ok": False,
                "error": f"{type(error).__name__}: {' '.join(line.strip() for line in message)}",
            }
        finally:
            _tf_execute.record_gradient = original_hook
    with open(os.path.join(directory, "results.json"), "w") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
