"""The keras-explain command, run as a user runs it: subprocesses on models saved to tmp_path.

A subprocess that gets as far as importing TensorFlow takes several seconds,
so all of them start together in a small pool when the first test of this
module asks for them: one per registered method (every output format at
once), one tabular run, one per error path, one with --debug. The tests then
read their results. Variants of the messages
are checked in-process through `cli.main(argv)`, the function the
`keras-explain` script and `python -m keras_explain` call.
"""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
from PIL import Image

import keras_explain as kx
import keras_explain.methods  # noqa: F401 - registers every method (also with a lazy __init__)
from keras_explain import api as registry
from keras_explain import cli, io
from keras_explain.cli import runtime, scaling
from keras_explain.engine.layers import input_scaling_layer

METHODS = registry.available_methods()
#: The methods the command runs: those that explain each input.
#: Methods run on the image and table files below; LimeText takes texts, and its command
#: (a .txt file and a CSV column) is tested in test_text_views.py.
EXPLAINED = [m for m in METHODS if registry.explainer_class(m).per_example and m != "lime_text"]
FORMATS = ("png", "pdf", "npz", "html", "json")
CLASS_NAMES = ["cat", "dog & <b>co</b>", "<script>alert(1)</script>"]
FEATURES = ["age", "bmi & <b>", "<i>pressure</i>", 'say "hi"']
NUM_SAMPLES = 50
WORKERS = 2
PREFIX = "keras-explain: error: "
# Lines the TensorFlow runtime writes to stderr on import, before our code runs.
TF_LOG = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s)"
)
SCRIPT_MISSING = (
    "the keras-explain script is not installed next to this Python: add "
    "'keras-explain = keras_explain.cli:main' to [options.entry_points] console_scripts in "
    "setup.cfg and reinstall with pip install -e ."
)


def _takes(method):
    names = registry.method_options(method)
    return set(names["constructor"]) | set(names["explain"])


def _tabular(method):
    return "training_data" in _takes(method)


def _script():
    folder = os.path.dirname(sys.executable)
    path = os.path.join(folder, "keras-explain")
    return path if os.access(path, os.X_OK) else None


# -- the workspace: saved models and input files -------------------------------------


def _quadrants(size, rng):
    """An RGB image of four coloured quadrants with a little noise, in [0, 1]."""
    half = size // 2
    image = np.zeros((size, size, 3))
    colours = rng.uniform(size=(4, 3))
    for k, (top, left) in enumerate(((0, 0), (0, half), (half, 0), (half, half))):
        image[top : top + half, left : left + half] = colours[k]
    return np.clip(image + rng.normal(scale=0.03, size=image.shape), 0, 1)


def _write_csv(path, rows):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join('"' + name.replace('"', '""') + '"' for name in FEATURES) + "\n")
        for row in rows:
            handle.write(",".join(f"{v:.5f}" for v in row) + "\n")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    keras.utils.set_random_seed(11)
    cnn = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="last_conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="tiny_cnn",
    )
    cnn.save(root / "cnn.keras")
    mlp = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="tiny_mlp",
    )
    mlp.save(root / "mlp.keras")
    rng = np.random.default_rng(0)
    Image.fromarray(np.round(_quadrants(32, rng) * 255).astype(np.uint8)).save(root / "large.png")
    grey = np.round(_quadrants(16, rng).mean(axis=-1) * 255).astype(np.uint8)
    Image.fromarray(grey).save(root / "grey.png")
    np.save(root / "batch.npy", np.stack([_quadrants(16, rng) for _ in range(2)]).astype("float32"))
    np.save(
        root / "background.npy", np.stack([_quadrants(16, rng) for _ in range(4)]).astype("float32")
    )
    np.save(root / "wrong.npy", np.zeros((5, 5), "float32"))
    (root / "classes.txt").write_text("\n".join(CLASS_NAMES) + "\n", encoding="utf-8")
    _write_csv(root / "rows.csv", rng.normal(size=(3, 4)))
    _write_csv(root / "train.csv", rng.normal(size=(60, 4)))
    (root / "notes.keras").write_text("not a model")
    cnn.save(root / "legacy.h5")
    lam = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Lambda(lambda t: t * 2.0, name="times_two"),
            keras.layers.Dense(3),
        ]
    )
    lam.save(root / "lambda.keras")
    (root / "cli_custom_layers.py").write_text(
        "import keras\n\n"
        "@keras.saving.register_keras_serializable(package='kxcli')\n"
        "class Doubler(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return 2.0 * x\n"
    )
    io.import_custom_objects(root / "cli_custom_layers.py")  # registers kxcli>Doubler here
    doubler = keras.saving.get_custom_objects()["kxcli>Doubler"]
    custom = keras.Sequential([keras.Input((4,)), doubler(), keras.layers.Dense(3)])
    custom.save(root / "custom.keras")
    return types.SimpleNamespace(root=root, cnn=cnn, mlp=mlp)


# -- the commands ---------------------------------------------------------------------


