"""Fused normalization ops: batch_normalization (training) and standardize, against NumPy and finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import ops

# test data from its own seed: gradcheck projects the output on default_rng(0) normals, and data drawn from
# the same stream would make that projection (nearly) orthogonal to the gradient
DATA_SEED = 42

BATCH_NORM_CASES = [
    ((6, 4), (0,)),  # after Dense: (N, C)
    ((3, 2, 2, 4), (0, 1, 2)),  # channels last (N, H, W, C)
    ((3, 4, 2, 2), (0, 2, 3)),  # channels first (N, C, H, W)
    ((2, 3, 2, 5), (1, 3)),
    ((4, 3, 5), (0, 1, 2)),  # every axis: one scalar gamma and beta of shape ()
]


def _reference(x, axes, gamma, beta, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)  # biased, ddof=0
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _kept(shape, axes):
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _kept_dims(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


@pytest.mark.parametrize("shape,axes", BATCH_NORM_CASES)
def test_batch_normalization_forward_and_gradcheck(device, shape, axes):
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal(1.5, 2.0, shape)
    gamma, beta = rng.normal(1.0, 0.5, _kept(shape, axes)), rng.normal(0.0, 0.5, _kept(shape, axes))
    out = ops.batch_normalization(nr.Tensor(x), nr.Tensor(gamma), nr.Tensor(beta), axes=axes, epsilon=1e-3)
    expected = _reference(x, axes, gamma.reshape(_kept_dims(shape, axes)), beta.reshape(_kept_dims(shape, axes)),
                          1e-3)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert nr.gradcheck(lambda t, g, b: ops.batch_normalization(t, g, b, axes=axes), x, gamma, beta)


def test_batch_normalization_default_axes_are_all_but_last_and_params_default_to_identity():
    x = np.random.default_rng(DATA_SEED).normal(3.0, 4.0, (5, 3, 2))
    out = ops.batch_normalization(nr.Tensor(x), epsilon=0.0)
    np.testing.assert_allclose(out.numpy().mean(axis=(0, 1)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.numpy().std(axis=(0, 1)), 1.0, rtol=1e-12)
    assert nr.gradcheck(lambda t: ops.batch_normalization(t), x)


def test_batch_normalization_backward_matches_the_ioffe_szegedy_closed_form():
    rng = np.random.default_rng(DATA_SEED)
    x, g = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    gamma = nr.Tensor(np.array([0.5, 2.0, -1.0]), requires_grad=True)
    beta = nr.Tensor(np.zeros(3), requires_grad=True)
    xt = nr.Tensor(x, requires_grad=True)
    ops.batch_normalization(xt, gamma, beta, epsilon=1e-3).backward(g)
    m, mu, var = 8, x.mean(0), x.var(0)
    x_hat = (x - mu) / np.sqrt(var + 1e-3)
    # the paper's chain: dL/dvar, dL/dmu, then dL/dx (Algorithm 1, backward)
    d_x_hat = g * gamma.data
    d_var = (d_x_hat * (x - mu)).sum(0) * -0.5 * (var + 1e-3) ** -1.5
    d_mu = -d_x_hat.sum(0) / np.sqrt(var + 1e-3) + d_var * (-2 * (x - mu)).mean(0)
    dx = d_x_hat / np.sqrt(var + 1e-3) + d_var * 2 * (x - mu) / m + d_mu / m
    np.testing.assert_allclose(xt.grad, dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gamma.grad, (g * x_hat).sum(0), rtol=1e-12)
    np.testing.assert_allclose(beta.grad, g.sum(0), rtol=1e-12)


def test_batch_normalization_updates_moving_averages_in_place_with_the_biased_variance():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [8.0, 16.0]])
    moving_mean, moving_var = np.array([0.5, 0.0]), np.array([1.0, 2.0])
    ops.batch_normalization(nr.Tensor(x), moving_mean=moving_mean, moving_variance=moving_var, momentum=0.9)
    np.testing.assert_allclose(moving_mean, 0.9 * np.array([0.5, 0.0]) + 0.1 * x.mean(0))
    np.testing.assert_allclose(moving_var, 0.9 * np.array([1.0, 2.0]) + 0.1 * x.var(0))  # ddof=0: 26/3 and 8
    variable = nr.Variable(np.zeros(2), trainable=False)
    ops.batch_normalization(nr.Tensor(x), moving_mean=variable, moving_variance=np.ones(2), momentum=0.0)
    np.testing.assert_allclose(variable.numpy(), x.mean(0))  # a Variable is updated through its array


def test_batch_normalization_returns_the_batch_statistics_without_gradient():
    rng = np.random.default_rng(DATA_SEED)
    x = nr.Tensor(rng.normal(2.0, 3.0, (4, 5, 3)).astype("float32"), requires_grad=True)
    moving = np.zeros(3, np.float32)
    y, mean, var = ops.batch_normalization(x, axes=(0, 1), return_statistics=True)
    assert mean.shape == var.shape == (3,) and mean.dtype == var.dtype == np.float32
    assert not mean.requires_grad and not var.requires_grad
    np.testing.assert_allclose(mean.numpy(), x.numpy().mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(var.numpy(), x.numpy().var(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_array_equal(y.numpy(), ops.batch_normalization(x, axes=(0, 1)).numpy())
    # the moving arrays, when given, are updated outside the op from the same statistics
    ops.batch_normalization(x, axes=(0, 1), moving_mean=moving, moving_variance=np.ones(3, np.float32),
                            momentum=0.75)
    np.testing.assert_array_equal(moving, np.zeros(3, np.float32) * 0.75 + mean.numpy() * np.float32(0.25))


def test_batch_normalization_float32_keeps_precision_for_a_large_offset():
    # two-pass variance: E[x^2] - E[x]^2 would lose every digit here (1e8 against a variance of 1)
    x = np.random.default_rng(DATA_SEED).normal(1e4, 1.0, (4096, 3)).astype("float32")
    out = ops.batch_normalization(nr.Tensor(x), epsilon=0.0).numpy()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-3)


def test_batch_normalization_rejects_bad_shapes():
    x = nr.Tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\).*got \(4,\)"):
        ops.batch_normalization(x, gamma=np.ones(4))
    with pytest.raises(ValueError, match="both moving_mean and moving_variance"):
        ops.batch_normalization(x, moving_mean=np.zeros(3))
    with pytest.raises(ValueError, match="moving_variance must have shape"):
        ops.batch_normalization(x, moving_mean=np.zeros(3), moving_variance=np.zeros(2))
    with pytest.raises(ValueError, match="at least one axis"):
        ops.batch_normalization(x, axes=())


STANDARDIZE_CASES = [
    ((4, 6), (1,), (6,)),  # layer norm after Dense
    ((2, 3, 5), (2,), (5,)),  # layer norm of a sequence
    ((2, 3, 2, 4), (1, 2, 3), (3, 2, 4)),  # layer norm over all features, params over all of them
    ((2, 3, 3, 2, 2), (1, 2, 4), (2, 2)),  # group norm, channels last: (N, H, W, G, C/G)
    ((2, 3, 3, 4), (1, 2), (4,)),  # instance norm, channels last
    ((3, 2, 2, 2, 2), (0, 2), (2, 1, 2, 1)),  # an odd mix, params broadcast along some axes
]


@pytest.mark.parametrize("shape,axes,param_shape", STANDARDIZE_CASES)
def test_standardize_forward_and_gradcheck(device, shape, axes, param_shape):
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal(-1.0, 3.0, shape)
    gamma, beta = rng.normal(1.0, 0.5, param_shape), rng.normal(0.0, 0.5, param_shape)
    out = ops.standardize(nr.Tensor(x), axes, nr.Tensor(gamma), nr.Tensor(beta), epsilon=1e-3)
    np.testing.assert_allclose(out.numpy(), _reference(x, axes, gamma, beta, 1e-3), rtol=1e-10, atol=1e-12)
    assert nr.gradcheck(lambda t, g, b: ops.standardize(t, axes, g, b), x, gamma, beta)


def test_standardize_fast_paths_equal_plain_numpy_in_float32():
    # shapes that take the einsum path (a matrix) and the spread path (short innermost reduced axis)
    rng = np.random.default_rng(DATA_SEED)
    for shape, axes in [((64, 32), (1,)), ((8, 6, 6, 4, 2), (1, 2, 4)), ((8, 6, 6, 4, 1), (1, 2, 4))]:
        x = rng.normal(2.0, 3.0, shape).astype("float32")
        dy = rng.standard_normal(shape).astype("float32")
        xt = nr.Tensor(x, requires_grad=True)
        ops.standardize(xt, axes, epsilon=1e-3).backward(dy)
        x64, dy64 = x.astype("float64"), dy.astype("float64")
        x_hat = _reference(x64, axes, 1.0, 0.0, 1e-3)
        inv = 1 / np.sqrt(x64.var(axis=axes, keepdims=True) + 1e-3)
        dx = inv * (dy64 - dy64.mean(axis=axes, keepdims=True)
                    - x_hat * (dy64 * x_hat).mean(axis=axes, keepdims=True))
        np.testing.assert_allclose(xt.grad, dx, rtol=1e-4, atol=1e-5)


def test_standardize_without_params_gives_zero_mean_unit_variance():
    x = np.random.default_rng(DATA_SEED).normal(5.0, 2.0, (3, 7, 4))
    out = ops.standardize(nr.Tensor(x), axes=(1, 2), epsilon=0.0).numpy()
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(1, 2)), 1.0, rtol=1e-12)


def test_standardize_rejects_params_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"gamma of shape \(3,\) does not broadcast to x of shape \(2, 4\)"):
        ops.standardize(nr.Tensor(np.zeros((2, 4))), -1, gamma=np.ones(3))


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=4), data=st.data())
def test_normalization_ops_gradcheck_random_shapes_and_axes(shape, data):
    shape = tuple(shape)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    x = np.random.default_rng(DATA_SEED).normal(0.0, 2.0, shape)
    assert nr.gradcheck(lambda t: ops.batch_normalization(t, axes=axes, epsilon=0.1), x)
    assert nr.gradcheck(lambda t: ops.standardize(t, axes, epsilon=0.1), x)


@pytest.mark.parametrize("op", [
    lambda x, eps: ops.batch_normalization(x, epsilon=eps),
    lambda x, eps: ops.standardize(x, -1, epsilon=eps),
])
@pytest.mark.parametrize("epsilon, error, message", [
    (-1.0, ValueError, r"epsilon must be a finite number >= 0, got -1.0"),
    (float("nan"), ValueError, r"epsilon must be a finite number >= 0, got nan"),
    (float("inf"), ValueError, r"epsilon must be a finite number >= 0, got inf"),
    ("0.001", TypeError, r"epsilon must be a real number, got '0.001' \(str\)"),
    (None, TypeError, r"epsilon must be a real number, got None"),
    (True, TypeError, r"epsilon must be a real number, got True \(bool\)"),
])
def test_bad_epsilon_is_refused_not_turned_into_nan(op, epsilon, error, message):
    # issue 10 bad-input probe, ops item 1: epsilon=-1 returned an all-NaN batch
    with pytest.raises(error, match=message):
        op(nr.Tensor(np.random.default_rng(DATA_SEED).standard_normal((4, 3))), epsilon)


@pytest.mark.parametrize("momentum, error", [(1.5, ValueError), (-0.1, ValueError), (float("nan"), ValueError),
                                             ("0.9", TypeError), (None, TypeError), (False, TypeError)])
def test_batch_normalization_momentum_must_lie_in_0_1(momentum, error):
    with pytest.raises(error, match=r"batch_normalization: momentum must be"):
        ops.batch_normalization(nr.Tensor(np.ones((4, 3))), moving_mean=np.zeros(3), moving_variance=np.ones(3),
                                momentum=momentum)


def test_numpy_scalars_are_accepted_as_epsilon_and_momentum():
    x = np.random.default_rng(DATA_SEED).standard_normal((6, 3))
    moving_mean, moving_variance = np.zeros(3), np.ones(3)
    out = ops.batch_normalization(nr.Tensor(x), epsilon=np.float32(1e-3), moving_mean=moving_mean,
                                  moving_variance=moving_variance, momentum=np.float64(0.5))
    np.testing.assert_allclose(out.numpy(), (x - x.mean(0)) / np.sqrt(x.var(0) + np.float32(1e-3)), rtol=1e-5)
    np.testing.assert_allclose(moving_mean, 0.5 * x.mean(0))
    np.testing.assert_allclose(ops.standardize(nr.Tensor(x), -1, epsilon=np.int64(0)).numpy().mean(-1), 0.0,
                               atol=1e-12)
