"""keras_explain: explanations for Keras 3 models on TensorFlow.

```python
import keras_explain as kx

e = kx.GradientSaliency(model).explain(x)
e.attributions, e.targets, e.predictions
e.plot(save="saliency.png")
e.save("saliency.npz")
```

The public names load on first use, so that `import keras_explain` (and the
`keras-explain` command's `--help` and argument checks) do not pay for
importing TensorFlow until an explainer, a model or a picture is needed.
"""

import importlib

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "AdditivityError": "keras_explain.methods",
    "DeepShap": "keras_explain.methods",
    "FeatureAblation": "keras_explain.methods",
    "GradCAM": "keras_explain.methods",
    "GradCAMPlusPlus": "keras_explain.methods",
    "GradientSaliency": "keras_explain.methods",
    "GradientShap": "keras_explain.methods",
    "IntegratedGradients": "keras_explain.methods",
    "KernelShap": "keras_explain.methods",
    "LimeImage": "keras_explain.methods",
    "LimeTabular": "keras_explain.methods",
    "LimeText": "keras_explain.methods.lime",
    "Occlusion": "keras_explain.methods",
    "PermutationImportance": "keras_explain.methods",
    "SmoothGrad": "keras_explain.methods",
    "Explainer": "keras_explain.engine.explainer",
    "Explanation": "keras_explain.explanation",
    "available_methods": "keras_explain.api",
    "build_explainer": "keras_explain.api",
    "explain": "keras_explain.api",
    "load_model": "keras_explain.io",
    "Summary": "keras_explain.summaries",
    "summarize": "keras_explain.summaries",
    "explain_dataset": "keras_explain.datasets",
    "open_results": "keras_explain.datasets",
}
#: Public submodules.
_MODULES = ("api", "callbacks", "io", "metrics", "ray", "report", "viz")

__all__ = sorted(_EXPORTS) + list(_MODULES)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"keras_explain.{name}")
    else:
        raise AttributeError(f"module 'keras_explain' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
