"""LIME for text: words removed at random, the perturbed texts built and classified in compiled TF."""

import numpy as np
import tensorflow as tf

import keras_explain.methods.lime.surrogate as surrogate
from keras_explain.engine.errors import check_bool, check_int, describe, fail
from keras_explain.engine.explainer import Plan
from keras_explain.engine.random import pair_bits
from keras_explain.engine.registry import register
from keras_explain.methods.lime.base import LimeBase, explained_labels
from keras_explain.methods.lime.text_inputs import (
    MASK_STRING,
    SPLITS,
    TextModelFunction,
    read_ids,
    read_texts,
    split_text,
    word_features,
)


def random_keep(seed, example, sample, counts, width):
    """LIME's text sampler in TF: 1 to W words removed, the count then the words uniform.

    Each pair draws its count and a random order of its W words from its
    own bits (`engine.random.pair_bits`), so sample k of a text does not
    depend on the batch or on the number of samples. Returns float64
    (B, width): 1 keeps a word, 0 removes it (and pads beyond W).
    """
    bits = pair_bits(seed, example, sample, width + 1)
    uniform = tf.cast(tf.bitwise.right_shift(bits, tf.constant(11, tf.uint64)), tf.float64) * 2.0**-53
    words = tf.cast(counts, tf.float64)[:, None]
    removed = tf.minimum(tf.floor(uniform[:, :1] * words) + 1.0, words)
    real = tf.range(width, dtype=tf.float64)[None, :] < words
    keys = tf.where(real, uniform[:, 1:], 2.0)
    # The `removed` smallest keys go: those at or below the removed-th smallest.
    cut = tf.gather(tf.sort(keys, axis=1), tf.cast(removed[:, 0], tf.int32) - 1, batch_dims=1)
    return tf.cast(real & (keys > cut[:, None]), tf.float64)


