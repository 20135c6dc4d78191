"""The one batching loop: examples x pairs, in bounded batches.

Work is a list of *pairs* (example i, pair index k) for N examples and P pairs
per example, ordered example-major: pair p is example p // P, index p % P. A
pair is one kernel evaluation: an interpolation step, a noise draw, a
perturbation or a background row, depending on the method. The loop cuts the
pairs into batches of at most `batch_size` and calls the compiled step, which
gathers each pair's per-example rows (`expand_rows`) and sums the pair
results of every group of `group_size` consecutive pairs inside the graph.
Groups cut by a batch boundary are completed here, and memory is bounded by one batch.

Sums are taken in float64, in the graph and across batches, and rounded to
float32 once at the end: a float32 result differs between two batch sizes
only when the float64 sums, which agree to about 1e-16 relative, fall on
either side of a float32 rounding boundary (relative spacing 6e-8).

The loop keeps no Python state per batch other than the carried partial group,
and the step is a pure function of its tensors.

A per-example value may be a list of tensors (one per input of a model with
several inputs); a step result may be a list too. Results travel through the
loop flattened, under keys "name:0", "name:1", ..., and `collect_groups`
puts the lists back together.
"""

import sys

import keras
import numpy as np
import tensorflow as tf

#: The keys under which `iterate_groups` hands a step what `expand_rows` gathers.
PER_EXAMPLE, PER_PAIR_INDEX, SPAN = "__per_example__", "__per_pair_index__", "__span__"


