"""Shared machinery, written once: the base explainer, batching, compiling,
the model function, inputs, targets, checks and the registry. Nothing here
imports a method."""
