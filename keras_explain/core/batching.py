"""The one batching loop: inputs x samples, in bounded batches.

Work is a list of *pairs* (input i, sample k) for N inputs and S samples per
input, ordered input-major: pair p is input p // S, sample p % S. Samples are
interpolation steps, noise draws, perturbations or background rows, depending
on the method. The loop cuts the pairs into batches of at most `batch_size`
rows, gathers each pair's per-input rows, and calls the compiled step, which
sums the pair results of every group of `group_size` consecutive pairs inside
the graph. Groups cut by a batch boundary are completed here, so results do
not depend on `batch_size`, and memory is bounded by one batch.

The loop keeps no Python state per batch other than the carried partial group,
and the step is a pure function of its tensors.

A per-input value may be a list of tensors (one per input of a model with
several inputs); a step result may be a list too. Results travel through the
loop flattened, under keys "name:0", "name:1", ..., and `collect_groups`
puts the lists back together.
"""

import sys

import keras
import numpy as np
import tensorflow as tf


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
        key: tf.math.unsorted_segment_sum(value, segment_ids, count)
        for key, value in values.items()
    }


def _progress(total, verbose):
    if verbose is None or verbose == "auto":
        verbose = 1 if (sys.stdout is not None and sys.stdout.isatty()) else 0
    if not verbose or total <= 1:
        return None
    return keras.utils.Progbar(total, verbose=1, unit_name="row")


def iterate_groups(
    step,
    per_input,
    num_inputs,
    samples=1,
    group_size=None,
    batch_size=64,
    per_pair=None,
    per_sample=None,
    verbose=None,
):
    """Run `step` over all (input, sample) pairs and yield completed group sums.

    Args:
        step: callable(tensors: dict) -> dict of tensors (G_local, ...). It is
            given the per-input rows gathered for each pair, the per-pair rows,
            `"input_index"` (B,) int32, `"sample_index"` (B,) int32 and
            `"segment"` (B,) int32 local group ids, and must return group sums
            (see `segment_sums`).
        per_input: dict name -> array or tensor (N, ...), gathered per pair.
        num_inputs: N.
        samples: S, pairs per input. Defaults to 1.
        group_size: pairs summed together; must divide S. Defaults to S.
        batch_size: the largest number of pairs per step call. Defaults to 64.
        per_pair: optional dict name -> array (N * S, ...), sliced per batch.
        per_sample: optional dict name -> array or tensor (S, ...), gathered
            by each pair's sample index (a background shared by all inputs).
        verbose: 0, 1 or "auto"/None (a progress bar on a terminal).

    Yields:
        (first_group, values): `values` a dict of numpy arrays (G, ...) for the
        consecutive completed groups `first_group ... first_group + G - 1`.
        Group g covers pairs g * group_size ... (g + 1) * group_size - 1.
    """
    group_size = samples if group_size is None else group_size
    if samples % group_size:
        raise ValueError(f"group_size {group_size} must divide samples {samples}")
    total = num_inputs * samples
    tensors = {k: tf.nest.map_structure(tf.convert_to_tensor, v) for k, v in per_input.items()}
    shared = {
        k: tf.nest.map_structure(tf.convert_to_tensor, v) for k, v in (per_sample or {}).items()
    }
    per_pair = per_pair or {}
    bar = _progress(total, verbose)
    carry = None
    for start in range(0, total, batch_size):
        stop = min(start + batch_size, total)
        pairs = np.arange(start, stop, dtype=np.int64)
        inputs = (pairs // samples).astype(np.int32)
        groups = pairs // group_size
        first = int(groups[0])
        feed = {k: _gather(v, inputs) for k, v in tensors.items()}
        feed.update({k: v[start:stop] for k, v in per_pair.items()})
        feed["input_index"] = inputs
        feed["sample_index"] = (pairs % samples).astype(np.int32)
        feed.update({k: _gather(v, feed["sample_index"]) for k, v in shared.items()})
        feed["segment"] = (groups - first).astype(np.int32)
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


def _gather(value, rows):
    return tf.nest.map_structure(lambda part: tf.gather(part, rows), value)


def collect_groups(iterator, num_groups):
    """Write every yielded group into arrays of shape (num_groups, ...).

    Returns:
        dict of arrays; results that were lists in the step are lists again.
    """
    result = None
    for first, values in iterator:
        if result is None:
            result = {
                k: np.empty((num_groups,) + v.shape[1:], dtype=v.dtype) for k, v in values.items()
            }
        count = len(next(iter(values.values())))
        for key, value in values.items():
            result[key][first : first + count] = value
    return unflatten_results(result)
