"""LIME: one base (sampler, kernel, surrogate) configured for images and tables."""

from keras_explain.methods.lime.image import LimeImage
from keras_explain.methods.lime.tabular import LimeTabular

__all__ = ["LimeImage", "LimeTabular"]
