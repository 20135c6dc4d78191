"""`open_results`: read the shards of `explain_dataset` lazily, and their global summary."""

import bisect
import os

import numpy as np

from keras_explain.datasets.finish import entry_verifies, read_summary_file, streamed_summary
from keras_explain.datasets.manifest import load_manifest
from keras_explain.datasets.shards import read_columns
from keras_explain.engine.errors import fail

__all__ = ["Results", "open_results"]

#: Columns every shard holds, besides those of `keep`.
ROW_COLUMNS = ("ids", "targets", "predictions")


def open_results(directory):
    """Open a folder written by `kx.explain_dataset`, without reading its shards.

    Args:
        directory: the results folder (`out` of `explain_dataset`).

    Returns:
        `Results`.

    Raises:
        ValueError: for a folder without a manifest of such results.

    Example:

    ```python
    results = kx.open_results("ig-val")
    len(results), results.columns
    for shard in results:                       # one Explanation per shard, read in turn
        ...
    results[10], results[100:200]               # one row as a dict; rows as an Explanation
    results.column("attributions")              # (N, ...), one column of every shard
    kx.viz.summary_plot(results.summary(), kind="bar")
    ```
    """
    directory = os.fspath(directory)
    return Results(directory, load_manifest(directory, "directory"))


class Results:
    """The shards of one `explain_dataset` run, read only when asked for.

    Attributes:
        directory: the folder.
        manifest: dict, its manifest (see `keras_explain.datasets.manifest`).
        method: the method's name.
        complete: True once the data has ended and every shard is written.
        shards: list of the manifest's entries of the complete shards, by
            row: "index", "start", "stop", "file", "sha256", "columns".
        columns: the column names of every shard: "ids", "targets",
            "predictions", then those kept ("attributions", ...).
    """

    def __init__(self, directory, manifest):
        self.directory = directory
        self.manifest = manifest
        self.method = manifest["run"]["method"]
        self.complete = bool(manifest["complete"])
        self.shards = sorted(manifest["shards"], key=lambda e: e["start"])
        found = list(self.shards[0]["columns"]) if self.shards else list(ROW_COLUMNS)
        first = [c for c in ROW_COLUMNS + ("names",) if c in found]
        self.columns = first + [c for c in found if c not in first]
        self._starts = [e["start"] for e in self.shards]

    def __len__(self):
        """Rows in the complete shards."""
        return sum(e["stop"] - e["start"] for e in self.shards)

    def __repr__(self):
        state = "complete" if self.complete else "incomplete"
        return (
            f"Results(method={self.method!r}, rows={len(self)}, shards={len(self.shards)}, {state}, "
            f"columns={self.columns})"
        )

    # -- reading ----------------------------------------------------------------

    def read(self, shard, columns=None):
        """The columns of shard `shard` (its position in `shards`), as a dict of arrays (n, ...)."""
        entry = self.shards[shard]
        names = self.columns if columns is None else list(columns)
        unknown = [n for n in names if n not in entry["columns"]]
        if unknown:
            fail("columns", f"names among {list(entry['columns'])}", unknown)
        return read_columns(os.path.join(self.directory, entry["file"]), names, entry["columns"])

    def shard(self, shard):
        """Shard `shard` (its position in `shards`) as an `Explanation`.

        Columns not kept read as empty arrays (n, 0) (`inputs` when not in
        `keep`); "ids" (and "names" for image files) and the other kept
        columns are its annotations and fields.
        """
        return self._explanation(self.read(shard))

    def __iter__(self):
        """One `Explanation` per shard, in row order, each read when reached."""
        for k in range(len(self.shards)):
            yield self.shard(k)

    def __getitem__(self, index):
        """Row `index` as a dict of its columns, or rows `start:stop` (step 1) as an `Explanation`."""
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                fail("index", "a slice with step 1", index)
            return self._explanation(self._rows(start, max(start, stop)))
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -len(self) <= index < len(self):
            fail("index", f"a row between 0 and {len(self) - 1}, or a slice", index)
        row = int(index) % len(self)
        return {name: value[0] for name, value in self._rows(row, row + 1).items()}

    def _rows(self, start, stop):
        """The columns of rows [start, stop) of the complete shards, reading only the shards they fall in."""
        parts = []
        first = max(0, bisect.bisect_right(self._starts, start) - 1)
        for k in range(first, len(self.shards)):
            entry = self.shards[k]
            if entry["start"] >= stop:
                break
            columns = self.read(k)
            a, b = max(start, entry["start"]) - entry["start"], min(stop, entry["stop"]) - entry["start"]
            parts.append({name: value[a:b] for name, value in columns.items()})
        if not parts:
            if not self.shards:
                return {"ids": np.zeros(0, np.int64), "targets": np.zeros(0, np.int64), "predictions": np.zeros((0, 0))}
            return {name: np.zeros((0,) + tuple(info["shape"]), np.dtype(info["dtype"]))
                    for name, info in self.shards[0]["columns"].items()}
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}

    def column(self, name):
        """One column of every complete shard, concatenated in row order: np.ndarray (N, ...).

        Raises:
            ValueError: for a column the shards do not hold, or whose rows
                have other shapes in different shards (read them by shard).
        """
        if name not in self.columns:
            fail("name", f"a column among {self.columns}", name)
        pieces = [self.read(k, [name])[name] for k in range(len(self.shards))]
        shapes = sorted({p.shape[1:] for p in pieces})
        if len(shapes) > 1:
            raise ValueError(
                f"name: expected a column with one shape per row in every shard, received {name!r} of shapes "
                f"{shapes}; read it shard by shard with results.read(k, [{name!r}])."
            )
        return np.concatenate(pieces) if pieces else np.zeros((0,))

    def _explanation(self, columns):
        from keras_explain.explanation import Explanation

        count = len(columns["ids"])
        empty = np.zeros((count, 0), np.float32)
        fields = {k: v for k, v in columns.items() if k not in ("targets", "predictions", "attributions", "inputs")}
        extras = {k: v for k, v in self.manifest["extras"].items() if k not in fields}
        return Explanation(
            attributions=columns.get("attributions", empty),
            inputs=columns.get("inputs", empty),
            targets=columns["targets"],
            predictions=columns["predictions"],
            method=self.method,
            config=self.manifest["run"]["explainer"]["config"],
            **extras,
            **fields,
        )

    # -- summary and checks ----------------------------------------------------------

    def summary(self):
        """The global `keras_explain.summaries.Summary` of every row, computed while the shards streamed.

        Per feature (and per explained class when several were explained):
        mean |attribution|, mean attribution and their standard deviations,
        the features ranked, and each row's explained score. Complete
        results read the stored summary; incomplete ones merge the
        statistics of their complete shards.

        Raises:
            ValueError: for attributions that are neither tables nor images
                (no statistics were kept), or no complete shard.
        """
        stored = read_summary_file(self.directory, self.manifest) if self.complete else None
        if stored is not None:
            return stored
        if not self.shards or any("stats" not in e for e in self.shards):
            raise ValueError(
                f"results: expected shards with summary statistics (attributions of tables or images), "
                f"received {len(self.shards)} shard(s) in '{self.directory}' without them."
            )
        return streamed_summary(self.directory, self.manifest, self.shards)

    def verify(self):
        """The positions in `shards` of the shards whose files no longer have their sha256 ([] when all do)."""
        return [k for k, entry in enumerate(self.shards) if not entry_verifies(self.directory, entry)]
