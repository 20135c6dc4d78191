"""One folder per family of methods; importing this package registers them all."""

from keras_explain.methods.gradients import (
    GradCAM,
    GradCAMPlusPlus,
    GradientSaliency,
    IntegratedGradients,
    SmoothGrad,
)
from keras_explain.methods.lime import LimeImage, LimeTabular
from keras_explain.methods.perturbation import FeatureAblation, Occlusion
from keras_explain.methods.shap import AdditivityError, DeepShap, GradientShap

__all__ = [
    "AdditivityError",
    "DeepShap",
    "FeatureAblation",
    "GradCAM",
    "GradCAMPlusPlus",
    "GradientSaliency",
    "GradientShap",
    "IntegratedGradients",
    "LimeImage",
    "LimeTabular",
    "Occlusion",
    "SmoothGrad",
]
