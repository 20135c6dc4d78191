"""Pictures of explanations: colour maps, overlays and figures.

Signed maps use a diverging colour map centred on 0 (blue negative, red
positive); magnitudes use a sequential one. Figures are built without pyplot,
so they work headless and never pop up windows; pass `save=` to write a file.

* Colours and overlays: `to_rgb_uint8`, `color_limits`, `heatmap_limits`,
  `colorize`, `overlay`, `blend`, `colormap_stops`, `enlarge`,
  `display_scale`.
* Pictures as arrays: `sample_pictures`, `segment_boundaries`,
  `lime_image_and_mask`, `png_bytes`, `save_image`.
* Figures: `plot_explanation`, `contact_sheet`, `write_contact_sheet`, with
  the caption helpers `sample_title`, `panel_title`, `output_label` and
  `plain_text`.
* Global views: `summary_plot` (beeswarm, bar, violin), `dependence_plot`;
  for images `class_average_plot` and `extremes_sheet`.
* Local views of one example: `waterfall_plot`, `force_plot` and
  `lime_list_plot` (LIME's notebook view).
* Text (explanations in token space, such as `LimeText`'s): `text_html`
  (the tokens highlighted by weight, an HTML fragment) and `text_plot`
  (the top tokens of one example as bars).

The global and local views return the Figure with the numbers they drew as
a dict, `figure.keras_explain_data` (the Axes drawn on carry it too), so
every number a plot shows can be read back.
"""

from keras_explain.render.card import output_label
from keras_explain.render.colors import (
    BOUNDARY_COLOR,
    DIVERGING,
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    SEQUENTIAL,
    blend,
    color_limits,
    colorize,
    colormap_stops,
    display_scale,
    enlarge,
    heatmap_limits,
    overlay,
    to_rgb_uint8,
)
from keras_explain.render.figures import panel_title, plain_text, plot_explanation, sample_title
from keras_explain.render.global_images import class_average_plot, extremes_sheet
from keras_explain.render.global_plots import dependence_plot, summary_plot
from keras_explain.render.local_plots import force_plot, lime_list_plot, waterfall_plot
from keras_explain.render.pictures import (
    lime_image_and_mask,
    png_bytes,
    sample_pictures,
    save_image,
    segment_boundaries,
)
from keras_explain.render.sheets import contact_sheet, write_contact_sheet
from keras_explain.render.text import text_html, text_plot

__all__ = [
    "BOUNDARY_COLOR",
    "DIVERGING",
    "NEGATIVE_COLOR",
    "POSITIVE_COLOR",
    "SEQUENTIAL",
    "blend",
    "class_average_plot",
    "color_limits",
    "colorize",
    "colormap_stops",
    "contact_sheet",
    "dependence_plot",
    "display_scale",
    "enlarge",
    "extremes_sheet",
    "force_plot",
    "heatmap_limits",
    "lime_image_and_mask",
    "lime_list_plot",
    "output_label",
    "overlay",
    "panel_title",
    "plain_text",
    "plot_explanation",
    "png_bytes",
    "sample_pictures",
    "sample_title",
    "save_image",
    "segment_boundaries",
    "summary_plot",
    "text_html",
    "text_plot",
    "to_rgb_uint8",
    "waterfall_plot",
    "write_contact_sheet",
]
