"""Keras callbacks that log explanations while a model trains."""

import concurrent.futures
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_explain.api import build_explainer
from keras_explain.engine.errors import check_choice, check_int, describe, fail
from keras_explain.engine.explainer import Explainer
from keras_explain.engine.inputs import dataset_is_batched, dataset_to_numpy, to_numpy
from keras_explain.engine.model import input_shape
from keras_explain.metrics import evaluation
from keras_explain.metrics.statistics import rank_correlation
from keras_explain.render import card, colors, figures, pictures

FORMATS = ("tensorboard", "png", "npz")
_MIN_SIDE = 64


def _require_tensorboard():
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ValueError(
            "formats: 'tensorboard' needs the tensorboard package (pip install tensorboard, "
            "included in keras-explain[cpu]); received formats with 'tensorboard' and no "
            "tensorboard installed."
        ) from None


#: Examples the logger reads at most from a dataset given as `samples`.
MAX_DATASET_EXAMPLES = 256


def _split_samples(samples, expected_shape=None):
    """Features and optional labels from x, (x, y) or a tf.data.Dataset.

    A dataset counts as batched when its elements have the rank of the model
    input (or when that is unknown); at most `MAX_DATASET_EXAMPLES` examples
    are read from it, so that a repeated dataset is never drained.
    """
    if isinstance(samples, tf.data.Dataset):
        batched = dataset_is_batched(samples, expected_shape)
        return dataset_to_numpy(samples, batched, "samples", max_examples=MAX_DATASET_EXAMPLES)
    if isinstance(samples, tuple) and len(samples) == 2:
        return samples[0], samples[1]
    return samples, None


