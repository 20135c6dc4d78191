"""Perturbation methods: hide part of an example and read the drop of the score."""

from keras_explain.methods.perturbation.feature_ablation import FeatureAblation
from keras_explain.methods.perturbation.occlusion import Occlusion

__all__ = ["FeatureAblation", "Occlusion"]
