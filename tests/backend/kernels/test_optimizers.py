"""The optimizer update kernels: compiled (numba) against the NumPy reference, bit for bit, for every rule.

The compiled loops do the same float32 (or float64) operations in the same order as the references, with the
scalars rounded to the arrays' dtype first as NumPy 2 does (NEP 50), so every comparison here is exact
(``assert_array_equal``, NaN equal to NaN); the optimizers' own tests (tests/optimizers) compare the rules
with the papers' formulas.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.backend import kernels, parallel
from neurona.backend.kernels import select

# rule -> (update(arrays, grad), slot names, starting value of the slots): every variant of every rule
CASES = {
    "sgd": (lambda a, g: kernels.sgd_update(a["var"], g, None, 0.1), (), 0.0),
    "sgd momentum": (lambda a, g: kernels.sgd_update(a["var"], g, a["m"], 0.1, 0.9), ("m",), 0.0),
    "sgd nesterov": (lambda a, g: kernels.sgd_update(a["var"], g, a["m"], 0.1, 0.9, True), ("m",), 0.0),
    "adam": (lambda a, g: kernels.adam_update(a["var"], g, a["m"], a["v"], None, 0.03, 0.9, 0.999, 1e-7),
             ("m", "v"), 0.0),
    "amsgrad": (lambda a, g: kernels.adam_update(a["var"], g, a["m"], a["v"], a["v_hat"], 0.03, 0.8, 0.5, 1e-3),
                ("m", "v", "v_hat"), 0.0),
    "rmsprop": (lambda a, g: kernels.rmsprop_update(a["var"], g, a["v"], None, None, 0.01, 0.9, 0.0, 1e-7),
                ("v",), 0.0),
    "rmsprop centered": (lambda a, g: kernels.rmsprop_update(a["var"], g, a["v"], a["a"], None, 0.01, 0.9, 0.0,
                                                             1e-7), ("v", "a"), 0.0),
    "rmsprop momentum": (lambda a, g: kernels.rmsprop_update(a["var"], g, a["v"], None, a["b"], 0.01, 0.9, 0.5,
                                                             1e-7), ("v", "b"), 0.0),
    "rmsprop centered momentum": (lambda a, g: kernels.rmsprop_update(a["var"], g, a["v"], a["a"], a["b"], 0.01,
                                                                      0.8, 0.3, 1e-5), ("v", "a", "b"), 0.0),
    "adagrad": (lambda a, g: kernels.adagrad_update(a["var"], g, a["s"], 0.1, 1e-7), ("s",), 0.1),
    "adadelta": (lambda a, g: kernels.adadelta_update(a["var"], g, a["eg"], a["edx"], 1.0, 0.95, 1e-7),
                 ("eg", "edx"), 0.0),
}
NAMES = sorted(CASES)
DTYPES = ["float32", "float64"]


def needs_numba():
    pytest.importorskip("numba", reason="the compiled kernels need numba")


def start(case, shape, dtype, seed, order="C"):
    """The variable and its slots before the first step, and three gradients (some entries exactly zero)."""
    rng = np.random.default_rng(seed)
    _, slot_names, initial = CASES[case]
    arrays = {"var": np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)}
    for name in slot_names:
        arrays[name] = np.full(shape, initial, dtype=dtype, order=order)
    grads = [(rng.standard_normal(shape) * rng.uniform(0.01, 3.0) * (rng.random(shape) > 0.2)).astype(dtype)
             for _ in range(3)]
    return arrays, grads


def run(case, arrays, grads, choice):
    """The arrays after one step per gradient with ``NEURONA_KERNELS=choice`` (the inputs are not modified)."""
    arrays = {k: v.copy(order="K") for k, v in arrays.items()}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEURONA_KERNELS", choice)
        for g in grads:
            CASES[case][0](arrays, g)
    return arrays


def assert_same(got, want):
    assert got.keys() == want.keys()
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


# ---- compiled == reference ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", NAMES)
@settings(max_examples=12, deadline=None)
@given(shape=st.lists(st.integers(0, 9), min_size=0, max_size=3).map(tuple), seed=st.integers(0, 2**16))
def test_compiled_equals_the_reference_bit_for_bit(case, dtype, shape, seed):
    needs_numba()
    arrays, grads = start(case, shape, dtype, seed)
    assert_same(run(case, arrays, grads, "numba"), run(case, arrays, grads, "numpy"))


@pytest.mark.parametrize("choice", ["numba", "numpy"])
@pytest.mark.parametrize("case", NAMES)
def test_numba_runs_the_compiled_kernel_and_numpy_never_does(monkeypatch, case, choice):
    needs_numba()
    arrays, grads = start(case, (4, 3), "float32", 0)
    monkeypatch.setenv("NEURONA_KERNELS", "numba")
    fast = select.compiled("optimizers", arrays["var"])
    name = {"amsgrad": "adam"}.get(case, case.split()[0])
    calls = []
    original = getattr(fast, name)
    monkeypatch.setattr(fast, name, lambda *args: calls.append(args[0].dtype) or original(*args))
    run(case, arrays, grads, choice)
    assert calls == ([np.dtype("float32")] * len(grads) if choice == "numba" else [])


@pytest.mark.parametrize("choice", ["numba", "numpy"])
@pytest.mark.parametrize("case", NAMES)
def test_float32_arithmetic_stays_float32(case, choice):
    """A Python-float hyperparameter is rounded to float32 and the step computed in float32 (NEP 50): the same
    bits as the rule written with NumPy float32 scalars, not as the rule in float64 rounded at the end."""
    if choice == "numba":
        needs_numba()
    arrays, grads = start(case, (50,), "float32", 3)
    got = run(case, arrays, grads, choice)
    wide = run(case, {k: v.astype("float64") for k, v in arrays.items()}, [g.astype("float64") for g in grads],
               choice)
    assert all(a.dtype == np.float32 for a in got.values())
    assert not np.array_equal(got["var"], wide["var"].astype("float32"))  # float64 arithmetic would differ
    np.testing.assert_allclose(got["var"], wide["var"], rtol=1e-4, atol=1e-5)


# ---- threads, layouts ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("choice", ["numba", "numpy"])
@pytest.mark.parametrize("case", NAMES)
def test_the_result_does_not_depend_on_the_number_of_threads(monkeypatch, case, choice):
    if choice == "numba":
        needs_numba()
    arrays, grads = start(case, (7, 5), "float32", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "1")
    serial = run(case, arrays, grads, choice)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)  # so that 35 elements are split
    for threads in ("2", "3"):
        monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
        assert_same(run(case, arrays, grads, choice), serial)


@pytest.mark.parametrize("choice", ["numba", "numpy"])
@pytest.mark.parametrize("case", ["adam", "rmsprop centered momentum", "adadelta"])
def test_a_strided_gradient_or_a_fortran_ordered_variable_gives_the_same_update(case, choice):
    """A transposed gradient is read through a contiguous copy; a variable (and slots) in Fortran order is
    updated in place by the reference on the whole arrays: both give the C-ordered result."""
    if choice == "numba":
        needs_numba()
    arrays, grads = start(case, (6, 4), "float64", 2)
    want = run(case, arrays, grads, choice)
    strided = [np.ascontiguousarray(g.T).T for g in grads]
    assert not strided[0].flags.c_contiguous
    assert_same(run(case, arrays, strided, choice), want)
    fortran = {k: np.asfortranarray(v) for k, v in arrays.items()}
    got = run(case, fortran, grads, choice)
    assert not got["var"].flags.c_contiguous
    assert_same(got, want)


@pytest.mark.parametrize("case", NAMES)
def test_float16_takes_the_reference(case):
    """Only float32 and float64 are compiled; other dtypes run the reference, whatever NEURONA_KERNELS says."""
    needs_numba()
    arrays, grads = start(case, (5,), "float16", 4)
    with np.errstate(over="ignore", invalid="ignore"):
        assert_same(run(case, arrays, grads, "numba"), run(case, arrays, grads, "numpy"))


# ---- edge values ---------------------------------------------------------------------------------------------
def test_amsgrad_max_propagates_nan_like_numpy():
    needs_numba()
    arrays, grads = start("amsgrad", (6,), "float32", 5)
    arrays["v_hat"][:] = [np.nan, 0.0, 1.0, np.nan, 0.5, 0.0]
    grads[0][1] = np.nan
    with np.errstate(invalid="ignore"):
        got, want = run("amsgrad", arrays, grads, "numba"), run("amsgrad", arrays, grads, "numpy")
    assert np.isnan(want["v_hat"][[0, 1, 3]]).all()
    assert_same(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_zero_denominator_gives_inf_or_nan_as_in_numpy_instead_of_raising(dtype):
    needs_numba()
    var, m, v = np.ones(3, dtype=dtype), np.array([1.0, 0.0, -1.0], dtype=dtype), np.zeros(3, dtype=dtype)
    got = {"var": var.copy(), "m": m.copy(), "v": v.copy()}
    want = {k: a.copy() for k, a in got.items()}
    zero = np.zeros(3, dtype=dtype)
    with pytest.MonkeyPatch.context() as mp, np.errstate(divide="ignore", invalid="ignore"):
        for choice, arrays in (("numba", got), ("numpy", want)):
            mp.setenv("NEURONA_KERNELS", choice)
            kernels.adam_update(arrays["var"], zero, arrays["m"], arrays["v"], None, 1.0, 1.0, 1.0, 0.0)  # m, v kept
    assert np.isinf(want["var"][[0, 2]]).all() and np.isnan(want["var"][1])
    assert_same(got, want)


def test_a_slot_of_another_shape_is_named_in_the_error():
    var = np.zeros((3, 2), dtype="float32")
    with pytest.raises(ValueError, match=r"adam_update: v has shape \(2, 3\), expected the variable's shape \(3, 2\)"):
        kernels.adam_update(var, var.copy(), var.copy(), np.zeros((2, 3), "float32"), None, 0.1, 0.9, 0.999, 1e-7)
