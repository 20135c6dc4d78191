"""`kx.ray.explain`: explain a dataset on a Ray cluster, with Ray Data's `map_batches` over an actor pool.

Each worker is a Ray actor that loads the saved `.keras` model once and
builds the explainer from plain configuration (a method name and its
options, or an explainer's class name and `get_config()`): no model is
ever pickled. Batches of rows go through `Dataset.map_batches`; the
results come back as a Ray Dataset of columns "id", "target",
"prediction" and "attributions", or are written as Parquet files.

Ray is an optional extra: `pip install keras_explain[ray]`.

```python
import ray
import keras_explain as kx

ray.init()
results = kx.ray.explain(x_val, "model.keras", "integrated_gradients", steps=32, num_workers=4)
rows = results.take_all()                    # or kx.ray.explain(..., out="ig-parquet")
```

Rows and ids. A numpy array, or the path of a `.npy` file (which each
worker memory-maps, so that no row is sent), is cut into blocks of
`batch_size` row ids, so that batch k holds rows k * batch_size, ...; a Ray
Dataset (or the path of Parquet files) must carry each row's index in an
"id" column (Ray Data keeps no row numbers).

Seeds. A method with random draws explains the batch whose first id is i
with random_state `shard_seed(seed, i // batch_size, i % batch_size)`
(`keras_explain.datasets.shard_seed`): a batch that starts at a multiple
of `batch_size` draws exactly what shard i // batch_size of
`explain_dataset(shard_size=batch_size)` draws.
"""

import math
import os

import numpy as np

from keras_explain.engine.errors import check_int, fail

__all__ = ["explain"]

#: The result columns, in order.
COLUMNS = ("id", "target", "prediction", "attributions")


def _ray():
    try:
        import ray
        import ray.data
    except ImportError:
        raise ImportError(
            "kx.ray needs Ray Data, which keras_explain does not install by default: "
            "pip install 'keras_explain[ray]' (or pip install 'ray[data]')."
        ) from None
    return ray


def explain(dataset, model_path, method, out=None, num_workers=2, batch_size=256, column=None, targets=None,
            num_cpus=None, custom_objects=None, **options):
    """Explain every row of a dataset with Ray Data: an actor per worker, `map_batches`.

    Args:
        dataset: a numpy array (N, ...), the path of a `.npy` file, a
            `ray.data.Dataset` with an "id" column, or the path of Parquet
            files (a file or a folder) with one.
        model_path: the saved `.keras` model each worker loads once.
        method: a method name ("integrated_gradients", "ig", ...) built
            with `**options`, or an `Explainer` whose class and
            `get_config()` are sent (its model is not: the workers use
            `model_path`).
        out: a folder to write the results to as Parquet; None returns the
            Ray Dataset. Defaults to None.
        num_workers: actors, each holding the model. Defaults to 2.
        batch_size: rows per `map_batches` call. Defaults to 256.
        column: the input column of a Ray Dataset; None takes its only
            column besides "id" (several number columns are stacked as the
            features of a table, in their order). Defaults to None.
        targets: None (the predicted class) or an int. Defaults to None.
        num_cpus: CPUs each actor reserves; its TensorFlow uses that many
            threads. Defaults to None: 1, or on a cluster of fewer than
            num_workers + 1 CPUs a share that leaves one CPU (or half of
            them) to Ray Data's reading tasks, which would otherwise wait.
        custom_objects: dict name -> class for custom layers of the model.
            Defaults to None.
        **options: the method's constructor and explain options.

    Returns:
        `ray.data.Dataset` of columns "id" (int64), "target" (int64),
        "prediction" (K,) and "attributions" (...), or `out` once written.

    Raises:
        ImportError: when Ray Data is not installed.
        ValueError: for a bad argument, or a dataset without an "id" column.

    Example:

    ```python
    ds = kx.ray.explain("val.npy", "model.keras", "ig", steps=32, num_workers=4, batch_size=512)
    ds.write_parquet("ig-val")
    ```
    """
    ray = _ray()
    num_workers = check_int("num_workers", num_workers, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if targets is not None:
        targets = check_int("targets", targets, minimum=0)
    model_path = os.fspath(model_path)
    if not os.path.isfile(model_path):
        fail("model_path", "an existing .keras file", model_path)
    spec = _explainer_spec(method, options)
    rows, source = _rows(ray, dataset, batch_size, column)
    if num_cpus is None:
        total = ray.cluster_resources().get("CPU", 1.0)
        num_cpus = 1.0 if total >= num_workers + 1 else max(total - 1.0, total / 2.0) / num_workers
    worker = {"model_path": model_path, "spec": spec, "source": source, "batch_size": batch_size,
              "targets": targets, "threads": max(1, math.ceil(num_cpus)), "custom_objects": custom_objects}
    results = rows.map_batches(
        Worker,
        fn_constructor_kwargs=worker,
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=num_workers),
        num_cpus=num_cpus,
    )
    if out is None:
        return results
    results.write_parquet(os.fspath(out))
    return os.fspath(out)


