"""One shard explained on one device, or split across the replicas of a `tf.distribute.Strategy`.

With a strategy, the shard's rows are cut into one contiguous part per
replica; `strategy.run` explains each part on its replica (the explainer's
compiled step runs under the replica's device) and the parts come back in
replica order through `strategy.experimental_local_results`, so the rows
stay in order. A method without random draws gives the same numbers as on
one device; a method with random draws explains part r of shard k with the
seed of (random_state, k, r), so its results depend on the number of
replicas, which a resumed run must keep.
"""

import numpy as np

from keras_explain.engine.errors import fail
from keras_explain.parts import PER_EXAMPLE_FIELDS


def replica_count(strategy):
    """Replicas of a strategy (1 for None).

    Raises:
        ValueError: for something that is not a tf.distribute.Strategy.
    """
    if strategy is None:
        return 1
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.Strategy):
        fail("strategy", "a tf.distribute.Strategy or None", strategy)
    return int(strategy.num_replicas_in_sync)


def _rows(x, start, stop):
    return x.iloc[start:stop] if hasattr(x, "iloc") else x[start:stop]


def explain_parts(explainers, x, targets, options, strategy=None):
    """Explain the rows `x` of one shard: list of Explanations, one per part, in row order.

    Args:
        explainers: one explainer per part (the same object for every part
            of a method without random draws).
        x: the shard's rows (n, ...) (a DataFrame for tables).
        targets: None, an int or an int array (n,).
        options: the explain options.
        strategy: None (one part) or a tf.distribute.Strategy (one part per
            replica; a shard with fewer rows than replicas gives empty parts
            its first row, whose result is dropped).
    """
    if strategy is None:
        return [explainers[0].explain(x, targets=targets, verbose=0, **options)]
    count = len(explainers)
    bounds = np.linspace(0, len(x), count + 1).round().astype(int)
    parts = [(a, b) if b > a else (0, 1) for a, b in zip(bounds[:-1], bounds[1:])]

    def part_targets(a, b):
        return targets[a:b] if isinstance(targets, np.ndarray) else targets

    def explain_on_replica(replica):
        index = int(replica)
        a, b = parts[index]
        return explainers[index].explain(_rows(x, a, b), targets=part_targets(a, b), verbose=0, **options)

    replica_ids = strategy.experimental_distribute_values_from_function(
        lambda context: context.replica_id_in_sync_group
    )
    results = strategy.experimental_local_results(strategy.run(explain_on_replica, args=(replica_ids,)))
    return [e for e, a, b in zip(results, bounds[:-1], bounds[1:]) if b > a]


def row_columns(explanation, keep):
    """(per-row columns, fields that are not per row) of one Explanation.

    Per-row columns: "targets", "predictions", and those of `keep` among
    "attributions", "inputs" and the explanation's per-example fields.

    Raises:
        ValueError: for a name in `keep` the explanation does not have per row.
    """
    count = len(explanation)
    per_row = {"attributions": explanation.attributions, "inputs": explanation.inputs}
    shared = {}
    for name, value in explanation.extras.items():
        if name in PER_EXAMPLE_FIELDS or (isinstance(value, np.ndarray) and value.ndim and len(value) == count):
            if value is not None and not isinstance(value, dict):
                per_row[name] = np.asarray(value)
        else:
            shared[name] = value
    missing = [name for name in keep if name not in per_row]
    if missing:
        raise ValueError(
            f"keep: expected names of per-row results of {explanation.method} among "
            f"{sorted(per_row)}, received {missing}."
        )
    columns = {"targets": np.asarray(explanation.targets, np.int64), "predictions": np.asarray(explanation.predictions)}
    columns.update({name: per_row[name] for name in keep})
    return columns, shared


def join_columns(parts):
    """Concatenate the per-row columns of several parts of a shard, in order.

    Raises:
        ValueError: for a column whose rows have other shapes in different parts.
    """
    joined = {}
    for name in parts[0]:
        shapes = {p[name].shape[1:] for p in parts}
        if len(shapes) > 1:
            raise ValueError(
                f"keep: expected column {name!r} to have one shape per row in every part of a shard, received "
                f"{sorted(shapes)} on different replicas; keep it only without a strategy."
            )
        joined[name] = np.concatenate([p[name] for p in parts], axis=0)
    return joined
