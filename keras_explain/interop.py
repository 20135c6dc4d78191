"""Interoperability: explanations as other packages' result types.

`to_shap(e)` returns a `shap.Explanation`, so shap's own plotting code
(`shap.plots.beeswarm`, `shap.plots.waterfall`, ...) reads our results. shap
is imported only here, when called; keras_explain does not install it.
"""

import numpy as np

from keras_explain.feature_views import base_values, check_explanations

__all__ = ["to_shap"]


def to_shap(explanation):
    """The explanation as a `shap.Explanation` (values, base_values, data, feature_names).

    Args:
        explanation: an `Explanation` of a model with one input.

    Returns:
        `shap.Explanation` with `values` the attributions (N, ...) as they
        are, `base_values` (N,) float64 where the attributions start from
        (`expected_value` for the SHAP methods, `baseline_scores` for
        Integrated Gradients, else f(x) - sum(attributions); see
        `keras_explain.feature_views.base_values`), `data` the inputs when
        they are shaped like the attributions (else None), `feature_names`
        for tables and `display_data` the `feature_values` strings when
        present. Each row explains its own output (`targets`), so the
        values have no output axis.

    Raises:
        ImportError: when shap is not installed.
        ValueError: for a model with several inputs.

    Example:

    ```python
    import shap
    shap.plots.beeswarm(kx.KernelShap(model, background).explain(x).to_shap())
    ```
    """
    try:
        import shap
    except ImportError:
        raise ImportError(
            "to_shap() needs shap, which keras_explain does not install: pip install shap "
            "(or read e.attributions and use kx.viz.summary_plot / kx.viz.waterfall_plot)."
        ) from None
    check_explanations([explanation], "explanation")
    values = np.asarray(explanation.attributions)
    inputs = explanation.inputs
    data = inputs if isinstance(inputs, np.ndarray) and inputs.shape == values.shape else None
    names = explanation.extras.get("feature_names") if values.ndim == 2 else None
    shown = explanation.extras.get("feature_values")
    return shap.Explanation(
        values=values,
        base_values=base_values(explanation)[0],
        data=data,
        display_data=None if shown is None else np.asarray(shown),
        feature_names=None if names is None else [str(n) for n in names],
    )
