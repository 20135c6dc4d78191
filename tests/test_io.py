"""Files in: saved models with one-line errors, images, .npy arrays, CSV tables, class names."""

import json
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

from keras_explain import io


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A plain model, a legacy .h5 copy, a Lambda model and a custom-layer model on disk."""
    root = tmp_path_factory.mktemp("io")
    keras.utils.set_random_seed(0)
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="plain")
    plain.compile(optimizer="adam", loss="mse")
    plain.save(root / "plain.keras")
    plain.save(root / "legacy.h5")
    lam = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Lambda(lambda t: t * 2.0, name="times_two"),
            keras.layers.Dense(3),
        ]
    )
    lam.save(root / "lambda.keras")
    module = root / "io_custom_layers.py"
    module.write_text(
        "import keras\n\n"
        "@keras.saving.register_keras_serializable(package='kxio')\n"
        "class Doubler(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return 2.0 * x\n\n"
        "CUSTOM_OBJECTS = {'Doubler': Doubler}\n"
    )
    objects = io.import_custom_objects(module)
    custom = keras.Sequential([keras.Input((4,)), objects["Doubler"](), keras.layers.Dense(3)])
    custom.save(root / "custom.keras")
    return root, plain, objects["Doubler"]


def _message(error):
    return str(error.value)


def test_load_model_round_trips_without_compiling(saved):
    root, plain, _ = saved
    model = io.load_model(root / "plain.keras")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), plain.predict(x, verbose=0))
    assert model.name == "plain"
    assert not model.compiled


def test_missing_file(tmp_path):
    path = tmp_path / "nope.keras"
    with pytest.raises(ValueError) as error:
        io.load_model(path)
    assert _message(error) == (
        f"path: expected a saved Keras model (.keras file), received '{path}', which does not exist."
    )


def test_not_a_keras_archive(tmp_path):
    path = tmp_path / "notes.keras"
    path.write_text("not a model")
    with pytest.raises(ValueError) as error:
        io.load_model(path)
    assert _message(error) == (
        "path: expected a .keras archive written by model.save('model.keras'), received "
        f"'{path}', which is not a zip archive."
    )


def test_zip_without_config_and_wrong_suffix(tmp_path, saved):
    root = saved[0]
    other = tmp_path / "data.keras"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ValueError) as error:
        io.load_model(other)
    assert _message(error).endswith(
        f"received '{other}', a zip archive without the config.json of a Keras model."
    )
    renamed = tmp_path / "model.zip"
    renamed.write_bytes((root / "plain.keras").read_bytes())
    with pytest.raises(ValueError) as error:
        io.load_model(renamed)
    assert _message(error).endswith(
        f"received '{renamed}', a Keras archive whose name does not end in .keras; rename it."
    )


def test_directory_is_refused(tmp_path):
    with pytest.raises(ValueError) as error:
        io.load_model(tmp_path)
    assert _message(error) == (
        "path: expected a .keras archive written by model.save('model.keras'), received "
        f"'{tmp_path}', a directory (a TensorFlow SavedModel?), which Keras 3 cannot load as a "
        "model; save the model with model.save('model.keras') where it was built."
    )


def test_legacy_h5_says_how_to_convert(saved, tmp_path):
    root = saved[0]
    path = root / "legacy.h5"
    expected = (
        "path: expected a .keras archive written by model.save('model.keras'), received "
        f"'{path}', a legacy HDF5 file, which safe mode cannot check; convert it once, in an "
        "environment you trust, with keras.saving.load_model('legacy.h5').save('legacy.keras') "
        "and pass the .keras file."
    )
    with pytest.raises(ValueError) as error:
        io.load_model(path)
    assert _message(error) == expected
    # Recognised by its signature, whatever its name.
    disguised = tmp_path / "model.keras"
    disguised.write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="a legacy HDF5 file"):
        io.load_model(disguised)


def test_lambda_refused_by_safe_mode_names_the_layer(saved):
    path = saved[0] / "lambda.keras"
    with pytest.raises(ValueError) as error:
        io.load_model(path)
    assert _message(error) == (
        f"path: expected a model that safe mode can load, received '{path}', whose Lambda layer "
        "'times_two' holds Python code; if you trust the file, pass safe_mode=False, which runs "
        "code from it."
    )
    model = io.load_model(path, safe_mode=False)
    x = np.ones((2, 4), "float32")
    assert model.predict(x, verbose=0).shape == (2, 3)


def test_unregistered_custom_class(saved):
    root, _, doubler = saved
    objects = keras.saving.get_custom_objects()
    registered = objects.pop("kxio>Doubler")
    try:
        with pytest.raises(ValueError) as error:
            io.load_model(root / "custom.keras")
        assert _message(error) == (
            "path: expected a model whose custom classes and functions are registered, received "
            f"'{root / 'custom.keras'}', which uses the unregistered class 'Doubler' (registered as "
            "'kxio>Doubler'); import the module that defines it with "
            "@keras.saving.register_keras_serializable() before loading, or pass "
            "custom_objects={'kxio>Doubler': Doubler}."
        )
        # The hint works: custom_objects finds the class by its registered name.
        model = io.load_model(root / "custom.keras", custom_objects={"kxio>Doubler": doubler})
        assert type(model.layers[0]).__name__ == "Doubler"
    finally:
        objects["kxio>Doubler"] = registered
    assert io.load_model(root / "custom.keras").layers[0].__class__ is doubler


def test_cli_wording_of_load_errors(saved):
    root = saved[0]
    with pytest.raises(ValueError) as error:
        io._load_model(root / "lambda.keras", name="MODEL", cli=True)
    assert _message(error).startswith("MODEL: expected a model that safe mode can load")
    assert _message(error).endswith(
        "if you trust the file, pass --unsafe, which runs code from it."
    )


def test_import_custom_objects_errors(tmp_path):
    missing = tmp_path / "absent.py"
    with pytest.raises(ValueError) as error:
        io.import_custom_objects(missing)
    assert (
        _message(error)
        == f"custom_objects: expected a Python file (.py), received '{missing}', which does not exist."
    )
    broken = tmp_path / "broken_layers.py"
    broken.write_text("import keras\nraise RuntimeError('boom\\nsecond line')\n")
    with pytest.raises(ValueError) as error:
        io.import_custom_objects(broken, name="--custom-objects")
    assert _message(error) == (
        f"--custom-objects: expected a Python file that imports without errors, received '{broken}', "
        "which raised RuntimeError: boom."
    )
    wrong = tmp_path / "wrong_layers.py"
    wrong.write_text("CUSTOM_OBJECTS = ['Doubler']\n")
    with pytest.raises(ValueError, match="whose CUSTOM_OBJECTS is a list"):
        io.import_custom_objects(wrong)


def test_read_class_names(tmp_path):
    text = tmp_path / "classes.txt"
    text.write_text("\ufeffcat\n\n  dog & <b>co</b> \nbird\n", encoding="utf-8")
    assert io.read_class_names(text) == ["cat", "dog & <b>co</b>", "bird"]
    listed = tmp_path / "classes.json"
    listed.write_text(json.dumps(["a", "b"]))
    assert io.read_class_names(listed) == ["a", "b"]
    listed.write_text(json.dumps({"a": 1}))
    with pytest.raises(ValueError) as error:
        io.read_class_names(listed, "--class-names")
    assert (
        _message(error)
        == f"--class-names: expected a JSON list of strings, received '{listed}', which holds a dict."
    )
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError) as error:
        io.read_class_names(empty)
    assert (
        _message(error)
        == f"class_names: expected at least one class name, received '{empty}', which is empty."
    )


# -- images -------------------------------------------------------------------------


def test_image_kept_exactly_when_no_resize_is_needed(tmp_path):
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5
    Image.fromarray(pixels).save(tmp_path / "rgb.png")
    array, note = io.read_image(tmp_path / "rgb.png", size=(4, 4), channels=3)
    np.testing.assert_array_equal(array, pixels.astype(np.float32) / 255.0)
    assert array.dtype == np.float32
    assert note == "4x4 RGB, scaled to [0, 1]"
    raw, note = io.read_image(tmp_path / "rgb.png", size=(4, 4), channels=3, preprocess="none")
    np.testing.assert_array_equal(raw, pixels)
    assert note == "4x4 RGB, kept in [0, 255]"
    signed, _ = io.read_image(tmp_path / "rgb.png", channels=3, preprocess="minus-one-one")
    np.testing.assert_allclose(signed, pixels / 127.5 - 1.0, atol=1e-6)


def test_image_converted_to_grey_with_luma_and_resized(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "colour.png")
    grey, note = io.read_image(tmp_path / "colour.png", size=(6, 6), channels=1)
    wide = pixels.astype(np.float64)
    luma = (wide[..., 0] * 299 + wide[..., 1] * 587 + wide[..., 2] * 114) / 1000
    assert grey.shape == (6, 6, 1)
    assert np.abs(grey[..., 0] * 255 - luma).max() <= 0.5 + 1e-4
    assert note == "6x6 RGB, converted to grey, scaled to [0, 1]"
    small, note = io.read_image(tmp_path / "colour.png", size=(3, 2), channels=None)
    assert small.shape == (3, 2)
    assert note == "6x6 RGB, converted to grey, resized to 2x3 (bilinear), scaled to [0, 1]"
    expected = np.asarray(
        Image.fromarray(pixels).convert("L").resize((2, 3), Image.Resampling.BILINEAR)
    )
    np.testing.assert_array_equal(small, expected / np.float32(255))


def test_image_alpha_and_grey_to_rgb(tmp_path):
    rgba = np.zeros((5, 5, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 10
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    array, note = io.read_image(tmp_path / "alpha.png", channels=3)
    np.testing.assert_array_equal(array[..., 0], np.full((5, 5), 200 / 255, np.float32))
    assert note == "5x5 RGBA, converted to RGB, alpha dropped, scaled to [0, 1]"
    Image.fromarray(np.full((3, 3), 51, np.uint8)).save(tmp_path / "grey.jpg", quality=100)
    array, note = io.read_image(tmp_path / "grey.jpg", channels=3)
    assert array.shape == (3, 3, 3) and np.allclose(array, 0.2, atol=2 / 255)
    assert note == "3x3 grey, converted to RGB, scaled to [0, 1]"


def test_undecodable_image(tmp_path):
    path = tmp_path / "broken.png"
    path.write_text("not an image")
    with pytest.raises(ValueError) as error:
        io.read_image(path, name="INPUT")
    assert _message(error) == (
        f"INPUT: expected a PNG or JPEG image, received '{path}', which cannot be decoded "
        f"(cannot identify image file '{path}')."
    )


# -- arrays, tables, batches --------------------------------------------------------


def test_read_array_single_and_batch(tmp_path):
    one = np.arange(12, dtype=np.int16).reshape(2, 2, 3)
    np.save(tmp_path / "one.npy", one)
    array = io.read_array(tmp_path / "one.npy", (2, 2, 3))
    assert array.shape == (1, 2, 2, 3) and array.dtype == np.float32
    np.testing.assert_array_equal(array[0], one)
    np.save(tmp_path / "wrong.npy", np.zeros((5, 5)))
    with pytest.raises(ValueError) as error:
        io.read_array(tmp_path / "wrong.npy", (2, 2, 3), name="INPUT")
    assert _message(error) == (
        "INPUT: expected an array of shape (2, 2, 3) or (N, 2, 2, 3) for the model's input, "
        f"received '{tmp_path / 'wrong.npy'}', an array of shape (5, 5)."
    )
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError) as error:
        io.read_array(tmp_path / "objects.npy", None)
    assert _message(error) == (
        f"inputs: expected a numeric .npy array, received '{tmp_path / 'objects.npy'}', which holds "
        "Python objects (refused: loading them runs code)."
    )
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan]]))
    with pytest.raises(
        ValueError,
        match=r"which holds 1 NaN or infinite value\(s\), the first at index \(0, 1\)\.$",
    ):
        io.read_array(tmp_path / "nan.npy", (2,))


def _csv(path, text):
    path.write_text(text)
    return path


def test_read_table(tmp_path):
    path = _csv(tmp_path / "rows.csv", 'age,"bmi, kg/m2",x\n1,2.5,-3e-1\n4,5,6\n')
    rows, names = io.read_table(path)
    assert names == ["age", "bmi, kg/m2", "x"]
    np.testing.assert_array_equal(rows, np.array([[1, 2.5, -0.3], [4, 5, 6]], np.float32))
    cases = {
        "1,2\n3,4\n": "a header row of feature names first, received '{p}', whose first row is numbers (1, 2)",
        "a,b\n1\n": "2 cells per row like the header, received '{p}', 1 in row 1",
        "a,b\n1,red\n": "a number in every cell, received '{p}', 'red' in row 1, column 'b'",
        "a,b\n1,\n": "a number in every cell, received '{p}', an empty cell in row 1, column 'b'",
        "a,b\n1,inf\n": "finite numbers, received '{p}', 'inf' in row 1, column 'b'",
        "a,a\n1,2\n": "distinct, non-empty feature names in the header, received '{p}', whose header repeats 'a'",
        "a,b\n": "a header row of feature names and at least one row of numbers, received '{p}', "
        "which has a header but no rows",
    }
    for text, expected in cases.items():
        bad = _csv(tmp_path / "bad.csv", text)
        with pytest.raises(ValueError) as error:
            io.read_table(bad, name="INPUT")
        assert _message(error) == "INPUT: expected " + expected.format(p=bad) + ".", text


def test_read_inputs_mixes_images_and_arrays_in_order(tmp_path):
    Image.fromarray(np.full((8, 8, 3), 255, np.uint8)).save(tmp_path / "white.png")
    np.save(tmp_path / "batch.npy", np.zeros((2, 4, 4, 3), np.float32))
    inputs = io.read_inputs(
        [tmp_path / "batch.npy", tmp_path / "white.png"], (None, 4, 4, 3), preprocess="unit"
    )
    assert inputs.x.shape == (3, 4, 4, 3) and inputs.x.dtype == np.float32
    np.testing.assert_array_equal(inputs.x[2], np.ones((4, 4, 3)))
    assert inputs.names == ["batch.npy[0]", "batch.npy[1]", "white.png"]
    assert inputs.notes == [
        "array (4x4x3), used as it is",
        "array (4x4x3), used as it is",
        "8x8 RGB, resized to 4x4 (bilinear), scaled to [0, 1]",
    ]
    assert inputs.kind == "images" and inputs.feature_names is None


def test_read_inputs_any_size_model_uses_the_first_image_size(tmp_path):
    Image.fromarray(np.zeros((6, 4, 3), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((12, 8, 3), np.uint8)).save(tmp_path / "b.png")
    inputs = io.read_inputs([tmp_path / "a.png", tmp_path / "b.png"], (None, None, None, 3))
    assert inputs.x.shape == (2, 6, 4, 3)
    assert inputs.notes[1] == "8x12 RGB, resized to 4x6 (bilinear), scaled to [0, 1]"


def test_read_inputs_tables(tmp_path):
    first = _csv(tmp_path / "a.csv", "p,q\n1,2\n")
    second = _csv(tmp_path / "b.csv", "p,q\n3,4\n5,6\n")
    inputs = io.read_inputs([first, second], (None, 2))
    np.testing.assert_array_equal(inputs.x, [[1, 2], [3, 4], [5, 6]])
    assert inputs.names == ["a.csv[0]", "b.csv[0]", "b.csv[1]"]
    assert inputs.notes[2] == "row 2 of b.csv"
    assert inputs.kind == "table" and inputs.feature_names == ["p", "q"]
    other = _csv(tmp_path / "c.csv", "p,r\n1,2\n")
    with pytest.raises(ValueError) as error:
        io.read_inputs([first, other], (None, 2), name="INPUT")
    assert (
        _message(error)
        == f"INPUT: expected the columns of '{first}', received '{other}', different columns."
    )
    with pytest.raises(ValueError) as error:
        io.read_inputs([first], (None, 3), name="INPUT")
    assert (
        _message(error)
        == f"INPUT: expected 3 columns for the model's input (N, 3), received '{first}', 2 columns (p, q)."
    )


def test_read_inputs_refuses_the_wrong_kind(tmp_path):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "a.png")
    table = _csv(tmp_path / "a.csv", "p,q\n1,2\n")
    with pytest.raises(ValueError) as error:
        io.read_inputs([tmp_path / "a.png"], (None, 2), name="INPUT")
    assert _message(error) == (
        f"INPUT: expected inputs for the model's input (N, 2), received '{tmp_path / 'a.png'}', an "
        "image; image files need a model taking (N, H, W, C) with 1, 3 or 4 channels, or (N, H, W)."
    )
    with pytest.raises(ValueError) as error:
        io.read_inputs([table], (None, 4, 4, 3), name="INPUT")
    assert _message(error) == (
        f"INPUT: expected inputs for the model's input (N, 4, 4, 3), received '{table}', a table; "
        "CSV rows need a model taking (N, n_features)."
    )
    with pytest.raises(ValueError) as error:
        io.read_inputs([tmp_path / "a.png", table], None, name="INPUT")
    assert _message(error) == (
        "INPUT: expected inputs of one kind (images and .npy arrays, or .csv tables and .npy "
        "arrays), received both images and .csv tables."
    )
    with pytest.raises(ValueError) as error:
        io.read_inputs([tmp_path / "a.gif"], None, name="INPUT")
    assert (
        _message(error)
        == f"INPUT: expected an existing input file, received '{tmp_path / 'a.gif'}', which does not exist."
    )
    (tmp_path / "a.gif").write_bytes(b"GIF89a")
    with pytest.raises(ValueError) as error:
        io.read_inputs([tmp_path / "a.gif"], None, name="INPUT")
    assert _message(error) == (
        f"INPUT: expected a PNG or JPEG image, a .npy array or a .csv table, received '{tmp_path / 'a.gif'}'."
    )


# -- tables with categories ---------------------------------------------------------


def test_read_training_table_codes_text_columns_in_sorted_order(tmp_path):
    train = _csv(tmp_path / "train.csv", "size,colour\n1.5,red\n2,blue\n0.5, green\n3,red\n")
    table = io.read_training_table(train)
    assert table.feature_names == ["size", "colour"]
    assert table.schema.categorical == (1,)
    assert table.schema.codes == {1: ["blue", "green", "red"]}
    assert table.rows.dtype == np.float32
    np.testing.assert_array_equal(table.rows, [[1.5, 2], [2, 0], [0.5, 1], [3, 2]])
    # The inputs are coded as the training data codes them, not by their own strings.
    rows, names = io.read_table(
        _csv(tmp_path / "rows.csv", "size,colour\n4,green\n5,red\n"), schema=table.schema
    )
    assert names == ["size", "colour"]
    np.testing.assert_array_equal(rows, [[4, 1], [5, 2]])
    # categorical_names sets the codes.
    ordered = io.read_training_table(train, categorical_names={"colour": ["red", "green", "blue"]})
    np.testing.assert_array_equal(ordered.rows[:, 1], [0, 2, 1, 0])
    assert io.read_csv_header(train) == ["size", "colour"]


def test_read_training_table_declared_and_mixed_columns(tmp_path):
    mixed = _csv(tmp_path / "mixed.csv", "size,grade\n1,A\n2,5\n3,B\n")
    with pytest.raises(ValueError) as error:
        io.read_training_table(mixed)
    assert _message(error) == (
        f"training_data: expected a number in every cell, received '{mixed}', 'A' in row 1, "
        "column 'grade'."
    )
    # Declared categorical, every cell of the column is a category name.
    table = io.read_training_table(mixed, categorical_features=["grade"])
    assert table.schema.codes == {1: ["5", "A", "B"]}
    np.testing.assert_array_equal(table.rows[:, 1], [1, 0, 2])
    # A numeric column declared categorical keeps its numbers as codes.
    numeric = io.read_training_table(mixed, categorical_features=[0, "grade"])
    assert numeric.schema.categorical == (0, 1) and 0 not in numeric.schema.codes
    np.testing.assert_array_equal(numeric.rows[:, 0], [1, 2, 3])


def test_read_table_with_a_schema_refuses_what_it_has_not_seen(tmp_path):
    schema = io.read_training_table(
        _csv(tmp_path / "train.csv", "size,colour\n1,red\n2,blue\n")
    ).schema
    cases = {
        "size,colour\n1,blue\n2,purple\n": (
            "a category of column 'colour' seen in the training data (blue, red), received "
            "'{p}', 'purple' in row 2"
        ),
        "size,color\n1,red\n": (
            "the columns of the schema (size, colour), received '{p}', columns (size, color)"
        ),
        "size,colour\nbig,red\n": "a number in every cell, received '{p}', 'big' in row 1, column 'size'",
        "size,colour\n1,\n": "a number in every cell, received '{p}', an empty cell in row 1, column 'colour'",
    }
    for text, expected in cases.items():
        bad = _csv(tmp_path / "bad.csv", text)
        with pytest.raises(ValueError) as error:
            io.read_table(bad, name="INPUT", schema=schema)
        assert _message(error) == "INPUT: expected " + expected.format(p=bad) + ".", text


def test_read_inputs_codes_categories_with_the_schema(tmp_path):
    schema = io.read_training_table(
        _csv(tmp_path / "train.csv", "colour,size\nred,1\nblue,2\ngreen,3\n")
    ).schema
    first = _csv(tmp_path / "a.csv", "colour,size\ngreen,0.25\n")
    second = _csv(tmp_path / "b.csv", "colour,size\nred,7\nblue,8\n")
    inputs = io.read_inputs([first, second], (None, 2), schema=schema)
    np.testing.assert_array_equal(inputs.x, [[1, 0.25], [2, 7], [0, 8]])
    assert inputs.kind == "table" and inputs.feature_names == ["colour", "size"]
    with pytest.raises(ValueError, match="'red' in row 1, column 'colour'"):
        io.read_inputs([second], (None, 2))  # without a schema: numbers only
