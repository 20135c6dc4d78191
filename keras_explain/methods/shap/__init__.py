"""SHAP values for deep models: DeepShap (DeepLIFT rules) and GradientShap."""

from keras_explain.methods.shap.deepshap import AdditivityError, DeepShap
from keras_explain.methods.shap.gradientshap import GradientShap

__all__ = ["AdditivityError", "DeepShap", "GradientShap"]
