"""Dataset-scale explanation: shards written as they are explained, a manifest, resuming, a global summary.

```python
import keras_explain as kx

results = kx.explain_dataset(kx.IntegratedGradients(model), dataset, out="ig-val", shard_size=1024)
results = kx.open_results("ig-val")          # later, or in another process
results.summary().mean_abs                   # per feature, over every row
```

Modules: `explain` (`explain_dataset`, the per-shard seeds), `sources`
(where rows come from), `prefetch` (the bounded background reader),
`distribute` (a shard across the replicas of a tf.distribute strategy),
`shards` (npz and Parquet files), `stats` (the summary, shard by shard),
`manifest`, `hashing`, `files` (atomic writes, checksums), `finish` (the
start and the end of a run) and `results` (`open_results`).
"""

from keras_explain.datasets.explain import explain_dataset, shard_seed
from keras_explain.datasets.results import Results, open_results

__all__ = ["Results", "explain_dataset", "open_results", "shard_seed"]
