"""One folder per family of methods; importing this package registers them all."""

from keras_explain.methods.gradients import (
    GradCAM,
    GradCAMPlusPlus,
    GradientSaliency,
    IntegratedGradients,
    SmoothGrad,
)
from keras_explain.methods.lime import KernelShap, LimeImage, LimeTabular
from keras_explain.methods.perturbation import FeatureAblation, Occlusion, PermutationImportance
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
    "KernelShap",
    "LimeImage",
    "LimeTabular",
    "Occlusion",
    "PermutationImportance",
    "SmoothGrad",
]
