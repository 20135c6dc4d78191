"""The `keras-explain` command: explain a saved `.keras` model on files.

```sh
keras-explain explain digits.keras three.png seven.png --method integrated_gradients \\
    --class-names classes.txt --out explanations
keras-explain explain patients.keras rows.csv --method lime_tabular --training-data train.csv
keras-explain methods
python -m keras_explain --help
```

`explain` loads the model with `kx.load_model` (safe mode), reads the inputs
(PNG/JPEG images resized to the model's input, `.npy` arrays, CSV rows whose
header names the features), runs the method chosen by name through the
registry, and writes `METHOD.png` (a contact sheet), `METHOD.pdf`,
`METHOD.npz` (`kx.Explanation.load` reads it), `METHOD.html` (a
self-contained report) and `METHOD.json` (predictions and summaries) to
`--out`.

CSV tables may hold category strings: a CSV `--training-data` (or
`--background`) defines the categories, each column of text being
categorical, coded in the sorted order of its strings (or the order of
`--option categorical_names=...`); the input rows are coded the same way and
a method taking `categorical_features` is told which columns they are.

Exit status: 0 on success, 2 for bad usage or input with one line on stderr
("keras-explain: error: ..."), 1 for an unexpected failure; `--debug`
re-raises the error with its traceback. Arguments and files are checked
before TensorFlow is imported where the package allows it, and TensorFlow's
own log lines stay off stderr unless `TF_CPP_MIN_LOG_LEVEL` asks for them
(or `--debug` is given).

Image pixels are scaled to [0, 1] unless `--preprocess` says otherwise or the
model starts with a `Rescaling` or `Normalization` layer, which then gets the
pixels as they are; a line says which and why.

Modules: `parser` (the arguments), `checks` (checking them), `references`
(`--background`, `--training-data`), `explain` and `methods` (the commands),
`outputs` (the files written), `scaling` (`--preprocess` and its default),
`runtime` (TensorFlow's log lines), `progress`, `usage` (shared tables and
usage errors) and `main`.
"""

from keras_explain.cli.checks import check_files, method_plan, resolve_target
from keras_explain.cli.explain import run_explain
from keras_explain.cli.main import main
from keras_explain.cli.methods import run_methods
from keras_explain.cli.outputs import write_json, write_outputs
from keras_explain.cli.parser import build_parser
from keras_explain.cli.progress import Progress
from keras_explain.cli.usage import (
    AUTOMATIC_ARGUMENTS,
    CLI_ARGUMENTS,
    DEFAULT_FORMATS,
    FORMATS,
    PROG,
    UsageError,
)

__all__ = [
    "AUTOMATIC_ARGUMENTS",
    "CLI_ARGUMENTS",
    "DEFAULT_FORMATS",
    "FORMATS",
    "PROG",
    "Progress",
    "UsageError",
    "build_parser",
    "check_files",
    "main",
    "method_plan",
    "resolve_target",
    "run_explain",
    "run_methods",
    "write_json",
    "write_outputs",
]
