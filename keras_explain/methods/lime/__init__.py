"""LIME: one base (sampler, kernel, surrogate) configured for images, tables, text and KernelSHAP."""

from keras_explain.methods.lime.image import LimeImage
from keras_explain.methods.lime.kernel_shap import KernelShap
from keras_explain.methods.lime.tabular import LimeTabular
from keras_explain.methods.lime.text import LimeText

__all__ = ["KernelShap", "LimeImage", "LimeTabular", "LimeText"]
