"""One module per family of methods; importing it registers the methods."""

from keras_explain.methods.gradcam import GradCAM
from keras_explain.methods.gradients import GradientSaliency, IntegratedGradients, SmoothGrad
from keras_explain.methods.lime_image import LimeImage
from keras_explain.methods.lime_tabular import LimeTabular
from keras_explain.methods.shap import AdditivityError, DeepShap, GradientShap

__all__ = [
    "AdditivityError",
    "DeepShap",
    "GradCAM",
    "GradientSaliency",
    "GradientShap",
    "IntegratedGradients",
    "LimeImage",
    "LimeTabular",
    "SmoothGrad",
]
