"""Perturbation methods: hide or shuffle part of the input and read the drop of the score."""

from keras_explain.methods.perturbation.feature_ablation import FeatureAblation
from keras_explain.methods.perturbation.occlusion import Occlusion
from keras_explain.methods.perturbation.permutation import PermutationImportance

__all__ = ["FeatureAblation", "Occlusion", "PermutationImportance"]