def _explainer_spec(method, options):
    """The explainer as plain configuration: {"method", "options", "seed"} or {"class_name", "config", "seed"}."""
    from keras_explain import api
    from keras_explain.engine.explainer import Explainer

    if isinstance(method, Explainer):
        if options:
            fail("options", "no options with an Explainer (they are in its configuration)", sorted(options))
        config = method.get_config()
        spec = {"class_name": type(method).__name__, "config": config}
        random, seed = "random_state" in config, config.get("random_state")
    elif isinstance(method, str):
        api.explainer_class(method)  # an unknown name fails here, before any worker starts
        spec = {"method": method, "options": dict(options)}
        random = "random_state" in api.method_options(method)["constructor"]
        seed = options.get("random_state")
    else:
        fail("method", "a method name or an Explainer", method)
    if random and seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    spec["seed"] = seed if random else None
    return spec


def _rows(ray, dataset, batch_size, column):
    """(the Ray Dataset of the rows, where a worker finds each row's input)."""
    if isinstance(dataset, (str, os.PathLike)) and os.fspath(dataset).endswith(".npy"):
        path = os.fspath(dataset)
        count = len(np.load(path, mmap_mode="r", allow_pickle=False))
        return _id_blocks(ray, count, batch_size), {"npy": path}
    if isinstance(dataset, np.ndarray):
        if dataset.ndim < 1 or not len(dataset):
            fail("dataset", "a non-empty array (N, ...)", dataset)
        return _id_blocks(ray, len(dataset), batch_size), {"array": ray.put(dataset)}
    if isinstance(dataset, (str, os.PathLike)):
        dataset = ray.data.read_parquet(os.fspath(dataset))
    if not isinstance(dataset, ray.data.Dataset):
        fail("dataset", "a numpy array, a .npy or Parquet path, or a ray.data.Dataset", dataset)
    names = list(dataset.columns())
    if "id" not in names:
        raise ValueError(
            f"dataset: expected a ray.data.Dataset with an 'id' column (each row's index), received one with "
            f"columns {names}; add the index as 'id', or pass the rows as a numpy array or a .npy file."
        )
    inputs = [n for n in names if n != "id"]
    if column is not None and column not in inputs:
        fail("column", f"a column among {inputs}", column)
    return dataset, {"columns": [column] if column is not None else inputs}


def _id_blocks(ray, count, batch_size):
    """A Ray Dataset of column "id", one block per batch of `batch_size` consecutive ids."""
    import pyarrow as pa

    blocks = [pa.table({"id": np.arange(start, min(start + batch_size, count), dtype=np.int64)})
              for start in range(0, count, batch_size)]
    return ray.data.from_arrow(blocks)


class Worker:
    """A Ray actor: loads the model once, explains batches of rows (dicts of numpy arrays).

    Args:
        model_path: the `.keras` file.
        spec: the explainer as configuration (see `_explainer_spec`).
        source: {"array": the rows}, {"npy": path} or {"columns": names}.
        batch_size: rows per batch (for the seeds of random methods).
        targets: None or an int.
        threads: TensorFlow's intra-op threads.
        custom_objects: for loading the model, or None.
    """

    def __init__(self, model_path, spec, source, batch_size, targets, threads, custom_objects=None):
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already initialised in this worker process
            pass
        from keras_explain.io import load_model

        self.model = load_model(model_path, custom_objects=custom_objects)
        self.spec, self.batch_size, self.targets = spec, batch_size, targets
        self.rows = source.get("array")
        if self.rows is not None:
            import ray

            self.rows = ray.get(self.rows)  # read-only, from the object store's shared memory
        if "npy" in source:
            self.rows = np.load(source["npy"], mmap_mode="r", allow_pickle=False)
        self.columns = source.get("columns")
        self.explainer = self._build(spec["seed"])

    def _build(self, random_state):
        from keras_explain import api

        spec = self.spec
        if "class_name" in spec:
            config = dict(spec["config"], verbose=0)
            if random_state is not None:
                config["random_state"] = random_state
            return api.explainer_class(spec["class_name"]).from_config(config, self.model), {}
        options = dict(spec["options"], verbose=0)
        if random_state is not None:
            options["random_state"] = random_state
        return api.build_explainer(self.model, spec["method"], **options)

    def _inputs(self, batch):
        if self.rows is not None:
            return np.asarray(self.rows[np.asarray(batch["id"])])
        if len(self.columns) == 1:
            return np.asarray(batch[self.columns[0]])
        return np.stack([np.asarray(batch[name], np.float32) for name in self.columns], axis=1)

    def __call__(self, batch):
        from keras_explain.datasets import shard_seed

        ids = np.asarray(batch["id"], np.int64)
        explainer, call = self.explainer
        if self.spec["seed"] is not None:
            # The batch's seed on the worker's explainer: its compiled step is shared, not traced again.
            first = int(ids[0])
            explainer = explainer.reseeded(shard_seed(self.spec["seed"], first // self.batch_size,
                                                      first % self.batch_size))
        e = explainer.explain(self._inputs(batch), targets=self.targets, **call)
        if isinstance(e.attributions, list):
            fail("model", "a model with one input", f"a model with {len(e.attributions)} inputs")
        return {"id": ids, "target": e.targets.astype(np.int64), "prediction": e.predictions,
                "attributions": e.attributions}
