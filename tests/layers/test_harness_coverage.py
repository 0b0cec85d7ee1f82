"""The shared layer harness covers every public layer, each with several cases and non-default arguments."""

import importlib.util
import inspect
from collections import defaultdict
from pathlib import Path

from neurona import layers

HERE = Path(__file__).resolve().parent


def _harness_cases():
    """The ``CASES`` of every tests/layers/test_harness_<group>.py, loaded by path (the test modules are
    not importable by name under --import-mode=importlib)."""
    cases = []
    for path in sorted(HERE.glob("test_harness_*.py")):
        if path.name == Path(__file__).name:
            continue
        spec = importlib.util.spec_from_file_location(f"_layer_harness_cases_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    return cases


def _public_layer_classes():
    classes = {getattr(layers, name) for name in layers.__all__}
    return sorted((c for c in classes if isinstance(c, type) and issubclass(c, layers.Layer) and c is not layers.Layer),
                  key=lambda c: c.__name__)


def _parameters(cls):
    """``(own, base)``: the constructor parameters ``cls`` adds, and the base Layer's, by name."""
    base = dict(inspect.signature(layers.Layer.__init__).parameters)
    own = {n: p for n, p in inspect.signature(cls.__init__).parameters.items()
           if n not in base and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return own, base


def _sets_an_option(cls, kwargs):
    """Whether ``kwargs`` sets one of the class's own optional arguments to a non-default value; for a class
    without options (Reshape, Flatten), whether it sets its required arguments or a non-default base argument
    (``name`` and ``trainable`` aside: every layer has them)."""
    own, base = _parameters(cls)
    optional = {n: p.default for n, p in own.items() if p.default is not inspect.Parameter.empty}
    if optional:
        return any(k in optional and v != optional[k] for k, v in kwargs.items())
    base_defaults = {n: p.default for n, p in base.items() if n not in ("self", "name", "trainable")}
    return any(k in own or (k in base_defaults and v != base_defaults[k]) for k, v in kwargs.items())


def _cell_classes(case):
    """The recurrent cells a case runs: a cell is called on (inputs, states), so the harness runs it inside
    ``RNN(cell=...)``, whose cases name it."""
    cell = case.kwargs.get("cell")
    return [layers.get(cell["class_name"])] if isinstance(cell, dict) else []


def test_every_public_layer_runs_through_the_harness_with_non_default_arguments():
    by_class = defaultdict(list)
    for case in _harness_cases():
        by_class[case.layer_class].append(case)
        for cell in _cell_classes(case):
            by_class[cell].append(case)
    public = _public_layer_classes()
    assert len(public) >= 21  # the 21 public layers of issue 10 (Input is InputLayer's factory)
    missing = [c.__name__ for c in public if c not in by_class]
    assert not missing, f"public layers without harness cases: {missing}"
    for cls in public:
        cases = by_class[cls]
        assert len(cases) >= 2, f"{cls.__name__}: {len(cases)} harness case(s), expected several variants"
        assert any(_sets_an_option(cls, case.kwargs) or _sets_an_option(cls, case.kwargs.get("cell", {}).get(
            "config", {})) for case in cases), f"{cls.__name__}: no case sets a non-default argument"
        labels = [case.label for case in cases]
        assert len(set(labels)) == len(labels), f"{cls.__name__}: duplicate cases {labels}"
    assert isinstance(layers.Input((2,)).layer, layers.InputLayer)


def test_every_registered_layer_name_resolves_to_a_covered_class():
    covered = {cls for case in _harness_cases() for cls in [case.layer_class, *_cell_classes(case)]}
    # the registry's canonical names; each of Neurona's own must be a layer the harness runs (other tests
    # register custom layers in the same process)
    # (models register as layers so that they nest; tests/models covers them)
    names = [name for name in layers._registry.names() if layers.get(name).__module__.startswith("neurona.")
             and not layers.get(name).__module__.startswith("neurona.models")]
    assert len(names) >= 21, f"the layer registry holds only {names}"
    uncovered = sorted(name for name in names if layers.get(name) not in covered)
    assert not uncovered, f"registered layers without harness cases: {uncovered}"
