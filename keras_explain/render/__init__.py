"""What explanations look like: card contents, colours, pictures, figures and HTML.

* `card`: what a per-example card states, as plain values (no picture, no
  markup): the prediction, the strongest features, the checks.
* `colors`: colour maps, colour scales, the heatmap-on-image blend and
  image enlarging.
* `pictures`: overlays with superpixel boundaries, LIME masks, PNG encoding.
* `figures` and `sheets`: matplotlib figures and contact sheets.
* `global_plots`, `global_images` and `local_plots`: the summary (beeswarm,
  bar, violin) and dependence plots, class-average maps and the extremes
  sheet, the waterfall, force and LIME list views; `plot_output` is how
  each returns the numbers it drew (`figure.keras_explain_data`).
* `scores`: metric scores as a table and as card lines.
* `html`, `blocks` and `html_global`: the self-contained HTML report, the
  blocks of its cards and its global section; `notebook`: the notebook
  view (`Explanation._repr_html_`).

`keras_explain.viz` and `keras_explain.report` are the public faces of these
modules. Nothing here imports an explainer or the `Explanation` class: an
explanation is read through its attributes.
"""
