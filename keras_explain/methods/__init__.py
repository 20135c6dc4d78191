"""One module per family of methods; importing it registers the methods."""

from keras_explain.methods.gradcam import GradCAM
from keras_explain.methods.gradients import GradientSaliency, IntegratedGradients, SmoothGrad
from keras_explain.methods.lime_image import LimeImage

__all__ = ["GradCAM", "GradientSaliency", "IntegratedGradients", "LimeImage", "SmoothGrad"]
