"""Shared machinery: the base class, targets, batching, compiling and checks."""

from keras_explain.core.base import Explainer, Plan

__all__ = ["Explainer", "Plan"]