def method_command(method):
    """The command line that explains with `method`, built from the registry's options."""
    takes = _takes(method)
    if _tabular(method):
        args = ["explain", "mlp.keras", "rows.csv"]
    else:
        args = ["explain", "cnn.keras", "large.png", "grey.png", "batch.npy"]
    args += ["--method", method, "--out", f"out/{method}", "--format", ",".join(FORMATS)]
    args += ["--class-names", "classes.txt"]
    if "background" in takes:
        args += ["--background", "train.csv" if _tabular(method) else "background.npy"]
    if "training_data" in takes:
        args += ["--training-data", "train.csv"]
    if takes & {"num_samples", "samples"}:
        args += ["--num-samples", str(NUM_SAMPLES)]
    if "segmentation" in takes:  # superpixels that 16x16 quadrant images surely have
        args += [
            "--option",
            "segmentation=slic",
            "--option",
            "segmentation_options={'n_segments': 9}",
        ]
    return args


def api_options(method, ws):
    """What the command passes to the method, per the table in keras_explain.cli."""
    takes, root = _takes(method), ws.root
    train = np.loadtxt(root / "train.csv", delimiter=",", skiprows=1, dtype=np.float32)
    options = {"verbose": 0}
    if "background" in takes:
        options["background"] = train if _tabular(method) else np.load(root / "background.npy")
    if "training_data" in takes:
        options["training_data"] = train
    if "num_samples" in takes:
        options["num_samples"] = NUM_SAMPLES
    elif "samples" in takes:
        options["samples"] = NUM_SAMPLES
    if "random_state" in takes:
        options["random_state"] = 0
    if "segmentation" in takes:
        options.update(segmentation="slic", segmentation_options={"n_segments": 9})
    if "feature_names" in takes and _tabular(method):
        options["feature_names"] = FEATURES
    if "class_names" in takes:
        options["class_names"] = CLASS_NAMES
    return options


ERRORS = {
    "missing model": (
        ["explain", "missing.keras", "large.png", "--method", "saliency"],
        "MODEL: expected a saved Keras model (.keras file), received 'missing.keras', which does not exist.",
    ),
    "not a .keras archive": (
        ["explain", "notes.keras", "large.png", "--method", "saliency"],
        "MODEL: expected a .keras archive written by model.save('model.keras'), received "
        "'notes.keras', which is not a zip archive.",
    ),
    "legacy h5": (
        ["explain", "legacy.h5", "large.png", "--method", "saliency"],
        "MODEL: expected a .keras archive written by model.save('model.keras'), received "
        "'legacy.h5', a legacy HDF5 file, which safe mode cannot check; convert it once, in an "
        "environment you trust, with keras.saving.load_model('legacy.h5').save('legacy.keras') "
        "and pass the .keras file.",
    ),
    "unregistered custom class": (
        ["explain", "custom.keras", "rows.csv", "--method", "saliency"],
        "MODEL: expected a model whose custom classes and functions are registered, received "
        "'custom.keras', which uses the unregistered class 'Doubler' (registered as "
        "'kxcli>Doubler'); pass --custom-objects FILE.py, a Python file that defines it with "
        "@keras.saving.register_keras_serializable().",
    ),
    "lambda refused by safe mode": (
        ["explain", "lambda.keras", "rows.csv", "--method", "saliency"],
        "MODEL: expected a model that safe mode can load, received 'lambda.keras', whose Lambda "
        "layer 'times_two' holds Python code; if you trust the file, pass --unsafe, which runs "
        "code from it.",
    ),
    "bad usage": (
        ["explain", "cnn.keras", "large.png"],
        "the following arguments are required: --method (see keras-explain explain --help)",
    ),
    "bad input": (
        ["explain", "cnn.keras", "wrong.npy", "--method", "saliency", "--out", "out/never"],
        "INPUT: expected an array of shape (16, 16, 3) or (N, 16, 16, 3) for the model's input, "
        "received 'wrong.npy', an array of shape (5, 5).",
    ),
}

TABULAR_RUN = [
    "explain",
    "mlp.keras",
    "rows.csv",
    "--method",
    "saliency",
    "--out",
    "out/tabular",
    "--format",
    "png,html,json,npz",
    "--class-names",
    "classes.txt",
    "--target",
    CLASS_NAMES[1],
    "--progress",
]


QUIET_RUN = ["explain", "cnn.keras", "large.png", "--method", "saliency", "--out", "out/quiet"]


def _run(command, cwd, log_level="2"):
    """The command's CompletedProcess; `log_level` None runs it without TF_CPP_MIN_LOG_LEVEL."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if log_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = log_level
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=600)
    # Decoded by hand: text=True would turn the progress bars' "\r" into "\n".
    result.stdout, result.stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    return result


@pytest.fixture(scope="module")
def runs(ws):
    """Every subprocess of this module, started at once; name -> future CompletedProcess."""
    python = [sys.executable, "-m", "keras_explain"]
    jobs = {f"method {m}": python + method_command(m) for m in EXPLAINED}
    jobs["tabular"] = python + TABULAR_RUN
    jobs.update({f"error {name}": python + args for name, (args, _) in ERRORS.items()})
    jobs["debug"] = python + ERRORS["missing model"][0] + ["--debug"]
    if _script():
        jobs["script"] = [
            _script(),
            "explain",
            "cnn.keras",
            "large.png",
            "--method",
            "gradcam",
            "--out",
            "out/script",
            "--format",
            "json",
        ]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS)
    futures = {name: pool.submit(_run, command, ws.root) for name, command in jobs.items()}
    # The same command lines as a user's shell runs them, without TF_CPP_MIN_LOG_LEVEL.
    quiet = {"quiet error": ERRORS["bad input"][0], "quiet success": QUIET_RUN}
    for name, args in quiet.items():
        futures[name] = pool.submit(_run, python + args, ws.root, None)
    yield futures
    pool.shutdown(wait=True)


def _errors(result):
    """stderr without the TensorFlow runtime's own log lines."""
    return [line for line in result.stderr.splitlines() if line.strip() and not TF_LOG.match(line)]


