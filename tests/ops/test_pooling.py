"""Pooling: forward against a direct loop, gradients against finite differences, tie handling."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import ops
from neurona.ops.convolution import same_padding


def naive_pool(x, pool, strides, padding, mode):
    """Keras semantics, one window at a time: max ignores padding; the mean counts only real cells."""
    n, h, w, c = x.shape
    if padding == "same":
        (pt, pb), (pl, pr) = (same_padding(h, pool[0], strides[0], 1), same_padding(w, pool[1], strides[1], 1))
    else:
        pt = pb = pl = pr = 0
    ho, wo = (h + pt + pb - pool[0]) // strides[0] + 1, (w + pl + pr - pool[1]) // strides[1] + 1
    out = np.zeros((n, ho, wo, c))
    for i, j in itertools.product(range(ho), range(wo)):
        r0, c0 = i * strides[0] - pt, j * strides[1] - pl
        window = x[:, max(r0, 0):r0 + pool[0], max(c0, 0):c0 + pool[1], :]
        out[:, i, j] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return out


CASES = [((2, 2), None, "valid"), ((2, 3), None, "valid"), ((2, 2), (1, 1), "valid"), ((3, 3), (2, 2), "same"),
         ((2, 2), (2, 2), "same"), ((3, 2), (1, 2), "valid")]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool,strides,padding", CASES)
def test_pool2d_matches_the_definition_and_gradcheck(device, mode, pool, strides, padding):
    # distinct values, so every window has a unique maximum and finite differences are exact
    x = np.random.default_rng(1).permutation(2 * 7 * 5 * 3).reshape(2, 7, 5, 3) / 10.0
    op = ops.max_pool2d if mode == "max" else ops.avg_pool2d
    out = op(nr.Tensor(x), pool, strides, padding)
    np.testing.assert_allclose(out.numpy(), naive_pool(x, pool, strides or pool, padding, mode), rtol=1e-12)
    assert nr.gradcheck(lambda t: op(t, pool, strides, padding), x)


@pytest.mark.parametrize("strides", [None, (1, 1)])
def test_max_pool_ties_pass_the_gradient_once(strides):
    x = nr.Tensor(np.zeros((1, 4, 4, 1)), requires_grad=True)  # all ties, as after a ReLU
    out = ops.max_pool2d(x, 2, strides)
    out.sum().backward()
    assert x.grad.sum() == out.size  # each window's gradient reaches exactly one input
    if strides is None:
        np.testing.assert_array_equal(x.grad[0, :, :, 0], [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])


def first_max_gradient(x, pool, g):
    """The max-pool gradient by definition: each non-overlapping window's g goes to its first (row-major)
    maximum; rows and columns no window covers get nothing."""
    dx = np.zeros_like(x)
    (ph, pw), (ho, wo) = pool, g.shape[1:3]
    for n, i, j, c in itertools.product(*map(range, (x.shape[0], ho, wo, x.shape[3]))):
        window = x[n, i * ph:(i + 1) * ph, j * pw:(j + 1) * pw, c]
        a, b = np.unravel_index(np.argmax(window), window.shape)  # argmax returns the first maximum
        dx[n, i * ph + a, j * pw + b, c] = g[n, i, j, c]
    return dx


@settings(max_examples=40, deadline=None)
@given(pool=st.sampled_from([(2, 2), (2, 3), (3, 3), (1, 2)]), extra=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       seed=st.integers(0, 2**31 - 1))
def test_tiled_max_pool_with_many_ties_routes_each_gradient_to_the_first_maximum(pool, extra, seed):
    # values drawn from {0, 1, 2} tie often, in every position of the window
    rng = np.random.default_rng(seed)
    h, w = 2 * pool[0] + extra[0], 2 * pool[1] + extra[1]
    x = rng.integers(0, 3, size=(2, h, w, 3)).astype(np.float64)
    t = nr.Tensor(x, requires_grad=True)
    out = ops.max_pool2d(t, pool)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    np.testing.assert_array_equal(out.numpy(), naive_pool(x, pool, pool, "valid", "max"))
    np.testing.assert_array_equal(t.grad, first_max_gradient(x, pool, g))


def test_tiled_max_pool_on_several_threads_matches_the_definition():
    # a batch large enough for the pool to be split across threads (backend.parallel.MIN_ELEMENTS)
    rng = np.random.default_rng(5)
    x = np.maximum(rng.integers(-2, 3, size=(8, 24, 24, 64)), 0).astype(np.float32)
    t = nr.Tensor(x, requires_grad=True)
    out = ops.max_pool2d(t, 2)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g)
    np.testing.assert_array_equal(out.numpy(), naive_pool(x, (2, 2), (2, 2), "valid", "max"))
    np.testing.assert_array_equal(t.grad, first_max_gradient(x, (2, 2), g))


def test_tiled_path_with_leftover_rows_gives_them_no_gradient():
    x = nr.Tensor(np.arange(25.0).reshape(1, 5, 5, 1), requires_grad=True)
    ops.max_pool2d(x, 2).sum().backward()
    assert x.grad[0, 4, :, 0].sum() == 0 and x.grad[0, :, 4, 0].sum() == 0
    assert x.grad.sum() == 4


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool1d(device, mode):
    x = np.random.default_rng(2).permutation(2 * 9 * 3).reshape(2, 9, 3) / 5.0
    op1, op2 = (ops.max_pool1d, ops.max_pool2d) if mode == "max" else (ops.avg_pool1d, ops.avg_pool2d)
    np.testing.assert_allclose(op1(nr.Tensor(x), 3, 2, "same").numpy(),
                               op2(nr.Tensor(x[:, None]), (1, 3), (1, 2), "same").numpy()[:, 0])
    assert nr.gradcheck(lambda t: op1(t, 3, 2, "same"), x)


def test_pool_errors():
    with pytest.raises(ValueError, match="4-D NHWC input"):
        ops.max_pool2d(nr.Tensor(np.ones((4, 4))))
    with pytest.raises(ValueError, match="does not fit"):
        ops.avg_pool2d(nr.Tensor(np.ones((1, 1, 4, 1))), 2)


@pytest.mark.parametrize("op", [ops.max_pool2d, ops.avg_pool2d])
def test_pool2d_takes_numpy_integers_and_any_case_padding(op):
    # issue 10 bad-input probe, ops item 3: pool_size=np.int64(2) raised "'numpy.int64' object is not iterable"
    x = nr.Tensor(np.random.default_rng(6).standard_normal((2, 5, 5, 3)))
    np.testing.assert_array_equal(op(x, np.int64(2)).numpy(), op(x, 2).numpy())
    np.testing.assert_array_equal(op(x, (np.int32(3), 2), [np.int64(1), 2], "Same").numpy(),
                                  op(x, (3, 2), (1, 2), "same").numpy())


@pytest.mark.parametrize("op", [ops.max_pool1d, ops.avg_pool1d])
def test_pool1d_takes_numpy_integers(op):
    x = nr.Tensor(np.random.default_rng(7).standard_normal((2, 7, 3)))
    np.testing.assert_array_equal(op(x, np.int64(3), (np.int64(2),), "SAME").numpy(), op(x, 3, 2, "same").numpy())


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("kwargs, error, message", [
    (dict(pool_size=0), ValueError, r"pool_size must be a positive int or a tuple of 2 positive ints, got 0"),
    (dict(strides=0), ValueError, r"strides must be a positive int or a tuple of 2 positive ints, got 0"),
    (dict(pool_size=(2, 0)), ValueError, r"pool_size must be .*got \(2, 0\)"),
    (dict(pool_size=(2,)), ValueError, r"pool_size must be .*got \(2,\)"),
    (dict(pool_size=2.0), TypeError, r"pool_size must be .*got 2\.0 \(float\)"),
    (dict(pool_size=True), TypeError, r"pool_size must be .*got True \(bool\)"),
    (dict(strides="2"), TypeError, r"strides must be .*got '2' \(str\)"),
    (dict(padding=None), TypeError, r"padding must be 'valid' or 'same'.*got None"),
    (dict(padding="full"), ValueError, r"padding must be 'valid' or 'same'.*got 'full'"),
])
def test_bad_pool2d_arguments_are_named(op, kwargs, error, message):
    # issue 10 bad-input probe, ops item 4: pool_size=0 / strides=0 raised ZeroDivisionError
    with pytest.raises(error, match=rf"{op}: {message}"):
        getattr(ops, op)(nr.Tensor(np.ones((1, 4, 4, 1))), **kwargs)


@pytest.mark.parametrize("op", ["max_pool1d", "avg_pool1d"])
@pytest.mark.parametrize("kwargs, error, message", [
    (dict(pool_size=0), ValueError, r"pool_size must be a positive int or a tuple of 1 positive ints, got 0"),
    (dict(pool_size=(2, 2)), ValueError, r"pool_size must be .*got \(2, 2\)"),
    (dict(strides=-1), ValueError, r"strides must be .*got -1"),
    (dict(strides=1.5), TypeError, r"strides must be .*got 1\.5 \(float\)"),
    (dict(padding=3.0), TypeError, r"padding must be 'valid' or 'same'"),
])
def test_bad_pool1d_arguments_are_named(op, kwargs, error, message):
    with pytest.raises(error, match=rf"{op}: {message}"):
        getattr(ops, op)(nr.Tensor(np.ones((1, 6, 2))), **kwargs)
