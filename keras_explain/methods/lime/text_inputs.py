"""Reading text examples for LimeText: texts cut into words, token ids, the model fed in its own dtype."""

import re

import numpy as np
import tensorflow as tf

from keras_explain.engine.errors import check_finite, fail
from keras_explain.engine.inputs import materialize
from keras_explain.engine.model import ModelFunction, select_output

#: The named ways to cut a text into words: the regular expression of the separators.
SPLITS = {"whitespace": r"\s+", "words": r"\W+"}
#: What a removed word becomes with bow=False in a text (lime's placeholder).
MASK_STRING = "UNKWORDZ"


def split_text(text, split, index=0):
    """A text cut into pieces: words and the separators between them.

    Args:
        text: str.
        split: "whitespace" (words are runs of non-space characters),
            "words" (runs of letters, digits and "_", as lime's default
            r"\\W+") or a callable `text -> list of tokens`, the words in
            the order they appear in the text (empty tokens are skipped).
        index: the example, named in errors.

    Returns:
        (pieces, is_word): ''.join(pieces) == text.

    Raises:
        ValueError: for a token of the callable that is not in the text.
    """
    if not callable(split):
        separators = re.compile(SPLITS[split])
        pieces = [p for p in re.split(f"({SPLITS[split]})", text) if p]
        return pieces, [separators.fullmatch(p) is None for p in pieces]
    pieces, is_word, start = [], [], 0
    for token in split(text):
        if not isinstance(token, str):
            fail("split", "a callable returning a list of str", token)
        if not token:
            continue
        found = text.find(token, start)
        if found < 0:
            raise ValueError(
                f"split: expected the tokens of example {index} in the order of its text, "
                f"received {token!r}, which is not in the text after character {start}."
            )
        if found > start:
            pieces.append(text[start:found])
            is_word.append(False)
        pieces.append(token)
        is_word.append(True)
        start = found + len(token)
    if start < len(text):
        pieces.append(text[start:])
        is_word.append(False)
    return pieces, is_word


def word_features(units, is_word, bow):
    """(features, unit_feature): the explained words and the feature of each unit (-1: not a word).

    With bow, a feature is a distinct word (in order of first appearance) and
    stands for all its occurrences; without, every occurrence is a feature.
    """
    features, index, unit_feature = [], {}, np.full(len(units), -1, np.int32)
    for k, (unit, word) in enumerate(zip(units, is_word)):
        if not word:
            continue
        if not bow:
            unit_feature[k] = len(features)
            features.append(unit)
            continue
        if unit not in index:
            index[unit] = len(features)
            features.append(unit)
        unit_feature[k] = index[unit]
    return features, unit_feature


class TextModelFunction(ModelFunction):
    """The model as a function of text or token ids, fed in its own input dtype (string, int)."""

    def __init__(self, model, output=None):
        super().__init__(model, output)
        inputs = getattr(model, "inputs", None) or []
        declared = tf.as_dtype(inputs[0].dtype) if inputs else None
        self.takes_text = declared == tf.string
        self.input_dtype = declared if declared is not None else tf.int32
        self.input_dtypes = [self.input_dtype]

    def tensors(self, x):
        return tf.convert_to_tensor(x, self.input_dtype)

    def __call__(self, x):
        if self.takes_text and self.input_shape is not None and len(self.input_shape) == 2:
            x = tf.reshape(x, [-1, 1])
        outputs = self.model(tf.cast(x, self.input_dtype), training=False)
        return select_output(outputs, self.output, self.output_names)


def read_texts(x, input_shape):
    """Examples for a model taking strings: a str array (N,)."""
    x = materialize(x, input_shape)
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    expected = "text: a list or array of N strings, one per example"
    if isinstance(x, (str, bytes)):
        fail("x", expected + " (wrap a single text in a list)", x)
    array = np.asarray(x, dtype=object) if isinstance(x, (list, tuple)) else x
    if not isinstance(array, np.ndarray) or array.size == 0:
        fail("x", expected, x)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    strings = array.ndim == 1 and all(isinstance(v, (str, bytes)) for v in array)
    if not strings:
        fail("x", expected + ", for a model taking strings", x)
    return np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in array], dtype=str)


def read_ids(x, input_shape):
    """Examples for a model taking token ids: an int array (N, T)."""
    x = materialize(x, input_shape)
    array = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x)
    expected = "integer token ids of shape (N, T) for a model taking numbers"
    if array.dtype.kind in "USO":
        fail("x", expected + " (give strings to a model with a string input)", array)
    if array.dtype.kind not in "biuf" or array.ndim != 2 or array.size == 0:
        fail("x", expected, array)
    check_finite("x", array)
    if array.dtype.kind == "f" and not np.all(array == np.round(array)):
        fail("x", expected + "; these hold values that are not whole numbers", array)
    if input_shape is not None and len(input_shape) == 2 and input_shape[1] not in (None, array.shape[1]):
        fail("x", f"token ids of shape (N, {input_shape[1]}) like the model's input", array)
    return array.astype(np.int64)