# -- every method, every format ---------------------------------------------------------


@pytest.mark.parametrize("method", EXPLAINED)
def test_every_method_from_the_command_line(method, ws, runs):
    result = runs[f"method {method}"].result()
    assert result.returncode == 0, result.stderr
    assert _errors(result) == []
    out = ws.root / "out" / method
    assert sorted(os.listdir(out)) == sorted(f"{method}.{suffix}" for suffix in FORMATS)
    for suffix in FORMATS:
        assert f"keras-explain: wrote out/{method}/{method}.{suffix}" in result.stdout

    e = kx.Explanation.load(out / f"{method}.npz")
    root = ws.root
    if _tabular(method):
        rows = np.loadtxt(root / "rows.csv", delimiter=",", skiprows=1, dtype=np.float32)
        np.testing.assert_array_equal(e.inputs, rows)
        assert e.input_names == ["rows.csv[0]", "rows.csv[1]", "rows.csv[2]"]
        model = io.load_model(root / "mlp.keras")
        sheet_size = (1080, 290)
    else:
        # The inputs as the files hold them: arrays unchanged, the grey PNG
        # repeated into RGB, the 32x32 PNG resized with Pillow's bilinear filter.
        np.testing.assert_array_equal(e.inputs[2:], np.load(root / "batch.npy"))
        grey = np.asarray(Image.open(root / "grey.png"), dtype=np.float32) / np.float32(255)
        np.testing.assert_array_equal(e.inputs[1], np.repeat(grey[..., None], 3, axis=-1))
        large = Image.open(root / "large.png").resize((16, 16), Image.Resampling.BILINEAR)
        np.testing.assert_array_equal(
            e.inputs[0], np.asarray(large, dtype=np.float32) / np.float32(255)
        )
        assert (
            "  large.png: 32x32 RGB, resized to 16x16 (bilinear), scaled to [0, 1]\n"
            in result.stdout
        )
        assert "  grey.png: 16x16 grey, converted to RGB, scaled to [0, 1]\n" in result.stdout
        assert e.input_names == ["large.png", "grey.png", "batch.npy[0]", "batch.npy[1]"]
        assert e.input_notes[0] == "32x32 RGB, resized to 16x16 (bilinear), scaled to [0, 1]"
        assert e.preprocess == "unit"
        model = io.load_model(root / "cnn.keras")
        sheet_size = (830, 280)
    assert e.method == method and e.model_file == ("mlp.keras" if _tabular(method) else "cnn.keras")
    assert e.class_names == CLASS_NAMES

    # The same attributions as the Python API on the same inputs and options.
    api = kx.explain(model, e.inputs, method=method, **api_options(method, ws))
    np.testing.assert_array_equal(e.targets, api.targets)
    scale = float(np.abs(api.attributions).max()) or 1.0
    np.testing.assert_allclose(e.attributions, api.attributions, rtol=1e-4, atol=1e-5 * scale)
    np.testing.assert_allclose(e.predictions, api.predictions, rtol=1e-5, atol=1e-7)

    # The contact sheet and its PDF.
    assert Image.open(out / f"{method}.png").size == sheet_size
    pdf = (out / f"{method}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b", pdf)) == 1

    # The JSON summary: names, targets and class names.
    summary = json.loads((out / f"{method}.json").read_text())
    assert summary["method"] == method and summary["class_names"] == CLASS_NAMES
    assert len(summary["samples"]) == len(e)
    for i, row in enumerate(summary["samples"]):
        assert row["input"] == e.input_names[i] and row["target"] == int(e.targets[i])
        assert row["target_name"] == CLASS_NAMES[row["target"]]
        assert row["predicted"] == int(np.argmax(e.predictions[i]))
        assert row["predicted_name"] == CLASS_NAMES[row["predicted"]]
        assert row["attribution_sum"] == pytest.approx(
            float(e.attributions[i].sum(dtype=np.float64)), rel=1e-6, abs=1e-9
        )

    # The report: one card per input, escaped class names, no address.
    page = (out / f"{method}.html").read_text(encoding="utf-8")
    assert page.count('<article class="card"') == len(e)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "http" not in text.replace('http-equiv="Content-Security-Policy"', "")
    if not _tabular(method):
        assert page.count('src="data:image/png;base64,') == 2 * len(e)
        assert "32x32 RGB, resized to 16x16 (bilinear), scaled to [0, 1]" in page


