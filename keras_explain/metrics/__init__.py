"""Is the explanation right? Faithfulness and sanity metrics, run on the engine.

Every metric is a class whose call scores the attributions of a model at
some examples, one score per example:

```python
import keras_explain as kx

e = kx.GradientSaliency(model).explain(x)
result = kx.metrics.Deletion(steps=20)(model, x, e)   # or attributions (N, ...)
result.scores, result.mean, result.curve

e.evaluate(["deletion", "insertion", "mufidelity"], random_state=0)
e.metric_scores["deletion"]                           # (N,), saved with e
```

* `Deletion`, `Insertion` (Petsiuk et al. 2018): the area under the output
  as features are removed, or added, in order of attribution.
* `MuFidelity` (Bhatt et al. 2020, as xplique computes it) and
  `FaithfulnessCorrelation` (the same paper, as Quantus defines it): the
  correlation of the attribution mass of random subsets with the output's
  drop when they are hidden.
* `Infidelity`, `MaxSensitivity` (Yeh et al. 2019, as captum computes
  them): the squared error of the attributions' prediction of output
  changes under noise, and the largest relative change of the attributions
  when the input moves a little.
* `RandomizationSanity` (Adebayo et al. 2018): the rank correlation with
  the original maps as a clone of the model is randomised layer by layer.

The perturbation metrics build the perturbed inputs inside one compiled
step, batch by batch, at most `batch_size` inputs at once; seeded metrics
give the same scores for the same `random_state` whatever the batch size.
The names load on first use (`import keras_explain.metrics` is cheap).
"""

import importlib

#: Public name -> the module that defines it.
_EXPORTS = {
    "METRICS": "evaluation",
    "CausalMetric": "causal",
    "Deletion": "causal",
    "FaithfulnessCorrelation": "correlation",
    "Infidelity": "infidelity",
    "Insertion": "causal",
    "MaxSensitivity": "infidelity",
    "Metric": "base",
    "MetricResult": "base",
    "MuFidelity": "correlation",
    "RandomizationSanity": "randomization",
    "SubsetCorrelation": "correlation",
    "available_metrics": "evaluation",
    "evaluate": "evaluation",
    "rank_correlation": "statistics",
    "resolve_metrics": "evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'keras_explain.metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"keras_explain.metrics.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
