"""Is the explanation right? Score explanations with keras_explain's metrics.

Used by examples/demo.py: `score(model, explanations)` evaluates each image
explanation with Deletion, Insertion and MuFidelity, keeps the scores in the
explanations (the report shows them) and prints one line per method.
"""

from keras_explain.render import scores

#: The metrics and the small-image settings the demo uses (8x8 digits).
METRICS = ("deletion", "insertion", "mufidelity")
SETTINGS = {"steps": 16, "grid_size": 4, "nb_samples": 64}


def score(model, explanations, seed=0):
    """Evaluate the image explanations; returns {method: {metric: mean}}."""
    means = {}
    for e in explanations:
        if e.attributions.ndim not in (3, 4):
            continue
        e.evaluate(list(METRICS), model=model, random_state=seed, **SETTINGS)
        means[e.method] = {m["name"]: m["mean"] for m in scores.score_table(e)["metrics"]}
    width = max(map(len, means))
    print(f"  {'method':<{width}}  deletion (lower is better)  insertion (higher)  mufidelity (higher)")
    for name, row in means.items():
        print(f"  {name:<{width}}  {row['deletion']:26.4f}  {row['insertion']:18.4f}  {row['mufidelity']:19.4f}")
    return means