def _labels_as_targets(labels, count):
    """Integer class labels (N,) from y: ints, or one-hot/probabilities (N, K)."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1)
    if len(labels) != count:
        raise ValueError(
            f"samples: expected one label per sample ({count}), received {len(labels)} labels."
        )
    if labels.dtype.kind == "f":
        if not np.all(labels == np.round(labels)):
            return None  # regression targets: explain output 0 instead
        labels = labels.astype(np.int64)
    return labels.astype(np.int64) if labels.dtype.kind in "iu" else None


class ExplanationLogger(keras.callbacks.Callback):
    """Log explanations of a few samples while the model trains.

    At the end of every `every_n_epochs`-th epoch the explainer runs on the
    samples (inference mode: no layer state changes, no global random numbers
    drawn) and the results go to TensorBoard (image summaries of heatmap
    overlays, or bar charts for tables, step = epoch, beside what
    `keras.callbacks.TensorBoard` writes to the same `log_dir`), to PNG files
    and/or to `.npz` files. Two scalars are logged: how much the maps changed
    since the last logged epoch (mean Spearman rank correlation), and for
    Integrated Gradients the mean absolute completeness gap; with `metrics`,
    each metric's mean score too (`<method>/<metric>`, also kept in the
    `.npz` files as `metric_scores`).

    Files go to `log_dir/explanations/`: TensorBoard events, and
    `png/<method>_epoch_0003_sample_01.png`, `npz/<method>_epoch_0003.npz`,
    names that sort by epoch. The explainer is compiled once: later epochs add
    no traces.

    Args:
        explainer: an explainer instance (of the model being trained) or a
            method name ("saliency", "integrated_gradients", ...), built on the
            model when training starts.
        samples: what to explain: x, (x, y) or a small tf.data.Dataset of x or
            (x, y), materialised once (at most the first 256 examples of a
            dataset are read, so a repeated one is never drained). Up to a
            few dozen rows.
        log_dir: the TensorBoard log directory.
        every_n_epochs: log every n-th epoch. Defaults to 1.
        targets: the explained outputs: None uses the labels y when `samples`
            has them (the same class at every epoch), else the predicted class;
            or an int, or an int array (N,).
        formats: any of "tensorboard", "png", "npz". Defaults to
            ("tensorboard", "png").
        max_outputs: images per TensorBoard tag. Defaults to 8.
        on_error: "warn" (log a warning with the cause and keep training) or
            "raise". Defaults to "warn".
        reduce: how image attributions become one map per pixel (see
            `Explanation.heatmap`). Defaults to "sum".
        method_options: options for the method when `explainer` is a name.
        metrics: metric names or `kx.metrics` instances scored on each
            logged explanation at that epoch's weights (inference mode, no
            global random numbers drawn: training is unchanged); those given
            by name use random_state=0, the same draws at every epoch.
            Defaults to None.

    Example:

    ```python
    logger = kx.callbacks.ExplanationLogger("integrated_gradients", (x_val[:8], y_val[:8]), "logs")
    model.fit(x, y, epochs=10, callbacks=[keras.callbacks.TensorBoard("logs"), logger])
    ```
    """

    def __init__(
        self,
        explainer,
        samples,
        log_dir,
        every_n_epochs=1,
        targets=None,
        formats=("tensorboard", "png"),
        max_outputs=8,
        on_error="warn",
        reduce="sum",
        method_options=None,
        metrics=None,
    ):
        super().__init__()
        if not isinstance(explainer, (Explainer, str)):
            fail("explainer", "an explainer instance or a method name", explainer)
        self.explainer = explainer
        self.method_options = dict(method_options or {})
        self._raw_samples = samples
        self.samples, self.labels = None, None
        if not isinstance(samples, tf.data.Dataset):
            features, self.labels = _split_samples(samples)
            self.samples = to_numpy(features, "samples")
        self.log_dir = os.fspath(log_dir)
        self.every_n_epochs = check_int("every_n_epochs", every_n_epochs, minimum=1)
        self.targets = targets
        if isinstance(formats, str):
            formats = (formats,)
        for item in formats:
            check_choice("formats", item, FORMATS)
        self.formats = tuple(formats)
        if "tensorboard" in self.formats:
            _require_tensorboard()
        self.max_outputs = check_int("max_outputs", max_outputs, minimum=1)
        self.on_error = check_choice("on_error", on_error, ("warn", "raise"))
        self.reduce = reduce
        # Metrics by name draw the same subsets and noise at every epoch.
        self.metrics = [] if metrics is None else evaluation.resolve_metrics(metrics, defaults={"random_state": 0})
        self._built = None
        self._writer = None
        self._previous = None
        self._files = None
        self._pending = []

    @property
    def output_dir(self):
        """Where the explanations are written: `log_dir/explanations`."""
        return os.path.join(self.log_dir, "explanations")

    # -- keras hooks -----------------------------------------------------------

    def on_train_begin(self, logs=None):
        if self.samples is None:
            shape = input_shape(self.model)
            features, self.labels = _split_samples(self._raw_samples, shape)
            self.samples = to_numpy(features, "samples", shape)
        if isinstance(self.explainer, str):
            if self._built is None or self._built.model is not self.model:
                self._built, _ = build_explainer(self.model, self.explainer, **self.method_options)
        else:
            if self.explainer.model is not self.model:
                raise ValueError(
                    "explainer: expected an explainer of the model being trained, received one "
                    f"built on model {self.explainer.model.name!r}."
                )
            self._built = self.explainer
        if not self._built.per_example:
            raise ValueError(
                f"explainer: expected a method that explains each sample, received "
                f"{self._built.method!r}, which explains a whole dataset; call it after fit instead."
            )
        os.makedirs(self.output_dir, exist_ok=True)
        if "tensorboard" in self.formats and self._writer is None:
            self._writer = tf.summary.create_file_writer(self.output_dir)
        self._files = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def on_epoch_end(self, epoch, logs=None):
        self._report_finished()
        if (epoch + 1) % self.every_n_epochs:
            return
        # The explanation is computed here, at this epoch's weights; the
        # pictures, summaries and files are made from it by the writer
        # thread while training goes on.
        try:
            explanation = self._built.explain(self.samples, targets=self._targets(), verbose=0)
            if self.metrics:
                evaluation.evaluate(explanation, self.metrics, model=self.model)
        except Exception as error:  # noqa: BLE001 - training must go on unless asked
            self._failed(epoch, error)
            return
        self._pending.append((epoch, self._files.submit(self._log, epoch, explanation)))

    def on_train_end(self, logs=None):
        if self._files is not None:
            self._files.shutdown(wait=True)
            self._files = None
        if self._writer is not None:
            self._writer.flush()
        self._report_finished()

    def _report_finished(self):
        """Warn about (or raise) the failures of logging work that has finished."""
        states = [(epoch, future, future.done()) for epoch, future in self._pending]
        self._pending = [(epoch, future) for epoch, future, done in states if not done]
        for epoch, future, done in states:
            if done and future.exception() is not None:
                self._failed(epoch, future.exception())

    def _failed(self, epoch, error):
        if self.on_error == "raise":
            raise error
        warnings.warn(
            f"ExplanationLogger: {self._method()} failed at epoch {epoch}: "
            f"{type(error).__name__}: {error}",
            RuntimeWarning,
            stacklevel=3,
        )

    # -- logging ---------------------------------------------------------------

    def _method(self):
        return self._built.method if self._built is not None else str(self.explainer)

    def _targets(self):
        if self.targets is not None:
            return self.targets
        if self.labels is not None:
            return _labels_as_targets(self.labels, len(self.samples))
        return None

    def _pictures(self, explanation):
        """One RGB uint8 picture per sample: an overlay, or a bar chart for tables."""
        if explanation.attributions.ndim == 2:
            return [
                figures.figure_pixels(figures.plot_explanation(explanation, indices=[i]))
                for i in range(len(explanation))
            ]
        maps = explanation.heatmap(reduce=self.reduce)
        shown = [colors.overlay(explanation.inputs[i], maps[i]) for i in range(len(explanation))]
        return [
            colors.enlarge(rgb, colors.display_scale(rgb.shape, _MIN_SIDE, side="shorter"))
            for rgb in shown
        ]

    def _log(self, epoch, explanation):
        method = explanation.method
        maps = (
            explanation.attributions
            if explanation.attributions.ndim == 2
            else explanation.heatmap(reduce=self.reduce)
        )
        scalars = {}
        if self._previous is not None:
            scalars[f"{method}/rank_correlation_with_previous"] = float(
                np.mean([rank_correlation(a, b) for a, b in zip(maps, self._previous)])
            )
        self._previous = maps
        gaps = card.scalar_part(explanation, "completeness_gap")
        if gaps is not None:
            scalars[f"{method}/mean_abs_completeness_gap"] = float(np.mean(np.abs(gaps)))
        for name, scores in (explanation.extras.get("metric_scores") or {}).items():
            scalars[f"{method}/{name}"] = float(np.mean(scores))
        shown = self._pictures(explanation) if {"tensorboard", "png"} & set(self.formats) else []
        # Each picture is encoded once, for the files and the summaries alike.
        encoded = [pictures.png_bytes(p, optimize=False) for p in shown]
        if "tensorboard" in self.formats:
            self._write_summaries(method, epoch, shown, encoded, scalars)
        if "png" in self.formats:
            folder = os.path.join(self.output_dir, "png")
            os.makedirs(folder, exist_ok=True)
            for i, data in enumerate(encoded):
                name = f"{method}_epoch_{epoch:04d}_sample_{i:02d}.png"
                with open(os.path.join(folder, name), "wb") as handle:
                    handle.write(data)
        if "npz" in self.formats:
            folder = os.path.join(self.output_dir, "npz")
            os.makedirs(folder, exist_ok=True)
            explanation.save(os.path.join(folder, f"{method}_epoch_{epoch:04d}.npz"))

    def _write_summaries(self, method, epoch, pictures, encoded, scalars):
        """Image summaries from the encoded PNGs, in the layout of TensorBoard's image
        plugin (width, height, then one PNG per image), and the scalars."""
        from tensorboard.plugins.image import metadata

        shapes = {p.shape for p in pictures}
        if len(shapes) == 1:
            groups = [(method, pictures[: self.max_outputs], encoded[: self.max_outputs])]
        else:
            groups = [
                (f"{method}/sample_{i:02d}", [p], [data])
                for i, (p, data) in enumerate(zip(pictures[: self.max_outputs], encoded))
            ]
        with self._writer.as_default(step=epoch):
            for tag, shown, data in groups:
                height, width = shown[0].shape[:2]
                tf.summary.write(
                    tag,
                    tf.constant([str(width).encode(), str(height).encode()] + data),
                    metadata=metadata.create_summary_metadata(display_name=tag, description=None),
                )
            for name, value in scalars.items():
                tf.summary.scalar(name, value)
        self._writer.flush()

    def get_config(self):
        explainer = self.explainer if isinstance(self.explainer, str) else describe(self.explainer)
        return {
            "explainer": explainer,
            "log_dir": self.log_dir,
            "every_n_epochs": self.every_n_epochs,
            "formats": list(self.formats),
            "max_outputs": self.max_outputs,
            "on_error": self.on_error,
            "metrics": [metric.name for metric in self.metrics],
        }