def test_tabular_run_with_a_named_target_and_progress(ws, runs):
    result = runs["tabular"].result()
    assert result.returncode == 0, result.stderr
    e = kx.Explanation.load(ws.root / "out" / "tabular" / "saliency.npz")
    assert e.targets.tolist() == [1, 1, 1]  # --target "dog & <b>co</b>"
    assert e.feature_names == FEATURES
    # The progress bars, on stderr.
    assert "\rreading inputs [" + "#" * 30 + "] 1/1\n" in result.stderr
    assert "\rwriting report [" + "#" * 30 + "] 3/3\n" in result.stderr
    summary = json.loads((ws.root / "out" / "tabular" / "saliency.json").read_text())
    features = summary["samples"][0]["features"]
    weights = [f["weight"] for f in features]
    assert [f["feature"] for f in features] == [
        FEATURES[j] for j in np.argsort(-np.abs(e.attributions[0]), kind="stable")
    ]
    np.testing.assert_allclose(
        weights, e.attributions[0][np.argsort(-np.abs(e.attributions[0]), kind="stable")]
    )
    page = (ws.root / "out" / "tabular" / "saliency.html").read_text(encoding="utf-8")
    assert (
        "bmi &amp; &lt;b&gt;" in page
        and "&lt;i&gt;pressure&lt;/i&gt;" in page
        and "<i>" not in page
    )
    for i in range(3):
        card = page.split(f'id="card-0-{i}"')[1].split("</article>")[0]
        if int(np.argmax(e.predictions[i])) == 1:
            assert "predicted <b>1 · dog &amp; &lt;b&gt;co&lt;/b&gt;</b>" in card
        else:
            assert "explained <b>1 · dog &amp; &lt;b&gt;co&lt;/b&gt;</b>" in card
    assert Image.open(ws.root / "out" / "tabular" / "saliency.png").size == (1080, 290)


# -- every error path ------------------------------------------------------------------


@pytest.mark.parametrize("name", ERRORS)
def test_error_paths_exit_2_with_one_line(name, ws, runs):
    result = runs[f"error {name}"].result()
    assert result.returncode == 2
    assert _errors(result) == [PREFIX + ERRORS[name][1]]
    assert "Traceback" not in result.stderr
    assert not (ws.root / "out" / "never").exists()


def test_debug_shows_the_traceback(runs):
    result = runs["debug"].result()
    assert result.returncode == 1
    assert "Traceback (most recent call last):" in result.stderr
    assert _errors(result)[-1] == "ValueError: " + ERRORS["missing model"][1]


def test_debug_reraises_with_the_traceback(ws, capsys):
    cwd = os.getcwd()
    os.chdir(ws.root)
    try:
        with pytest.raises(ValueError) as error:
            cli.main(ERRORS["bad input"][0] + ["--debug"])
        with pytest.raises(cli.UsageError) as usage:
            cli.main(ERRORS["bad usage"][0] + ["--debug"])
    finally:
        os.chdir(cwd)
    assert str(error.value) == ERRORS["bad input"][1]
    assert error.traceback[-1].name == "read_array"  # raised where the file was read
    assert str(usage.value) == ERRORS["bad usage"][1]
    assert capsys.readouterr().err == ""


def test_tensorflow_log_lines_stay_off_stderr(ws, runs):
    failed = runs["quiet error"].result()
    assert (failed.returncode, failed.stderr) == (2, PREFIX + ERRORS["bad input"][1] + "\n")
    assert failed.stdout == (
        "keras-explain: model cnn.keras: 'tiny_cnn', input (N, 16, 16, 3), 3 outputs\n"
    )
    done = runs["quiet success"].result()
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[:4] == [
        "keras-explain: model cnn.keras: 'tiny_cnn', input (N, 16, 16, 3), 3 outputs",
        "keras-explain: preprocess: unit (the model does not start with Rescaling or "
        "Normalization, so pixels are scaled to [0, 1]); pass --preprocess to choose",
        "keras-explain: 1 input (N, 16, 16, 3) float32",
        "  large.png: 32x32 RGB, resized to 16x16 (bilinear), scaled to [0, 1]",
    ]
    assert sorted(os.listdir(ws.root / "out" / "quiet")) == [
        f"saliency.{suffix}" for suffix in ("html", "json", "npz", "png")
    ]


@pytest.mark.skipif(_script() is None, reason=SCRIPT_MISSING)
def test_the_keras_explain_script(ws, runs):
    result = runs["script"].result()
    assert result.returncode == 0, result.stderr
    summary = json.loads((ws.root / "out" / "script" / "gradcam.json").read_text())
    assert summary["method"] == "gradcam" and summary["samples"][0]["input"] == "large.png"


# -- in-process: the same main() with more variants ------------------------------------


def _main(ws, args, capsys):
    cwd = os.getcwd()
    os.chdir(ws.root)
    try:
        code = cli.main([str(a) for a in args])
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _users(parameters):
    return ", ".join(m for m in METHODS if _takes(m) & set(parameters)) or "none is registered"


