"""The op harness covers every public op and every differentiable Tensor operator and method."""

from pathlib import Path

import numpy as np
from _harness.op_harness import all_cases

import neurona as nr
from neurona import ops

CASES = all_cases(Path(__file__).parent, skip=[Path(__file__).name])
# not differentiable (boolean results): checked by test_harness_operators.test_comparisons_...
COMPARISONS = {"__lt__", "__le__", "__gt__", "__ge__"}


def _installed_methods():
    """The Tensor attributes that neurona.ops installs (operators, methods, the T property)."""
    names = set()
    for name, value in vars(nr.Tensor).items():
        function = value.fget if isinstance(value, property) else value
        if callable(function) and getattr(function, "__module__", "").startswith("neurona.ops"):
            names.add(name)
    return names


def test_every_public_op_has_harness_cases():
    covered = {case.op.__name__ for case in CASES}
    missing = sorted(set(ops.__all__) - covered)
    assert not missing, f"public ops without an OpCase in tests/ops/test_harness_*.py: {missing}"


def test_every_tensor_operator_and_method_has_harness_cases():
    methods = _installed_methods()
    assert {"__add__", "sum", "T"} <= methods  # the scan finds what neurona.ops installs
    missing = sorted(methods - COMPARISONS - {case.method for case in CASES if case.method})
    assert not missing, f"Tensor operators/methods without an OpCase: {missing}"


def test_every_public_op_is_gradchecked_with_non_default_parameters_somewhere():
    not_gradchecked = sorted(set(ops.__all__) - {case.op.__name__ for case in CASES if case.gradcheck})
    assert not not_gradchecked, f"public ops that no OpCase gradchecks: {not_gradchecked}"
    with_params = {case.op.__name__ for case in CASES if case.params}
    parametrized = {"clip", "leaky_relu", "elu", "gelu", "softmax", "log_softmax", "conv1d", "conv2d",
                    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "batch_normalization", "standardize",
                    "sum", "mean", "max", "min", "softmax_cross_entropy", "transpose", "reshape", "getitem"}
    assert parametrized <= with_params, sorted(parametrized - with_params)


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"OpCases with the same id (they would draw the same inputs): {duplicates}"


def test_harness_inputs_are_seeded_per_case():
    case = next(c for c in CASES if c.op is ops.conv2d)
    first, second = case.arrays("float64"), case.arrays("float64")
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
