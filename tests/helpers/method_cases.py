"""One small, fast configuration of every registered method, for the cross-method tests."""

import dataclasses
from typing import Any, Callable

import numpy as np

import keras_explain as kx


@dataclasses.dataclass
class Case:
    """How to build one method on a tiny model and what to explain with it."""

    build: Callable[..., Any]  # build(**constructor overrides) -> explainer
    x: np.ndarray
    seeded: bool = False  # the method draws random numbers (random_state matters)
    labels: Any = None  # y for a method that explains a dataset (explain(x, y))


def method_cases(tanh_mlp, small_cnn, images, rows):
    """name -> Case for every registered method, on the session's tiny models."""
    background = rows[:4] * 0.5
    return {
        "saliency": Case(lambda **k: kx.GradientSaliency(small_cnn, **k), images),
        "integrated_gradients": Case(
            lambda **k: kx.IntegratedGradients(small_cnn, steps=8, **k), images
        ),
        "smoothgrad": Case(
            lambda **k: kx.SmoothGrad(
                kx.IntegratedGradients(tanh_mlp, steps=4), samples=3, random_state=k.pop("random_state", 5), **k
            ),
            rows,
            seeded=True,
        ),
        "gradcam": Case(lambda **k: kx.GradCAM(small_cnn, **k), images),
        "gradcam_plus_plus": Case(lambda **k: kx.GradCAMPlusPlus(small_cnn, **k), images),
        "occlusion": Case(lambda **k: kx.Occlusion(small_cnn, window=(3, 3), strides=2, **k), images),
        "kernel_shap": Case(
            lambda **k: kx.KernelShap(tanh_mlp, background, num_samples=20, random_state=k.pop("random_state", 4), **k),
            rows,
            seeded=True,
        ),
        "permutation_importance": Case(
            lambda **k: kx.PermutationImportance(
                tanh_mlp, metric="accuracy", n_repeats=3, random_state=k.pop("random_state", 6), **k
            ),
            rows,
            seeded=True,
            labels=np.arange(len(rows)) % 3,
        ),
        "feature_ablation": Case(lambda **k: kx.FeatureAblation(tanh_mlp, baseline="mean", **k), rows),
        "lime_text": Case(
            lambda **k: kx.LimeText(tanh_mlp, num_samples=40, random_state=k.pop("random_state", 7), **k),
            np.floor(np.abs(rows) * 3) % 5 + 1,  # token ids 1..5 (0 is padding)
            seeded=True,
        ),
        "lime_image": Case(
            lambda **k: kx.LimeImage(
                small_cnn,
                num_samples=40,
                segmentation="slic",
                segmentation_options={"n_segments": 9, "compactness": 1.0},
                random_state=k.pop("random_state", 1),
                **k,
            ),
            images,
            seeded=True,
        ),
        "lime_tabular": Case(
            lambda **k: kx.LimeTabular(
                tanh_mlp, rows * 2.0, num_samples=150, random_state=k.pop("random_state", 2), **k
            ),
            rows,
            seeded=True,
        ),
        "deepshap": Case(lambda **k: kx.DeepShap(tanh_mlp, background, **k), rows),
        "gradientshap": Case(
            lambda **k: kx.GradientShap(
                tanh_mlp, background, samples=12, random_state=k.pop("random_state", 3), **k
            ),
            rows,
            seeded=True,
        ),
    }