def test_usage_and_input_messages(ws, capsys):
    base = ["explain", "cnn.keras", "large.png", "--method", "saliency", "--out", "out/x"]
    (ws.root / "two.txt").write_text("a\nb\n")
    (ws.root / "afile.txt").write_text("")
    cases = [
        (
            base[:4] + ["nope"],
            "--method: expected one of " + ", ".join(map(repr, METHODS)) + ", received 'nope'.",
        ),
        (
            base + ["--format", "png,gif"],
            "--format: expected a comma-separated list of png, pdf, npz, html, json, received 'png,gif'.",
        ),
        (base + ["--option", "steps"], "--option: expected NAME=VALUE, received 'steps'."),
        (
            base + ["--option", "steps=3"],
            "--option: method 'saliency' takes absolute, batch_size, layer, multiply_by_inputs, output, "
            "run_eagerly, token_reduce, verbose; received unknown option(s) steps.",
        ),
        (
            base + ["--option", "random_state=3"],
            "--option: expected options other than random_state, which --seed sets, received 'random_state'.",
        ),
        (
            base + ["--target", "cow"],
            "--target: expected an output index (an integer), received 'cow'; pass --class-names to name the outputs.",
        ),
        (
            base + ["--target", "cow", "--class-names", "classes.txt"],
            "--target: expected an output index or one of the class names ('cat', 'dog & <b>co</b>', "
            "'<script>alert(1)</script>'), received 'cow'.",
        ),
        (
            base + ["--target", "5"],
            "--target: expected an output index between 0 and 2, received 5.",
        ),
        (
            base + ["--class-names", "two.txt"],
            "--class-names: expected 3 names, one per model output, received 2 in 'two.txt'.",
        ),
        (
            base + ["--class-names", "nope.txt"],
            "--class-names: expected a text file with one class name per line, received 'nope.txt', "
            "which does not exist.",
        ),
        (
            base + ["--background", "background.npy"],
            f"--background: expected a method that takes it ({_users(['background'])}), "
            "received --method saliency, which does not.",
        ),
        (
            base + ["--num-samples", "10"],
            f"--num-samples: expected a method that takes it ({_users(['num_samples', 'samples'])}), "
            "received --method saliency, which does not.",
        ),
        (base + ["--num-samples", "0"], "--num-samples: expected an integer >= 1, received 0."),
        (
            base + ["--background", "nope.npy"],
            "--background: expected an existing file, received 'nope.npy', which does not exist.",
        ),
        (
            base + ["--out", "afile.txt"],
            "--out: expected a folder, received 'afile.txt', which is a file.",
        ),
        (
            ["explain", "cnn.keras", "batch.npy", "--method", "saliency", "--preprocess", "unit"],
            "--preprocess: expected image inputs (PNG or JPEG) to preprocess, received only .npy "
            "arrays and .csv tables, which are used as they are.",
        ),
        (
            ["explain", "cnn.keras", "rows.csv", "--method", "saliency"],
            "INPUT: expected inputs for the model's input (N, 16, 16, 3), received 'rows.csv', a "
            "table; CSV rows need a model taking (N, n_features).",
        ),
        (
            base + ["--custom-objects", "nope.py"],
            "--custom-objects: expected a Python file (.py), received 'nope.py', which does not exist.",
        ),
        (base + ["--unknown"], "unrecognized arguments: --unknown (see keras-explain --help)"),
        (
            base + ["--preprocess", "zero"],
            "--preprocess: expected one of none, unit, minus-one-one, received 'zero'.",
        ),
        (
            [],
            "expected a command, explain, evaluate, explain-dataset, summarize or methods, received none "
            "(see keras-explain --help)",
        ),
    ]
    for args, message in cases:
        code, out, err = _main(ws, args, capsys)
        assert (code, err) == (2, PREFIX + message + "\n"), args


@pytest.mark.parametrize(
    "method",
    [
        m
        for m in METHODS
        if any(
            p in _takes(m)
            for _, _, ps in cli.CLI_ARGUMENTS
            for p in ps
            if p in ("background", "training_data")
        )
    ],
)
def test_methods_needing_a_file_say_which_option(method, ws, capsys):
    model = "mlp.keras" if _tabular(method) else "cnn.keras"
    inputs = "rows.csv" if _tabular(method) else "large.png"
    flag = "--training-data" if _tabular(method) else "--background"
    what = (
        "a .csv file of training rows"
        if _tabular(method)
        else "a .npy or .csv file of reference inputs"
    )
    code, _, err = _main(ws, ["explain", model, inputs, "--method", method], capsys)
    assert (code, err) == (
        2,
        f"{PREFIX}{flag}: expected {what}, which --method {method} needs, received none.\n",
    )