def flatten_results(values):
    """A flat dict of tensors from step results whose values may be lists."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            flat.update({f"{key}:{i}": part for i, part in enumerate(value)})
        else:
            flat[key] = value
    return flat


def unflatten_results(flat):
    """The inverse of `flatten_results`: "name:i" keys back into lists."""
    values, parts = {}, {}
    for key, value in flat.items():
        name, colon, index = key.rpartition(":")
        if colon and index.isdigit():
            parts.setdefault(name, {})[int(index)] = value
        else:
            values[key] = value
    for name, pieces in parts.items():
        values[name] = [pieces[i] for i in range(len(pieces))]
    return values


def segment_sums(values, segment_ids, group_size=None):
    """Sum pair results per local group inside the graph.

    Args:
        values: dict of tensors (B, ...).
        segment_ids: int32 tensor (B,), non-decreasing, starting at 0.
        group_size: pass 1 when every group is a single pair: the values are
            returned as they are.

    Returns:
        flat dict of tensors (G_local, ...) (see `flatten_results`).
    """
    values = flatten_results(values)
    if group_size == 1:
        return values
    count = segment_ids[-1] + 1
    return {
        key: tf.math.unsorted_segment_sum(_widened(value), segment_ids, count)
        for key, value in values.items()
    }


def _widened(value):
    """float16/32 values as float64, so that group sums do not depend on batching."""
    if value.dtype.is_floating and value.dtype != tf.float64:
        return tf.cast(value, tf.float64)
    return value


def _progress(total, verbose):
    if verbose is None or verbose == "auto":
        verbose = 1 if (sys.stdout is not None and sys.stdout.isatty()) else 0
    if not verbose or total <= 1:
        return None
    return keras.utils.Progbar(total, verbose=1, unit_name="row")


def iterate_groups(
    step,
    per_example,
    num_examples,
    pairs=1,
    group_size=None,
    batch_size=64,
    per_pair=None,
    per_pair_index=None,
    whole=None,
    verbose=None,
):
    """Run `step` over all (example, pair index) pairs and yield completed group sums.

    Args:
        step: callable(feed: dict) -> dict of tensors (G_local, ...). Its
            `expand_rows(feed)` (a `CompiledStep` expands every feed) holds
            the per-example rows gathered for each pair, the per-pair rows,
            `"example_index"` (B,) int32, `"pair_index"` (B,) int32 and
            `"segment"` (B,) int32 local group ids; it must return group sums
            (see `segment_sums`).
        per_example: dict name -> array or tensor (N, ...), gathered per pair.
        num_examples: N.
        pairs: P, pairs per example. Defaults to 1.
        group_size: pairs summed together; must divide P. Defaults to P.
        batch_size: the largest number of pairs per step call. Defaults to 64.
        per_pair: optional dict name -> array (N * P, ...), sliced per batch.
        per_pair_index: optional dict name -> array or tensor (P, ...),
            gathered by each pair's index (a background shared by all examples).
        whole: optional dict name -> tensor, handed whole to every step.
        verbose: 0, 1 or "auto"/None (a progress bar on a terminal).

    Yields:
        (first_group, values): `values` a dict of numpy arrays (G, ...) for the
        consecutive completed groups `first_group ... first_group + G - 1`.
        Group g covers pairs g * group_size ... (g + 1) * group_size - 1.
    """
    group_size = pairs if group_size is None else group_size
    if pairs % group_size:
        raise ValueError(f"group_size {group_size} must divide pairs {pairs}")
    total = num_examples * pairs
    tensors = {k: tf.nest.map_structure(tf.convert_to_tensor, v) for k, v in per_example.items()}
    shared = {
        k: tf.nest.map_structure(tf.convert_to_tensor, v)
        for k, v in (per_pair_index or {}).items()
    }
    per_pair = per_pair or {}
    whole = {k: tf.nest.map_structure(tf.convert_to_tensor, v) for k, v in (whole or {}).items()}
    bar = _progress(total, verbose)
    carry = None
    for start in range(0, total, batch_size):
        stop = min(start + batch_size, total)
        first = start // group_size
        # The rows are gathered inside the compiled step (`expand_rows`), not here.
        feed = {PER_EXAMPLE: tensors, PER_PAIR_INDEX: shared}
        feed[SPAN] = np.array([start, stop, pairs, group_size], dtype=np.int64)
        feed.update({k: v[start:stop] for k, v in per_pair.items()})
        feed.update(whole)
        out = {k: np.asarray(v) for k, v in step(feed).items()}
        if carry is not None:
            # The previous batch ended inside this batch's first group.
            for key in out:
                out[key] = out[key].copy()
                out[key][0] += carry[key]
        # The last group in this batch is complete only if the batch ends on a
        # group boundary.
        if stop % group_size == 0 or stop == total:
            carry = None
            yield first, out
        else:
            carry = {k: np.array(v[-1]) for k, v in out.items()}
            if len(next(iter(out.values()))) > 1:
                yield first, {k: v[:-1] for k, v in out.items()}
        if bar is not None:
            bar.update(stop)


def expand_rows(feed):
    """A batch's feed as its step reads it: every pair's rows gathered, in the graph.

    `iterate_groups` hands the step the per-example values whole (under
    `PER_EXAMPLE`), the shared per-pair-index values whole (`PER_PAIR_INDEX`)
    and the batch's span [first pair, end, P, group size] (`SPAN`); this
    gathers the rows of the batch's pairs and adds `"example_index"`,
    `"pair_index"` and `"segment"` (B,) int32. Inside a compiled step that is
    one graph, with no eager op per batch. A feed without a span is returned
    as it is.
    """
    if SPAN not in feed:
        return feed
    feed = dict(feed)
    span = feed.pop(SPAN)
    indices = tf.range(span[0], span[1])
    examples = tf.cast(indices // span[2], tf.int32)
    pair_index = tf.cast(indices % span[2], tf.int32)
    groups = indices // span[3]
    for key, value in feed.pop(PER_EXAMPLE).items():
        feed[key] = _gather(value, examples)
    for key, value in feed.pop(PER_PAIR_INDEX).items():
        feed[key] = _gather(value, pair_index)
    feed["example_index"] = examples
    feed["pair_index"] = pair_index
    feed["segment"] = tf.cast(groups - groups[0], tf.int32)
    return feed


def _gather(value, rows):
    return tf.nest.map_structure(lambda part: tf.gather(part, rows), value)


class GroupCollector:
    """The default accumulator: every group's sums in arrays (num_groups, ...).

    Args:
        num_groups: the number of groups the loop yields.
        keep_float64: keep sums taken in float64 as they are. Defaults to
            False: they are rounded to float32 once, in `result()`.
    """

    def __init__(self, num_groups, keep_float64=False):
        self.num_groups = num_groups
        self.keep_float64 = keep_float64
        self._arrays = None

    def add(self, first_group, values):
        """Store the sums of groups `first_group ...` (dict of arrays (G, ...))."""
        if self._arrays is None:
            self._arrays = {
                k: np.empty((self.num_groups,) + v.shape[1:], dtype=v.dtype)
                for k, v in values.items()
            }
        count = len(next(iter(values.values())))
        for key, value in values.items():
            self._arrays[key][first_group : first_group + count] = value

    def result(self):
        """dict of arrays; results that were lists in the step are lists again."""
        arrays = dict(self._arrays)
        if not self.keep_float64:
            for key, value in arrays.items():
                if value.dtype == np.float64:
                    arrays[key] = value.astype(np.float32)
        return unflatten_results(arrays)


def collect_groups(iterator, num_groups, keep_float64=False):
    """Every group `iterate_groups` yields, in arrays (num_groups, ...) (`GroupCollector`)."""
    collector = GroupCollector(num_groups, keep_float64)
    for first, values in iterator:
        collector.add(first, values)
    return collector.result()