@register("lime_text", aliases=("limetext", "text_lime"))
class LimeText(LimeBase):
    """LIME for text: which words drive the prediction.

    Each text is cut into words. For `num_samples` perturbations (the first
    is the text itself) between 1 and W of its W words are removed, the
    count and then the words drawn uniformly, as `lime`'s LimeTextExplainer
    does. With `bow=True` a feature is a distinct word and removing it
    removes every occurrence. The perturbed texts are classified in bounded
    batches inside one compiled TensorFlow function, and a weighted ridge
    regression of the outputs on the keep/remove masks, weighted by an
    exponential kernel (width 25) of 100 times their cosine distance to the
    all-kept mask, gives each word a weight.

    Two kinds of model are explained: a model taking strings (a
    `keras.layers.TextVectorization` inside; input dtype string, shape (N,)
    or (N, 1)), and a model taking integer token ids (N, T) (an Embedding
    first). For text, the perturbed strings are assembled inside the step:
    the words and separators of each text are a padded string tensor, and
    one `tf.strings.reduce_join` of the kept pieces builds each sample, so
    no Python loop runs per sample and the model is called in batches of
    `batch_size`. For ids, removing a word is a `tf.where` that sets its
    positions to `mask_token`.

    Args:
        model: a Keras 3 model taking strings or token ids (N, T).
        num_samples: perturbations per text, the text itself included, or
            "auto" (128, 256, ... until the 5 strongest words and their
            signs hold and the weights' standard errors are under
            `tolerance`, as `keras_explain.methods.lime.base` describes;
            `e.samples_used` and `e.standard_errors` report them). Defaults
            to 5000 (lime's).
        mask_token: what a removed word becomes. For text: None removes it
            (with bow=False, None writes lime's "UNKWORDZ"); a str replaces
            each removed occurrence. For ids: the id of a removed word.
            Defaults to None (for ids: 0, the padding id of Keras layers).
        split: how a text is cut into words: "whitespace", "words" (runs of
            letters, digits and "_", lime's default r"\\W+"), or a callable
            `text -> list of tokens` in text order (what lies between the
            tokens stays). Defaults to "whitespace".
        bow: a feature is a distinct word (True) or each occurrence (False).
            Defaults to True.
        pad_token: for ids, the padding id: positions holding it are not
            words. None: every position is a word. Defaults to 0.
        vocabulary: for ids, the word of each id, to name the tokens; the
            ids are shown as numbers without it. Defaults to None.
        kernel_width: width of the exponential kernel on 100 x cosine
            distances. Defaults to 25.
        feature_selection: "auto", "highest_weights", "forward_selection",
            "lasso_path" or "none", as lime defines them. Defaults to "auto".
        random_state: int seed; the same seed gives identical results,
            whatever `batch_size`. Defaults to None.
        mask_sampler: callable `(num_samples, num_words, rng) -> (S, W)`
            array of 1 (kept) and 0 (removed) replacing the sampler, called
            once per example with a numpy Generator seeded by
            `random_state` (for example to reuse another library's masks).
            Defaults to None.
        tolerance: with num_samples="auto", the largest standard error of a
            weight relative to the largest |weight|. Defaults to 0.05.
        max_samples: with num_samples="auto", the most perturbations per
            text. Defaults to 8192.
        **kwargs: `output`, `batch_size` (texts per model call; bounds
            memory, never changes results; None: about 2**18 tokens per
            call, at most 8192 texts), `run_eagerly`, `verbose`.

    `explain(x, targets=None, num_features=None, top_labels=None)`:
        x: N texts (a list, a str array (N,) or (N, 1), a pandas Series or
            a string tf.Tensor) or token ids (N, T).
        num_features: words kept per surrogate (lime's default is 10);
            None keeps every word. top_labels: also explain the k
            best-scoring outputs of each example (the target first).

    Returns from `explain`: `Explanation` with `attributions` (N, W_max)
    float32: the weight of word j of example i, in order of first
    appearance; zero beyond the example's `num_tokens[i]` words (and for
    unselected words); `tokens`, a list of N lists of words (also as
    `feature_labels` (N, W_max) str, "" beyond, so `as_list(i)` lists
    (word, weight) pairs as lime's `as_list` does); `num_tokens`
    (N,); `token_space` "words"; for text `token_spans`, per example a list
    of [start, end, word] character spans of every occurrence in
    `inputs[i]`, for ids `token_features` (N, T), the word of each position
    (-1 for padding); `used` (N, W_max) bool; `intercept`, `score`
    (weighted R^2) and `local_pred` (N,) float32; with top_labels > 1 `labels`
    (N, L) and `feature_weights` (N, L, W_max). `inputs` are the texts
    (str (N,)) or the ids.

    Raises:
        ValueError: numbers for a model taking strings (or strings for one
            taking ids), a text without words, an unknown `split`, a
            `mask_token` of the wrong type, num_samples < 2.

    Example:

    ```python
    lime = kx.LimeText(text_model, num_samples=2000, random_state=0)
    e = lime.explain(["a great film", "dull and far too long"])
    e.as_list(0)                    # [("great", 0.31), ("film", 0.02), ...]
    from keras_explain.render import text
    html = text.text_html(e)        # the words highlighted by weight
    ```

    Reference: Ribeiro, Singh & Guestrin, "Why Should I Trust You?:
    Explaining the Predictions of Any Classifier", KDD 2016.
    """

    method = "lime_text"
    config_attributes = ("mask_token", "split", "bow", "pad_token", "vocabulary")
    explain_options = {
        "num_features": "words kept per surrogate (default: all)",
        "top_labels": "also explain the k best-scoring outputs of each example",
    }
    pair_addressed_draws = True

    def __init__(
        self, model, num_samples=5000, mask_token=None, split="whitespace", bow=True, pad_token=0,
        vocabulary=None, kernel_width=25.0, feature_selection="auto", random_state=None,
        mask_sampler=None, tolerance=0.05, max_samples=8192, **kwargs,
    ):
        if not callable(split) and split not in SPLITS:
            fail("split", "'whitespace', 'words' or a callable text -> list of tokens", split)
        self.split = split
        self.bow = check_bool("bow", bow)
        self.pad_token = check_int("pad_token", pad_token, allow_none=True)
        if vocabulary is not None and (isinstance(vocabulary, str) or not hasattr(vocabulary, "__len__")):
            fail("vocabulary", "a list with the word of each token id", vocabulary)
        self.vocabulary = None if vocabulary is None else [str(v) for v in vocabulary]
        if mask_sampler is not None and not callable(mask_sampler):
            fail("mask_sampler", "a callable (num_samples, num_words, rng) -> masks", mask_sampler)
        self.mask_sampler = mask_sampler
        super().__init__(
            model, num_samples, kernel_width, feature_selection, random_state, tolerance, max_samples, **kwargs
        )
        # The base's model function feeds the model float inputs; strings and
        # token ids go to it in their own dtype.
        self._model_fn = TextModelFunction(model, self.output)
        self.mask_token = self._check_mask_token(mask_token)

    def _check_mask_token(self, mask_token):
        if self._model_fn.takes_text:
            shape = self._model_fn.input_shape
            if shape is not None and tuple(shape[1:]) not in ((), (1,)):
                raise ValueError(
                    f"model: expected a model taking strings of shape (N,) or (N, 1), received a "
                    f"model with input shape {tuple(shape)}."
                )
            if mask_token is not None and not isinstance(mask_token, str):
                fail("mask_token", "None or a str for a model taking strings", mask_token)
            return MASK_STRING if mask_token is None and not self.bow else mask_token
        if mask_token is None:
            return 0
        return check_int("mask_token", mask_token, minimum=0)

    def get_config(self):
        config = super().get_config()
        if callable(self.split):
            config["split"] = getattr(self.split, "__name__", "callable")
        return config

    # -- the engine's hooks ----------------------------------------------------

    def default_batch_size(self, x):
        # About 2**18 tokens per model call (at most 8192 texts): a text's cost is its tokens.
        if self._model_fn.takes_text:
            width = max([1] + [len(text.split()) for text in x.numpy()])
        else:
            width = int(np.prod(x.shape[1:]))
        return int(np.clip(2**18 // max(width, 1), 16, 8192))

    def read_inputs(self, x, targets):
        if self._model_fn.takes_text:
            return read_texts(x, self._model_fn.input_shape), targets
        return read_ids(x, self._model_fn.input_shape), targets

    def _layout(self, examples):
        """Per example: (words, unit_feature, units) where units are text pieces or ids."""
        layouts = []
        for i, example in enumerate(examples):
            if self._model_fn.takes_text:
                units, is_word = split_text(example, self.split, i)
                what = repr(example[:40])
            else:
                units = [int(v) for v in example]
                is_word = [self.pad_token is None or v != self.pad_token for v in units]
                what = "only padding"
            words, unit_feature = word_features(units, is_word, self.bow)
            if not words:
                raise ValueError(
                    f"x: expected at least one word in every example, received example {i} "
                    f"with none ({what})."
                )
            layouts.append((words, unit_feature, units))
        return layouts

    def _given_masks(self, counts, width):
        rng = np.random.default_rng(self.random_state)
        masks = np.zeros((len(counts) * self.pairs_per_example, width), np.float64)
        for i, count in enumerate(counts):
            drawn = np.asarray(self.mask_sampler(self.pairs_per_example, int(count), rng))
            if drawn.shape != (self.pairs_per_example, count):
                raise ValueError(
                    f"mask_sampler: expected masks of shape ({self.pairs_per_example}, {count}) "
                    f"for example {i}, received {describe(drawn)}."
                )
            masks[i * self.pairs_per_example : (i + 1) * self.pairs_per_example, :count] = drawn > 0
        return masks

    def plan(self, x, targets, predictions, num_features=None, top_labels=None):
        num_features = check_int("num_features", num_features, minimum=1, allow_none=True)
        top_labels = check_int("top_labels", top_labels, minimum=1, allow_none=True)
        examples = x.numpy()
        if self._model_fn.takes_text:
            examples = [v.decode("utf-8") for v in examples]
        layouts = self._layout(examples)
        counts = np.array([len(words) for words, _, _ in layouts])
        width = int(counts.max())
        labels = explained_labels(targets, predictions, top_labels)
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**62))
        lengths = max(len(units) for _, _, units in layouts)
        unit_feature = np.full((len(layouts), lengths), -1, np.int32)
        for i, (_, features, _) in enumerate(layouts):
            unit_feature[i, : len(features)] = features
        per_example = {
            "unit_feature": unit_feature,
            "counts": counts.astype(np.int32),
            "seed": np.full(len(layouts), seed, np.int64),
            "labels": labels.astype(np.int32),
            "x_reference": (np.arange(width)[None, :] < counts[:, None]).astype(np.float64),
            "y_reference": np.take_along_axis(predictions, labels, axis=1).astype(np.float64),
        }
        if self._model_fn.takes_text:
            pieces = np.full((len(layouts), lengths), "", dtype=object)
            for i, (_, _, units) in enumerate(layouts):
                pieces[i, : len(units)] = units
            per_example["pieces"] = tf.constant(pieces.astype(str), tf.string)
        per_pair = {} if self.mask_sampler is None else {"keep": self._given_masks(counts, width)}
        return Plan(
            x=x, targets=targets, predictions=predictions, per_example=per_example,
            pairs=self.pairs_per_example, group_size=1, per_pair=per_pair,
            extras={"layouts": layouts, "feature_counts": counts, "labels": labels,
                    "num_features": num_features, "width": width},
        )

    def sample(self, rows):
        width = rows["x_reference"].shape[1]
        if "keep" in rows:
            keep = tf.cast(rows["keep"], tf.float64)
        else:
            drawn = random_keep(rows["seed"][0], rows["example_index"], rows["pair_index"], rows["counts"], width)
            # The first sample of every example is the example itself.
            keep = tf.where(rows["pair_index"][:, None] == 0, rows["x_reference"], drawn)
        unit_feature = rows["unit_feature"]
        kept = tf.gather(keep, tf.maximum(unit_feature, 0), batch_dims=1) > 0.5
        kept = kept | (unit_feature < 0)
        if self._model_fn.takes_text:
            removed = "" if self.mask_token is None else self.mask_token
            texts = tf.strings.reduce_join(tf.where(kept, rows["pieces"], removed), axis=1)
            return keep, texts
        mask = tf.cast(self.mask_token, rows["x"].dtype)
        return keep, tf.where(kept, rows["x"], mask)

    def distance(self, z, rows):
        return 100.0 * surrogate.cosine_distance(z, rows["x_reference"])

    def _token_names(self, words):
        if self._model_fn.takes_text:
            return [str(w) for w in words]
        vocabulary = self.vocabulary
        return [vocabulary[w] if vocabulary and 0 <= w < len(vocabulary) else str(w) for w in words]

    def explain_fit(self, plan, fitted, stats):
        layouts = plan.extras["layouts"]
        tokens = [self._token_names(words) for words, _, _ in layouts]
        # The words as feature labels too: `as_list(i)`, the cards and the
        # bar charts of tables then name each weight by its word.
        padded = np.full((len(tokens), plan.extras["width"]), "", dtype=object)
        for i, names in enumerate(tokens):
            padded[i, : len(names)] = names
        parts = {
            "tokens": tokens,
            "feature_labels": padded.astype(str),
            "num_tokens": plan.extras["feature_counts"].astype(np.int64),
            "token_space": "words",
            "used": fitted["used"][:, 0, :],
            # float32 like the weights: the float64 sums of two batch sizes
            # differ in their last bits, the rounded values do not.
            "intercept": fitted["intercept"][:, 0].astype(np.float32),
            "score": fitted["score"][:, 0].astype(np.float32),
            "local_pred": fitted["local_pred"][:, 0].astype(np.float32),
        }
        if self._model_fn.takes_text:
            parts["token_spans"] = [_spans(units, features) for _, features, units in layouts]
        else:
            width = plan.x.shape[1]
            parts["token_features"] = np.stack([features[:width] for _, features, _ in layouts])
        labels = plan.extras["labels"]
        if labels.shape[1] > 1:
            parts.update(labels=labels, feature_weights=fitted["coef"].astype(np.float32))
        return self.explanation(plan, fitted["coef"][:, 0, :].astype(np.float32), **parts)


def _spans(pieces, features):
    """[start, end, word] of every word occurrence of a text cut into `pieces`."""
    spans, start = [], 0
    for piece, feature in zip(pieces, features):
        if feature >= 0:
            spans.append([start, start + len(piece), int(feature)])
        start += len(piece)
    return spans