def test_custom_objects_and_unsafe_load_what_the_errors_point_to(ws, capsys):
    registered = keras.saving.get_custom_objects().pop("kxcli>Doubler")
    try:
        code, out, err = _main(
            ws,
            [
                "explain",
                "custom.keras",
                "rows.csv",
                "--method",
                "saliency",
                "--custom-objects",
                "cli_custom_layers.py",
                "--out",
                "out/custom",
                "--format",
                "npz",
            ],
            capsys,
        )
        assert (code, err) == (0, "")
        assert "kxcli>Doubler" in keras.saving.get_custom_objects()
    finally:
        keras.saving.get_custom_objects().setdefault("kxcli>Doubler", registered)
    e = kx.Explanation.load(ws.root / "out" / "custom" / "saliency.npz")
    assert e.attributions.shape == (3, 4)
    code, out, err = _main(
        ws,
        [
            "explain",
            "lambda.keras",
            "rows.csv",
            "--method",
            "integrated_gradients",
            "--unsafe",
            "--out",
            "out/unsafe",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    assert err == (
        "keras-explain: warning: --unsafe: loading lambda.keras with safe mode off runs Python "
        "code stored in it\n"
    )


def test_a_dataset_method_is_refused_with_the_python_call(ws, capsys):
    args = ["explain", "mlp.keras", "rows.csv", "--method", "permutation_importance", "--out", "out/perm"]
    code, _, err = _main(ws, args, capsys)
    assert (code, err) == (
        2,
        PREFIX + "--method: expected a method that explains each input, received "
        "'permutation_importance', which explains a whole dataset with labels; use "
        "kx.PermutationImportance(model).explain(x, y) in Python.\n",
    )


def test_an_unconverged_integral_is_a_warning_line(ws, capsys):
    args = ["explain", "mlp.keras", "rows.csv", "--method", "integrated_gradients", "--format", "json"]
    code, _, err = _main(ws, args + ["--option", "steps=2", "--out", "out/coarse"], capsys)
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("keras-explain: warning: Integrated Gradients: ")
    assert lines[0].endswith("use more steps (for example steps=8) or rule='gauss_legendre'.")
    code, _, err = _main(ws, args + ["--option", "steps=400", "--out", "out/fine"], capsys)
    assert (code, err) == (0, "")


def test_help_version_and_methods(ws, capsys):
    code, out, _ = _main(ws, ["--help"], capsys)
    assert code == 0 and out.startswith("usage: keras-explain [-h] [--version] COMMAND")
    code, out, _ = _main(ws, ["explain", "--help"], capsys)
    assert code == 0 and "--training-data CSV" in out and "--background FILE" in out
    assert (
        "--preprocess {none,unit,minus-one-one}" in out
        and "exit status: 0 success, 2 bad usage" in out
    )
    code, out, _ = _main(ws, ["methods", "--help"], capsys)
    assert code == 0 and out.startswith("usage: keras-explain methods")
    code, out, _ = _main(ws, ["--version"], capsys)
    assert (code, out) == (0, f"keras-explain {kx.__version__}\n")
    code, out, err = _main(ws, ["methods"], capsys)
    assert (code, err) == (0, "")
    blocks = {block.splitlines()[0]: block for block in out.split("\n\n")[1:-1]}
    assert sorted(blocks) == METHODS
    for method, block in blocks.items():
        takes = _takes(method)
        for flag, _, parameters in cli.CLI_ARGUMENTS:
            parameter = next((p for p in parameters if p in takes), None)
            assert (f"    {flag} -> {parameter}" in block) == (parameter is not None), (
                method,
                flag,
            )
        assert ("    --seed -> random_state" in block) == ("random_state" in takes)
    assert "--option NAME=VALUE: steps, baseline, rule" in blocks["integrated_gradients"]


def test_progress_bar():
    stream = __import__("io").StringIO()
    bar = cli.Progress("reading", 4, True, stream)
    for _ in range(4):
        bar()
    bar.close()
    frames = stream.getvalue().split("\r")[1:]
    assert frames[0] == "reading [" + "." * 30 + "] 0/4"
    assert frames[2] == "reading [" + "#" * 15 + "." * 15 + "] 2/4"
    assert frames[-1] == "reading [" + "#" * 30 + "] 4/4\n"
    silent = __import__("io").StringIO()
    cli.Progress("x", 3, False, silent)()
    assert silent.getvalue() == ""


def _write_table(path, rows):
    path.write_text("size,colour\n" + "".join(f"{s},{c}\n" for s, c in rows), encoding="utf-8")


def test_lime_tabular_on_a_csv_with_category_strings(ws, capsys):
    folder = ws.root / "categories"
    folder.mkdir()
    rng = np.random.default_rng(5)
    # First seen is red, but the codes follow the sorted strings: blue 0, green 1, red 2.
    colours = ["red", "green", "blue"]
    train = [(float(rng.integers(0, 16)) / 4, colours[k % 3]) for k in range(36)]
    rows = [(1.25, "red"), (2.5, "blue"), (0.75, "green")]
    _write_table(folder / "train.csv", train)
    _write_table(folder / "rows.csv", rows)
    _write_table(folder / "unseen.csv", [(1.0, "purple")])
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(3, activation="softmax")], name="coded"
    )
    kernel = np.array([[0.8, -0.5, 0.1], [-0.6, 0.9, 0.3]], "float32")
    model.layers[-1].set_weights([kernel, np.array([0.1, 0.0, -0.2], "float32")])
    model.save(folder / "coded.keras")
    command = ["explain", "categories/coded.keras", "categories/rows.csv", "--method"]
    lime = ["lime_tabular", "--training-data", "categories/train.csv", "--num-samples", "300"]
    # Without bins, a category column treated as numbers would get other attributions.
    exact = ["--option", "discretize_continuous=False", "--seed", "7"]
    code, _, err = _main(
        ws, command + lime + exact + ["--out", "out/categories", "--format", "npz"], capsys
    )
    assert (code, err) == (0, "")

    e = kx.Explanation.load(ws.root / "out" / "categories" / "lime_tabular.npz")
    np.testing.assert_array_equal(e.inputs, [[1.25, 2], [2.5, 0], [0.75, 1]])
    assert e.feature_names == ["size", "colour"]
    assert [str(v) for v in e.feature_values[:, 1]] == ["red", "blue", "green"]
    # The same explanation as the Python API given the strings themselves.
    api = kx.LimeTabular(
        io.load_model(folder / "coded.keras"),
        np.array(train, dtype=object),
        feature_names=["size", "colour"],
        categorical_features=["colour"],
        discretize_continuous=False,
        num_samples=300,
        random_state=7,
        verbose=0,
    ).explain(np.array(rows, dtype=object))
    np.testing.assert_array_equal(e.targets, api.targets)
    np.testing.assert_allclose(e.predictions, api.predictions, rtol=1e-6)
    np.testing.assert_allclose(e.attributions, api.attributions, rtol=1e-6, atol=1e-9)
    assert np.abs(e.attributions[:, 1]).max() > 0  # the category column counts
    np.testing.assert_array_equal(e.feature_labels, api.feature_labels)

    # A category the training data never had, and strings with no training data to code them.
    code, _, err = _main(
        ws,
        ["explain", "categories/coded.keras", "categories/unseen.csv", "--method"] + lime,
        capsys,
    )
    assert (code, err) == (
        2,
        f"{PREFIX}INPUT: expected a category of column 'colour' seen in the training data "
        "(blue, green, red), received 'categories/unseen.csv', 'purple' in row 1.\n",
    )
    code, _, err = _main(ws, command + ["saliency", "--out", "out/never"], capsys)
    assert (code, err) == (
        2,
        f"{PREFIX}INPUT: expected a number in every cell, received 'categories/rows.csv', "
        "'red' in row 1, column 'colour'.\n",
    )


