"""Files in: saved `.keras` models, images, `.npy` arrays, CSV tables, class names.

Importing this package loads only numpy and the standard library: Pillow is
imported to read images and Keras only by `load_model`, so the command line can
check every file a user names before it pays for importing TensorFlow.

Every problem with a file raises a `ValueError` in the house style,
"`name`: expected X, received Y.", where `name` is the argument (`path`, or
`MODEL`, `INPUT`, `--class-names` for the command line).

CSV tables are read through a `keras_explain.engine.tables.TableSchema`:
`read_training_table` makes one from the training data (its text columns are
categorical) and `read_table` and `read_inputs` take it to turn category
strings into their codes.

```python
import keras_explain as kx

model = kx.load_model("digits.keras")                     # compile=False, safe_mode=True
inputs = kx.io.read_inputs(["three.png", "more.npy"], model.inputs[0].shape)
inputs.x, inputs.names, inputs.notes                      # (N, 8, 8, 1) float32, ...
```

Modules: `models` (saved models, custom objects), `names` (class names),
`images`, `arrays` (`.npy`), `tables` (CSV), `inputs` (a batch from any of
them) and `messages` (the one-line error messages).
"""

from keras_explain.io.arrays import ARRAY_SUFFIXES, read_array
from keras_explain.io.images import IMAGE_SUFFIXES, PREPROCESSING, read_image
from keras_explain.io.inputs import Inputs, check_input_files, input_kind, read_inputs
from keras_explain.io.models import (
    _load_model,  # noqa: F401 - the command line's loader
    check_model_file,
    import_custom_objects,
    load_model,
)
from keras_explain.io.names import read_class_names
from keras_explain.io.tables import (
    TABLE_SUFFIXES,
    Table,
    read_csv_header,
    read_table,
    read_training_table,
)

__all__ = [
    "ARRAY_SUFFIXES",
    "IMAGE_SUFFIXES",
    "PREPROCESSING",
    "TABLE_SUFFIXES",
    "Inputs",
    "Table",
    "check_input_files",
    "check_model_file",
    "import_custom_objects",
    "input_kind",
    "load_model",
    "read_array",
    "read_class_names",
    "read_csv_header",
    "read_image",
    "read_inputs",
    "read_table",
    "read_training_table",
]
