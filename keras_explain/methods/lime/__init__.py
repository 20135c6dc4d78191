"""LIME: one base (sampler, kernel, surrogate) configured for images, tables and KernelSHAP."""

from keras_explain.methods.lime.image import LimeImage
from keras_explain.methods.lime.kernel_shap import KernelShap
from keras_explain.methods.lime.tabular import LimeTabular

__all__ = ["KernelShap", "LimeImage", "LimeTabular"]
