"""keras_explain: explanations for Keras 3 models on TensorFlow.

```python
import keras_explain as kx

e = kx.GradientSaliency(model).explain(x)
e.attributions, e.targets, e.predictions
e.plot(save="saliency.png")
e.save("saliency.npz")
```
"""

from keras_explain import callbacks, viz
from keras_explain.core.base import Explainer
from keras_explain.core.registry import available_methods, build_explainer, explain
from keras_explain.explanation import Explanation
from keras_explain.methods import (
    GradCAM,
    GradientSaliency,
    IntegratedGradients,
    LimeImage,
    SmoothGrad,
)

__version__ = "0.1.0"

__all__ = [
    "callbacks",
    "Explainer",
    "Explanation",
    "GradCAM",
    "GradientSaliency",
    "IntegratedGradients",
    "LimeImage",
    "SmoothGrad",
    "available_methods",
    "build_explainer",
    "explain",
    "viz",
]
