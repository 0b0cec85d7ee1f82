"""Elementwise ops: forward values against NumPy, gradients against finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neurona as nr
from neurona import ops

# pairs of shapes that broadcast against each other, including rank changes and size-1 axes
BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((5,), ()), ((), (2, 2))]

BINARY = {
    "add": (ops.add, np.add),
    "sub": (ops.sub, np.subtract),
    "mul": (ops.mul, np.multiply),
    "div": (ops.div, np.divide),
}


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
def test_binary_ops_forward_and_gradcheck_with_broadcasting(device, rng, name, shapes):
    op, reference = BINARY[name]
    a, b = rng.standard_normal(shapes[0]), _positive(rng, shapes[1])
    out = op(nr.Tensor(a), nr.Tensor(b))
    np.testing.assert_allclose(out.numpy(), reference(a, b), rtol=1e-12)
    assert nr.gradcheck(op, a, b)


def test_operators_match_functions(device, rng):
    a = nr.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = nr.Tensor(_positive(rng, (2, 3)))
    for expr, expected in [
        (a + b, a.data + b.data), (a - b, a.data - b.data), (a * b, a.data * b.data),
        (a / b, a.data / b.data), (-a, -a.data), (2.0 - a, 2.0 - a.data), (1.0 / b, 1.0 / b.data),
        (a**2, a.data**2), (3 * a, 3 * a.data), (b**a, b.data**a.data),
    ]:
        np.testing.assert_allclose(expr.numpy(), expected, rtol=1e-12)


def test_python_numbers_keep_float32():
    x = nr.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for y in (x * 2.0, 2.0 * x, x + 1, x / 3.0, x**2, 1.0 - x):
        assert y.dtype == np.float32


@pytest.mark.parametrize("shapes", [((3, 4), ()), ((3, 4), (4,)), ((2, 3), (2, 3))])
def test_pow_gradcheck_in_base_and_exponent(device, rng, shapes):
    assert nr.gradcheck(ops.pow, _positive(rng, shapes[0]), rng.standard_normal(shapes[1]))


def test_pow_with_constant_exponent_matches_closed_form(device, rng):
    x = nr.Tensor(_positive(rng, (4,)), requires_grad=True)
    (x**3).sum().backward()
    np.testing.assert_allclose(nr.backend.asnumpy(x.grad), 3 * x.numpy() ** 2, rtol=1e-6)


UNARY = {
    "neg": (ops.neg, np.negative, np.random.default_rng(1).standard_normal),
    "exp": (ops.exp, np.exp, np.random.default_rng(2).standard_normal),
    "log": (ops.log, np.log, lambda shape: np.random.default_rng(3).uniform(0.2, 3.0, shape)),
    "sqrt": (ops.sqrt, np.sqrt, lambda shape: np.random.default_rng(4).uniform(0.2, 3.0, shape)),
    "square": (ops.square, np.square, np.random.default_rng(5).standard_normal),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)])
def test_unary_ops(device, name, shape):
    op, reference, sample = UNARY[name]
    x = sample(shape)
    np.testing.assert_allclose(op(nr.Tensor(x)).numpy(), reference(x), rtol=1e-12)
    assert nr.gradcheck(op, x)


def _away_from(values, points, margin=1e-2):
    """Push values at least ``margin`` away from each kink in ``points`` (finite differences need smoothness)."""
    values = np.array(values, dtype=np.float64)
    for p in points:
        close = np.abs(values - p) < margin
        values[close] = p + np.where(values[close] >= p, margin, -margin) * 2
    return values


def test_abs(device, rng):
    x = _away_from(rng.standard_normal((3, 5)), [0.0])
    np.testing.assert_allclose(ops.abs(nr.Tensor(x)).numpy(), np.abs(x))
    assert nr.gradcheck(ops.abs, x)


def test_abs_subgradient_at_zero_is_zero():
    x = nr.Tensor(np.zeros(3), requires_grad=True)
    ops.abs(x).sum().backward()
    assert np.all(x.grad == 0)


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.3), (-0.2, None)])
def test_clip(device, rng, bounds):
    lo, hi = bounds
    x = _away_from(rng.standard_normal((4, 6)), [b for b in bounds if b is not None])
    np.testing.assert_allclose(ops.clip(nr.Tensor(x), lo, hi).numpy(), np.clip(x, lo, hi))
    assert nr.gradcheck(lambda t: ops.clip(t, lo, hi), x)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="at least one"):
        ops.clip(nr.Tensor([1.0]))


@pytest.mark.parametrize("lo, hi", [
    (np.full(6, -0.5), 0.5), (nr.Tensor(np.linspace(-1, 0, 6)), nr.Tensor(np.array(0.4))), ([-0.3] * 6, None),
    (np.float64(-0.5), np.int64(1)), (np.array([[-0.5], [-0.2], [0.0], [-1.0]]), np.float32(0.6)),
])
def test_clip_bounds_may_be_numpy_scalars_arrays_or_tensors(device, rng, lo, hi):
    x = rng.standard_normal((4, 6)).astype("float32")
    want = np.clip(x, np.asarray(lo, dtype="float32") if lo is not None else None,
                   np.asarray(hi, dtype="float32") if hi is not None else None)
    t = nr.Tensor(x, requires_grad=True)
    out = ops.clip(t, lo, hi)
    assert out.dtype == np.float32  # a float64 bound does not promote a float32 input
    np.testing.assert_array_equal(out.numpy(), want)
    out.sum().backward()
    np.testing.assert_array_equal(nr.backend.asnumpy(t.grad), (want == x).astype("float32"))


def test_clip_with_min_above_max_gives_max_as_numpy_and_pytorch():
    np.testing.assert_array_equal(ops.clip(nr.Tensor([-1.0, 0.5, 3.0]), 2.0, 1.0).numpy(), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("bounds, error, message", [
    (("a", 1.0), TypeError, r"clip: min must be a real number or an array of numbers, got 'a' \(str\)"),
    ((0.0, b"1"), TypeError, r"clip: max must be a real number or an array of numbers, got b'1' \(bytes\)"),
    ((True, None), TypeError, r"clip: min must be .*got True \(bool\)"),
    ((np.array(["a", "b", "c"]), None), TypeError, r"clip: min must be .*got array\(\['a', 'b', 'c'\]"),
    ((None, [1, "x", 2]), TypeError, r"clip: max must be a real number or an array of numbers"),
    ((None, {"max": 1}), TypeError, r"clip: max must be a real number or an array of numbers"),
    ((np.zeros(4), None), ValueError, r"clip: min of shape \(4,\) does not broadcast to the input's shape \(3,\)"),
    ((None, np.zeros((2, 3))), ValueError, r"clip: max of shape \(2, 3\) does not broadcast .*\(3,\)"),
])
def test_bad_clip_bounds_are_named(bounds, error, message):
    # issue 10 bad-input probe, ops item 5: clip(t, 'a', 1) raised NumPy's "ufunc ... did not contain a loop"
    with pytest.raises(error, match=message):
        ops.clip(nr.Tensor([-1.0, 0.5, 3.0]), *bounds)


def test_where(device, rng):
    cond = rng.random((3, 4)) > 0.5
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    np.testing.assert_allclose(ops.where(cond, nr.Tensor(a), nr.Tensor(b)).numpy(), np.where(cond, a, b))
    assert nr.gradcheck(lambda x, y: ops.where(cond, x, y), a, b)


@settings(max_examples=25, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    name=st.sampled_from(sorted(BINARY)),
)
def test_binary_ops_gradcheck_on_random_broadcast_shapes(shapes, name):
    op, _ = BINARY[name]
    rng = np.random.default_rng(7)
    a = rng.standard_normal(shapes.input_shapes[0])
    b = rng.uniform(0.5, 2.0, shapes.input_shapes[1])
    out = op(nr.Tensor(a), nr.Tensor(b))
    assert out.shape == shapes.result_shape
    assert nr.gradcheck(op, a, b)


def test_pow_gradients_at_base_zero_follow_pytorch(rng):
    # issue 10, defect 3: d(0**2)/db was NaN and 0**0 gave NaN/-inf; PyTorch's pow_backward gives 0 there.
    # Expected values are PyTorch 2.13's (torch.pow on these float64 tensors).
    base = np.array([0.0, 0.0, 0.0, 2.0, 0.0, 3.0])
    exponent = np.array([2.0, 0.0, 0.5, 3.0, -1.0, 0.0])
    a = nr.Tensor(base, requires_grad=True, dtype="float64")
    b = nr.Tensor(exponent, requires_grad=True, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 = inf is the right forward value
        (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0, np.inf, 12.0, -np.inf, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 0.0, 8 * np.log(2.0), -np.inf, np.log(3.0)])


def test_pow_of_relu_zeros_with_a_trainable_exponent_trains(rng):
    # post-ReLU zeros meeting a trainable exponent: every gradient stays finite
    x = nr.Tensor(rng.standard_normal(8), requires_grad=True, dtype="float64")
    p = nr.Tensor(np.array(2.0), requires_grad=True, dtype="float64")
    (ops.relu(x) ** p).sum().backward()
    assert np.isfinite(x.grad).all() and np.isfinite(p.grad)
    positive = np.maximum(x.numpy(), 0)
    np.testing.assert_allclose(p.grad, (positive[positive > 0] ** 2 * np.log(positive[positive > 0])).sum())


@pytest.mark.parametrize("condition, message", [
    (np.array(["a", "b"]), r"where: condition must be booleans or numbers, got an array of dtype <U1"),
    (np.array([None, 1], dtype=object), r"where: condition must be booleans or numbers, got an array of dtype object"),
    ([[1, 0], [1]], r"where: condition must be booleans or numbers, got \[\[1, 0\], \[1\]\] \(list\)"),
    (np.array([1j, 0j]), r"where: condition must be booleans or numbers, got an array of dtype complex128"),
])
def test_where_refuses_a_non_numeric_condition(condition, message):
    # issue 10 bad-input probe, ops item 6: a condition of strings was accepted (every string taken as true)
    with pytest.raises(TypeError, match=message):
        ops.where(condition, nr.Tensor([1.0, 2.0]), nr.Tensor([3.0, 4.0]))


def test_where_names_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"where: condition of shape \(2,\) and values of shapes \(3,\) and \(3,\)"):
        ops.where(np.array([True, False]), nr.Tensor(np.ones(3)), nr.Tensor(np.zeros(3)))


@pytest.mark.parametrize("condition", [np.array([1, 0]), [True, False], nr.Tensor([0.5, 0.0]), np.array([1.0, 0.0])])
def test_where_takes_boolean_and_numeric_conditions(condition):
    out = ops.where(condition, nr.Tensor([1.0, 2.0]), nr.Tensor([3.0, 4.0]))
    np.testing.assert_array_equal(out.numpy(), [1.0, 4.0])
