"""Shard files: the columns of a run of rows, as `.npz` or Parquet.

A shard holds one array per column, each with one entry per row (n, ...).
`.npz` files store the arrays as they are (uncompressed, never pickled).
Parquet files (written with pyarrow, an optional dependency) store a
column of one value per row as it is and a column of arrays as a
fixed-size list of its flattened values; the manifest keeps every
column's item shape and dtype, so reading restores (n, ...) exactly.
"""

import os

import numpy as np

from keras_explain.datasets.files import atomic_write

FORMATS = ("npz", "parquet")


def shard_name(index, fmt):
    """The file name of shard `index`: "shard-00003.npz"."""
    return f"shard-{index:05d}.{fmt}"


def stats_name(index):
    """The file name of shard `index`'s summary statistics: "shard-00003.stats.npz"."""
    return f"shard-{index:05d}.stats.npz"


def column_info(array):
    """{"shape": item shape, "dtype": dtype} of a column (n, ...)."""
    return {"shape": [int(d) for d in array.shape[1:]], "dtype": np.dtype(array.dtype).str}


def pyarrow_modules(name="format"):
    """(pyarrow, pyarrow.parquet), or an ImportError saying how to install them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ImportError(
            f"{name}='parquet' needs pyarrow, which keras_explain does not install by default: "
            "pip install pyarrow (or keras_explain[ray]), or use format='npz'."
        ) from None
    return pyarrow, pyarrow.parquet


def write_npz(path, arrays):
    """Write arrays to an uncompressed `.npz` file atomically; returns its sha256."""
    return atomic_write(path, lambda handle: np.savez(handle, **arrays))


def write_shard(directory, index, columns, fmt):
    """Write the columns of shard `index`; returns (file name, sha256)."""
    name = shard_name(index, fmt)
    path = os.path.join(directory, name)
    if fmt == "npz":
        return name, write_npz(path, columns)
    pa, pq = pyarrow_modules()
    table = pa.table({key: _arrow_column(pa, value) for key, value in columns.items()})
    return name, atomic_write(path, lambda handle: pq.write_table(table, handle))


def _arrow_column(pa, array):
    if array.dtype.kind == "U":
        return pa.array(array.tolist(), type=pa.string())
    if array.ndim == 1:
        return pa.array(array)
    flat = pa.array(np.ascontiguousarray(array).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, int(np.prod(array.shape[1:])))


def read_columns(path, names, info):
    """The columns `names` of a shard file as numpy arrays (n, ...).

    Args:
        path: the shard file (.npz or .parquet).
        names: the columns to read.
        info: column name -> `column_info` (from the manifest).

    Returns:
        dict name -> np.ndarray.
    """
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in names}
    _, pq = pyarrow_modules()
    table = pq.read_table(path, columns=list(names))
    found = {}
    for name in names:
        column = table.column(name).combine_chunks()
        shape, dtype = info[name]["shape"], np.dtype(info[name]["dtype"])
        if dtype.kind == "U":
            found[name] = np.asarray(column.to_pylist(), dtype=dtype)
        elif shape:
            found[name] = column.flatten().to_numpy().astype(dtype, copy=False).reshape((len(column), *shape))
        else:
            found[name] = column.to_numpy().astype(dtype, copy=False)
    return found
