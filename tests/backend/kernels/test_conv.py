"""The convolution kernels: compiled im2col/col2im equal the NumPy references bit for bit, col2im is im2col's
adjoint, the direct (small-field) products agree with the im2col products, and no result depends on the threads."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurona.backend import parallel
from neurona.backend.kernels import conv
from neurona.backend.kernels.conv import ConvGeometry


def _geometry(x_shape, kernel, strides, dilation):
    out_hw = tuple((n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(x_shape[1:3], kernel, strides, dilation))
    return ConvGeometry(tuple(kernel), tuple(strides), tuple(dilation), out_hw)


geometries = st.tuples(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),  # k_h, k_w, s_h, s_w
    st.integers(1, 2), st.integers(1, 2), st.integers(1, 5), st.sampled_from([np.float32, np.float64]))


def _case(draw_tuple, seed):
    kh, kw, sh, sw, dh, dw, c, dtype = draw_tuple
    rng = np.random.default_rng(seed)
    h, w = (kh - 1) * dh + 1 + rng.integers(0, 5), (kw - 1) * dw + 1 + rng.integers(0, 5)
    x = rng.standard_normal((int(rng.integers(1, 4)), h, w, c)).astype(dtype)
    return x, _geometry(x.shape, (kh, kw), (sh, sw), (dh, dw))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(geometries, st.integers(0, 2**31))
def test_compiled_im2col_and_col2im_equal_the_references(monkeypatch, geometry, seed):
    pytest.importorskip("numba")
    x, g = _case(geometry, seed)
    with monkeypatch.context() as m:
        m.setenv("NEURONA_KERNELS", "numpy")
        cols_ref = conv.im2col(x, g)
        d = np.random.default_rng(seed + 1).standard_normal(cols_ref.shape).astype(x.dtype)
        dx_ref = conv.col2im(d, g, x.shape)
    with monkeypatch.context() as m:
        m.setenv("NEURONA_KERNELS", "numba")
        np.testing.assert_array_equal(conv.im2col(x, g), cols_ref)
        np.testing.assert_array_equal(conv.col2im(d, g, x.shape), dx_ref)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(geometries, st.sampled_from(["numpy", "auto"]), st.integers(0, 2**31))
def test_col2im_is_the_adjoint_of_im2col(monkeypatch, geometry, kernels_choice, seed):
    """<im2col(x), D> = <x, col2im(D)> for every x and D: col2im adds each field's row back where it was read."""
    x, g = _case(geometry[:-1] + (np.float64,), seed)
    with monkeypatch.context() as m:
        m.setenv("NEURONA_KERNELS", kernels_choice)
        cols = conv.im2col(x, g)
        d = np.random.default_rng(seed + 1).standard_normal(cols.shape)
        assert np.vdot(cols, d) == pytest.approx(np.vdot(x, conv.col2im(d, g, x.shape)), rel=1e-12, abs=1e-12)


def test_im2col_reads_each_field_in_kernel_order():
    x = np.arange(2 * 4 * 5 * 2, dtype=np.float64).reshape(2, 4, 5, 2)
    g = _geometry(x.shape, (2, 3), (2, 1), (1, 2))  # out_hw (2, 1)
    cols = conv.im2col(x, g)
    assert cols.shape == (2 * 2 * 1, 2 * 3 * 2)
    n, i, j = 1, 1, 0
    field = [x[n, 2 * i + a, j + 2 * b, c] for a in range(2) for b in range(3) for c in range(2)]
    np.testing.assert_array_equal(cols[(n * 2 + i) * 1 + j], field)


def _forward_backward(x, w, b, g, geometry, relu, need_input=True):
    y = conv.conv2d_forward(x, w, b, geometry, "relu" if relu else None)
    grads = conv.conv2d_backward(g, x, w, geometry, relu_output=y if relu else None, need_input=need_input,
                                 need_bias=b is not None)
    return [y, *grads]


@pytest.mark.parametrize("c_in,dtype,rtol", [(1, np.float32, 2e-5), (2, np.float64, 1e-12), (3, np.float64, 1e-12)])
@pytest.mark.parametrize("relu,need_input", [(True, False), (True, True), (False, True)])
def test_direct_products_agree_with_the_im2col_products(monkeypatch, c_in, dtype, rtol, relu, need_input):
    """Fields of fewer than DIRECT_BELOW values take the compiled direct loops: the same sums, in another order."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(c_in)
    x = rng.standard_normal((5, 9, 8, c_in)).astype(dtype)
    w, b = rng.standard_normal((3, 3, c_in, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)
    geometry = _geometry(x.shape, (3, 3), (1, 2), (1, 1))
    g = rng.standard_normal((5, *geometry.out_hw, 4)).astype(dtype)
    assert 3 * 3 * c_in < conv.DIRECT_BELOW
    monkeypatch.setenv("NEURONA_KERNELS", "numba")
    direct = _forward_backward(x, w, b, g, geometry, relu, need_input)
    monkeypatch.setattr(conv, "DIRECT_BELOW", 0)
    through_im2col = _forward_backward(x, w, b, g, geometry, relu, need_input)
    for got, want in zip(direct, through_im2col):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("choice", ["numpy", "auto"])
@pytest.mark.parametrize("c_in", [1, 6])  # 9 values a field (direct loops when compiled) and 54 (im2col)
def test_results_do_not_depend_on_the_number_of_threads(monkeypatch, choice, c_in):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((13, 8, 7, c_in)).astype(np.float32)
    w, b = rng.standard_normal((3, 3, c_in, 5)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    geometry = _geometry(x.shape, (3, 3), (1, 1), (1, 1))
    g = rng.standard_normal((13, *geometry.out_hw, 5)).astype(np.float32)
    monkeypatch.setenv("NEURONA_KERNELS", choice)
    monkeypatch.setattr(conv, "PIECE_BYTES", 1)  # one image a piece: 13 pieces
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    results = {}
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
        results[threads] = _forward_backward(x, w, b, g, geometry, relu=True)
    for threads in ("2", "3"):
        for got, want in zip(results[threads], results["1"]):
            np.testing.assert_array_equal(got, want)


def test_an_empty_batch_gives_zero_kernel_gradients():
    x, w = np.zeros((0, 5, 5, 2)), np.ones((3, 3, 2, 4))
    geometry = _geometry(x.shape, (3, 3), (1, 1), (1, 1))
    y = conv.conv2d_forward(x, w, None, geometry)
    dx, dw, db = conv.conv2d_backward(np.zeros(y.shape), x, w, geometry, need_bias=True)
    assert y.shape == (0, 3, 3, 4) and dx.shape == x.shape
    np.testing.assert_array_equal(dw, np.zeros(w.shape))
    np.testing.assert_array_equal(db, np.zeros(4))
