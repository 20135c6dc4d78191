"""Gradient methods: saliency, Integrated Gradients, SmoothGrad and Grad-CAM."""

from keras_explain.methods.gradients.gradcam import GradCAM, GradCAMPlusPlus
from keras_explain.methods.gradients.integrated_gradients import CompletenessWarning, IntegratedGradients
from keras_explain.methods.gradients.saliency import GradientSaliency
from keras_explain.methods.gradients.smoothgrad import SmoothGrad

__all__ = ["CompletenessWarning", "GradCAM", "GradCAMPlusPlus", "GradientSaliency", "IntegratedGradients", "SmoothGrad"]