# -- image scaling: --preprocess and models that rescale their input -----------------------


@pytest.fixture(scope="module")
def scaled_models(ws):
    """rescaling.keras starts with Rescaling(1/255); nested.keras with a base model that
    starts with Rescaling(1/127.5, offset=-1); cnn.keras, the plain one, with a convolution."""
    keras.utils.set_random_seed(12)
    rescaling = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Rescaling(1 / 255, name="to_unit"),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="rescaling_cnn",
    )
    rescaling.save(ws.root / "rescaling.keras")
    base = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Rescaling(1 / 127.5, offset=-1, name="to_signed"),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        ],
        name="base",
    )
    nested = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="nested_cnn",
    )
    nested.save(ws.root / "nested.keras")
    grey = np.asarray(Image.open(ws.root / "grey.png"), dtype=np.float32)
    return np.repeat(grey[..., None], 3, axis=-1)  # the pixels of grey.png as RGB, 0..255


UNIT = "the model does not start with Rescaling or Normalization, so pixels are scaled to [0, 1]"
RAW = "so pixels are passed as they are in [0, 255]"
SCALED_RUNS = {
    # model file: (model name, pixels / this, how they were scaled, the preprocess line's reason)
    "cnn.keras": ("tiny_cnn", 255, "unit", "scaled to [0, 1]", UNIT),
    "rescaling.keras": (
        "rescaling_cnn",
        1,
        "none",
        "kept in [0, 255]",
        f"the model starts with Rescaling(scale=0.00392, offset=0) 'to_unit', {RAW}",
    ),
    "nested.keras": (
        "nested_cnn",
        1,
        "none",
        "kept in [0, 255]",
        f"the model starts with Rescaling(scale=0.00784, offset=-1) 'base/to_signed', {RAW}",
    ),
}


def _scaled_run(ws, model, out, capsys, *more):
    args = ["explain", model, "grey.png", "--method", "saliency", "--out", out, "--format", "npz"]
    code, text, err = _main(ws, args + list(more), capsys)
    assert code == 0, err
    return text.splitlines(), err, kx.Explanation.load(ws.root / out / "saliency.npz")


@pytest.mark.parametrize("model", SCALED_RUNS)
def test_the_default_preprocess_follows_the_model(model, ws, scaled_models, capsys):
    name, divisor, preprocess, note, reason = SCALED_RUNS[model]
    lines, err, e = _scaled_run(ws, model, f"out/scaled/{model}", capsys)
    assert err == ""
    assert lines[:4] == [
        f"keras-explain: model {model}: '{name}', input (N, 16, 16, 3), 3 outputs",
        f"keras-explain: preprocess: {preprocess} ({reason}); pass --preprocess to choose",
        "keras-explain: 1 input (N, 16, 16, 3) float32",
        f"  grey.png: 16x16 grey, converted to RGB, {note}",
    ]
    pixels = scaled_models / np.float32(divisor)
    np.testing.assert_array_equal(e.inputs, pixels[None])
    assert e.preprocess == preprocess
    assert e.input_notes == [f"16x16 grey, converted to RGB, {note}"]
    # The model saw these inputs: its predictions are the ones recorded.
    expected = io.load_model(ws.root / model).predict(pixels[None], verbose=0)
    np.testing.assert_allclose(e.predictions, expected, rtol=1e-6, atol=1e-7)


