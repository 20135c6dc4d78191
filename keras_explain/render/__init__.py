"""What explanations look like: card contents, colours, pictures, figures and HTML.

* `card`: what a per-example card states, as plain values (no picture, no
  markup): the prediction, the strongest features, the checks.
* `colors`: colour maps, colour scales, the heatmap-on-image blend and
  image enlarging.
* `pictures`: overlays with superpixel boundaries, LIME masks, PNG encoding.
* `figures` and `sheets`: matplotlib figures and contact sheets.
* `html`: the self-contained HTML report.

`keras_explain.viz` and `keras_explain.report` are the public faces of these
modules. Nothing here imports an explainer or the `Explanation` class: an
explanation is read through its attributes.
"""
