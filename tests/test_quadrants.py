"""On a task with a known answer, the explanations point at the evidence.

The label of each image is the quadrant holding a bright square; a trained
CNN's saliency, Integrated Gradients and Grad-CAM maps must peak in that
quadrant.
"""

import numpy as np
import pytest

import keras_explain as kx


def _quadrant_of_peak(maps):
    flat = maps.reshape(len(maps), -1).argmax(axis=1)
    rows, cols = np.unravel_index(flat, maps.shape[1:3])
    half = maps.shape[1] // 2
    return (rows >= half) * 2 + (cols >= half)


def test_the_model_learned_the_task(quadrant_task):
    _, _, _, accuracy = quadrant_task
    assert accuracy > 0.95


@pytest.mark.parametrize(
    "make,reduce",
    [
        (lambda m: kx.GradientSaliency(m), "sum"),
        (lambda m: kx.IntegratedGradients(m, steps=32), "sum"),
        (lambda m: kx.SmoothGrad(kx.GradientSaliency(m), samples=16, random_state=0), "sum"),
        (lambda m: kx.GradCAM(m), "sum"),
    ],
    ids=["saliency", "integrated_gradients", "smoothgrad", "gradcam"],
)
def test_peaks_fall_in_the_labelled_quadrant(quadrant_task, make, reduce):
    model, x_test, y_test, _ = quadrant_task
    e = make(model).explain(x_test, targets=y_test)
    hits = np.mean(_quadrant_of_peak(e.heatmap(reduce)) == y_test)
    assert hits >= 0.9, hits