def test_an_explicit_preprocess_is_kept_with_a_warning(ws, scaled_models, capsys):
    lines, err, e = _scaled_run(
        ws, "rescaling.keras", "out/scaled/unit", capsys, "--preprocess", "unit"
    )
    assert lines[1] == "keras-explain: preprocess: unit (--preprocess unit, so pixels are scaled to [0, 1])"
    assert lines[3] == "  grey.png: 16x16 grey, converted to RGB, scaled to [0, 1]"
    assert err == (
        "keras-explain: warning: --preprocess unit: pixels are scaled to [0, 1] and the model "
        "starts with Rescaling(scale=0.00392, offset=0) 'to_unit', which scales them again; "
        "pass --preprocess none to give it pixels in [0, 255]\n"
    )
    np.testing.assert_array_equal(e.inputs, scaled_models[None] / np.float32(255))
    assert e.preprocess == "unit"

    lines, err, e = _scaled_run(
        ws, "nested.keras", "out/scaled/signed", capsys, "--preprocess", "minus-one-one"
    )
    assert err == (
        "keras-explain: warning: --preprocess minus-one-one: pixels are scaled to [-1, 1] and the "
        "model starts with Rescaling(scale=0.00784, offset=-1) 'base/to_signed', which scales "
        "them again; pass --preprocess none to give it pixels in [0, 255]\n"
    )
    np.testing.assert_array_equal(
        e.inputs, scaled_models[None] / np.float32(127.5) - np.float32(1)
    )
    lines, err, e = _scaled_run(ws, "rescaling.keras", "out/scaled/none", capsys, "--preprocess", "none")
    assert err == ""
    assert lines[1] == (
        "keras-explain: preprocess: none (--preprocess none, so pixels are passed as they are in "
        "[0, 255])"
    )
    np.testing.assert_array_equal(e.inputs, scaled_models[None])


def test_arrays_are_used_as_they_are_whatever_the_model(ws, scaled_models, capsys):
    args = ["explain", "rescaling.keras", "batch.npy", "--method", "saliency", "--format", "npz"]
    code, out, err = _main(ws, args + ["--out", "out/scaled/arrays"], capsys)
    assert (code, err) == (0, "")
    assert "preprocess" not in out
    e = kx.Explanation.load(ws.root / "out" / "scaled" / "arrays" / "saliency.npz")
    np.testing.assert_array_equal(e.inputs, np.load(ws.root / "batch.npy"))
    assert "preprocess" not in e.extras


def test_input_scaling_layer_reads_the_first_layers():
    layers = keras.layers
    inputs = keras.Input((8, 8, 3))
    resized = layers.Resizing(4, 4)(layers.RandomFlip("horizontal")(inputs))
    standardise = layers.Normalization(mean=[120.0] * 3, variance=[3600.0] * 3, name="standardise")
    functional = keras.Model(inputs, layers.Dense(2)(layers.Flatten()(standardise(resized))))
    assert input_scaling_layer(functional) is standardise
    assert scaling.layer_text(functional, standardise) == (
        "Normalization(mean=[120, 120, 120], variance=[3.6e+03, 3.6e+03, 3.6e+03]) 'standardise'"
    )
    late = keras.Sequential([keras.Input((4,)), layers.Dense(4), layers.Rescaling(2.0)])
    assert input_scaling_layer(late) is None
    weighted_base = keras.Sequential([keras.Input((4,)), layers.Dense(4)], name="weighted")
    after_base = keras.Sequential([keras.Input((4,)), weighted_base, layers.Rescaling(2.0)])
    assert input_scaling_layer(after_base) is None
    augment = keras.Sequential([keras.Input((4,)), layers.Dropout(0.5)], name="augment")
    two = layers.Rescaling([2.0, 1.0, 0.5, 0.25], offset=1.0, name="two")
    after_augment = keras.Sequential([keras.Input((4,)), augment, two, layers.Dense(1)])
    assert input_scaling_layer(after_augment) is two
    assert scaling.layer_text(after_augment, two) == "Rescaling(scale=[2, 1, 0.5, 0.25], offset=1) 'two'"


def test_runtime_log_lines_are_dropped_below_the_level():
    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796281600.747472    3143 port.cc:153] oneDNN custom operations are on.\n"
        "I0000 00:00:1796281600.799518    3143 cpu_feature_guard.cc:227] This TensorFlow binary "
        "is optimized.\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n"
        "/site/module.py:12: UserWarning: a warning of Python\n"
        "  warnings.warn('a warning of Python')\n"
        "2024-01-11 05:40:05.061907: E tensorflow/core/util/util.cc:9] an error record\n"
    )
    lines = text.splitlines(keepends=True)
    assert runtime.without_log_lines(text, 0) == text
    assert runtime.without_log_lines(text, 1) == "".join(lines[4:])
    assert runtime.without_log_lines(text, 3) == "".join(lines[4:6])


def test_quiet_runtime_logs_keeps_what_the_user_set(monkeypatch):
    monkeypatch.delitem(sys.modules, "tensorflow")  # as in a process that has not imported it
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv("GRPC_VERBOSITY", raising=False)
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    runtime.quiet_runtime_logs(["explain", "--debug"])
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ and "GRPC_VERBOSITY" not in os.environ
    runtime.quiet_runtime_logs(["explain"])
    assert (os.environ["TF_CPP_MIN_LOG_LEVEL"], os.environ["GRPC_VERBOSITY"]) == ("3", "ERROR")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    runtime.quiet_runtime_logs(["explain"])
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") == onednn
