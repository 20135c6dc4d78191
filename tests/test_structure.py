"""The package's two layers and the method contract, checked on the source and on instances."""

import ast
import pathlib

import numpy as np
import pytest

import keras_explain as kx
from keras_explain.engine import registry

PACKAGE = pathlib.Path(kx.__file__).parent


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports():
    """module -> the keras_explain modules it imports (lazy imports included)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_the_engine_imports_no_method_and_render_no_result_type():
    graph = _imports()
    engine = {m: deps for m, deps in graph.items() if m.startswith("keras_explain.engine")}
    assert len(engine) >= 10
    leaks = {
        m: sorted(d for d in deps if not d.startswith("keras_explain.engine"))
        for m, deps in engine.items()
    }
    # The engine may build the result type, nothing else outside itself.
    assert {m: d for m, d in leaks.items() if set(d) - {"keras_explain.explanation", "keras_explain.parts"}} == {}
    render = {m: deps for m, deps in graph.items() if m.startswith("keras_explain.render")}
    for module, deps in render.items():
        bad = [d for d in deps if d.startswith(("keras_explain.methods", "keras_explain.explanation"))]
        assert bad == [], module


def test_no_import_circle():
    graph = _imports()
    state, path, circles = {}, [], []

    def visit(module):
        state[module] = "open"
        path.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                circles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert circles == []


BASE_PRIVATE = {"_model_fn", "_step"}
DECLARED = {
    "method": str,
    "computes_predictions": bool,
    "accepts_several_inputs": bool,
    "smoothable": bool,
    "per_example": bool,
    "explain_options": dict,
    "state_attributes": tuple,
}
ENGINE_ONLY = ("explain", "run_plan", "predict", "_run_step", "batch_size_for", "explanation")


@pytest.mark.parametrize("name", kx.available_methods())
def test_every_method_declares_its_capabilities(name):
    cls = kx.api.explainer_class(name)
    assert cls.method == name
    for attribute, kind in DECLARED.items():
        assert isinstance(getattr(cls, attribute), kind), attribute
    # Only the base class runs the loop; a method writes hooks.
    for attribute in ENGINE_ONLY:
        assert getattr(cls, attribute) is getattr(kx.Explainer, attribute), attribute
    assert cls.batch_kernel is not kx.Explainer.batch_kernel
    assert kx.api.method_options(name)["explain"] == list(cls.explain_options)


def test_instances_hold_only_declared_private_state(method_cases):
    for name, case in method_cases.items():
        explainer = case.build()
        private = {k for k in vars(explainer) if k.startswith("_")}
        assert private <= BASE_PRIVATE | set(type(explainer).state_attributes), name
        before = {k: v for k, v in vars(explainer).items()}
        options = {} if case.labels is None else {"y": case.labels}
        explainer.explain(case.x, verbose=0, **options)
        after = vars(explainer)
        assert set(after) == set(before), name
        for key, value in before.items():
            assert after[key] is value, (name, key)


def test_the_registry_refuses_a_name_collision():
    class Other(kx.Explainer):
        method = "other_saliency"

        def batch_kernel(self, rows):
            return {"attributions": rows["x"]}

    with pytest.raises(ValueError) as error:
        registry.register("other_saliency", aliases=("ig",))(Other)
    assert str(error.value) == (
        "register: the name 'ig' of Other is already registered by IntegratedGradients "
        "(method 'integrated_gradients'); choose another name."
    )
    assert "other_saliency" not in kx.available_methods()
    with pytest.raises(ValueError, match=r"register: expected Other.method == 'renamed'"):
        registry.register("renamed")(Other)
    with pytest.raises(ValueError, match="register: expected names of lower-case letters"):
        registry.register("Bad Name")


def test_a_method_written_on_the_contract_alone(linear_model, linear_weights, rows):
    """Gradient x input in the hooks the base docstring names: exact on a linear model."""
    import tensorflow as tf

    class GradientTimesInput(kx.Explainer):
        method = "gradient_times_input"

        def batch_kernel(self, rows):
            x = rows["x"]
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = self.model_function(x)
                score = tf.gather(y, rows["target"], batch_dims=1)
            return {"attributions": tape.gradient(score, x) * x}

    e = GradientTimesInput(linear_model, batch_size=4).explain(rows, targets=1)
    kernel, _ = linear_weights
    np.testing.assert_allclose(e.attributions, rows * kernel[:, 1], rtol=1e-6)
    assert e.method == "gradient_times_input"
    with pytest.raises(TypeError, match=r"unexpected options \['steps'\]"):
        GradientTimesInput(linear_model).explain(rows, steps=3)
