"""Convolution: forward against a direct loop, gradients against finite differences, workspace safety."""

import itertools

import numpy as np
import pytest

import neurona as nr
from neurona import ops
from neurona.ops.convolution import same_padding


def naive_conv2d(x, w, strides, pad, dilation):
    """The definition, one output element at a time (independent of the im2col implementation)."""
    (sh, sw), (dh, dw) = strides, dilation
    x = np.pad(x, ((0, 0), pad[0], pad[1], (0, 0)))
    n, h, wd, _ = x.shape
    kh, kw, _, cout = w.shape
    ho, wo = (h - (kh - 1) * dh - 1) // sh + 1, (wd - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((n, ho, wo, cout))
    for i, j in itertools.product(range(ho), range(wo)):
        for a, b in itertools.product(range(kh), range(kw)):
            out[:, i, j, :] += x[:, i * sh + a * dh, j * sw + b * dw, :] @ w[a, b]
    return out


CASES = [  # input shape, kernel shape, strides, padding, dilation
    ((2, 7, 6, 3), (3, 3, 3, 4), 1, "valid", 1),
    ((2, 7, 6, 3), (3, 2, 3, 4), 2, "same", 1),
    ((1, 8, 8, 2), (3, 3, 2, 3), (2, 1), "valid", 1),
    ((2, 9, 7, 2), (3, 3, 2, 2), 1, "same", 2),
    ((1, 9, 9, 1), (2, 3, 1, 2), 1, "valid", (2, 3)),
    ((2, 5, 5, 2), (1, 1, 2, 3), 1, "valid", 1),
    ((1, 6, 5, 2), (3, 3, 2, 2), 3, "same", 1),
    ((1, 5, 5, 11), (3, 3, 11, 2), 1, "same", 1),  # kw * C >= TAPWISE_BELOW: the whole-field im2col copy
]


def _explicit_padding(x_shape, w_shape, strides, padding, dilation):
    s = (strides, strides) if isinstance(strides, int) else strides
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    if padding == "valid":
        return ((0, 0), (0, 0)), s, d
    return tuple(same_padding(n, k, st, di) for n, k, st, di in zip(x_shape[1:3], w_shape[:2], s, d)), s, d


@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_conv2d_matches_the_definition_and_gradcheck(device, rng, case):
    x_shape, w_shape, strides, padding, dilation = case
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[-1])
    pad, s, d = _explicit_padding(x_shape, w_shape, strides, padding, dilation)
    out = ops.conv2d(nr.Tensor(x), nr.Tensor(w), strides, padding, dilation, bias=nr.Tensor(b))
    np.testing.assert_allclose(out.numpy(), naive_conv2d(x, w, s, pad, d) + b, rtol=1e-10, atol=1e-10)
    assert nr.gradcheck(lambda t, k, c: ops.conv2d(t, k, strides, padding, dilation, bias=c), x, w, b)


@pytest.mark.parametrize("size,kernel,stride", [(7, 3, 1), (7, 3, 2), (8, 3, 2), (5, 1, 3), (28, 3, 1)])
def test_same_padding_gives_ceil_of_size_over_stride(size, kernel, stride):
    out = ops.conv2d(nr.Tensor(np.ones((1, size, size, 1))), nr.Tensor(np.ones((kernel, kernel, 1, 1))),
                     strides=stride, padding="same")
    assert out.shape[1:3] == (-(-size // stride),) * 2


@pytest.mark.parametrize("padding,stride,dilation", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2)])
def test_conv1d_is_a_height_one_conv2d(device, rng, padding, stride, dilation):
    x, w, b = rng.standard_normal((2, 9, 3)), rng.standard_normal((3, 3, 4)), rng.standard_normal(4)
    out = ops.conv1d(nr.Tensor(x), nr.Tensor(w), stride, padding, dilation, bias=nr.Tensor(b))
    ref = ops.conv2d(nr.Tensor(x[:, None]), nr.Tensor(w[None]), (1, stride), padding, (1, dilation),
                     bias=nr.Tensor(b))
    np.testing.assert_allclose(out.numpy(), ref.numpy()[:, 0], rtol=1e-12)
    assert nr.gradcheck(lambda t, k, c: ops.conv1d(t, k, stride, padding, dilation, bias=c), x, w, b)


def _sum_conv_kernel_grad(x, kh, kw, cout):
    """d sum(conv(x, w)) / d w[a, b, c, o] = sum of x[n, i + a, j + b, c] over the output positions."""
    ho, wo = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    grad = np.array([[x[:, a:a + ho, b:b + wo, :].sum(axis=(0, 1, 2)) for b in range(kw)] for a in range(kh)])
    return np.repeat(grad[..., None], cout, axis=-1)


def test_two_live_graphs_keep_their_own_workspace(rng):
    """im2col buffers are recycled only when an op is freed: two forwards, then two backwards, stay exact."""
    x1, x2 = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((2, 6, 6, 2))
    w = nr.Tensor(rng.standard_normal((3, 3, 2, 3)), requires_grad=True)
    y1, y2 = ops.conv2d(nr.Tensor(x1), w).sum(), ops.conv2d(nr.Tensor(x2), w).sum()
    y2.backward()
    np.testing.assert_allclose(w.grad, _sum_conv_kernel_grad(x2, 3, 3, 3), rtol=1e-12)
    w.zero_grad()
    ops.conv2d(nr.Tensor(rng.standard_normal((2, 6, 6, 2))), w).sum().backward()  # reuses y2's freed buffer
    w.zero_grad()
    y1.backward()
    np.testing.assert_allclose(w.grad, _sum_conv_kernel_grad(x1, 3, 3, 3), rtol=1e-12)


def test_inference_releases_the_workspace(rng):
    from neurona.backend import workspace

    workspace.clear()
    with nr.no_grad():  # 3 x 3 x 4 = 36 values a field: the im2col product, whose buffer comes from the workspace
        ops.conv2d(nr.Tensor(rng.standard_normal((2, 5, 5, 4))), nr.Tensor(rng.standard_normal((3, 3, 4, 2))))
    assert workspace._pooled_bytes > 0  # given back at once: nothing can read it


def test_conv_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"input has 3 channels \(shape \(1, 5, 5, 3\)\) but the kernel expects 2"):
        ops.conv2d(nr.Tensor(np.ones((1, 5, 5, 3))), nr.Tensor(np.ones((3, 3, 2, 4))))
    with pytest.raises(ValueError, match="4-D NHWC input"):
        ops.conv2d(nr.Tensor(np.ones((5, 5, 3))), nr.Tensor(np.ones((3, 3, 3, 4))))
    with pytest.raises(ValueError, match="does not fit"):
        ops.conv2d(nr.Tensor(np.ones((1, 2, 2, 1))), nr.Tensor(np.ones((3, 3, 1, 1))))
    with pytest.raises(ValueError, match="bias must have shape"):
        ops.conv2d(nr.Tensor(np.ones((1, 5, 5, 1))), nr.Tensor(np.ones((3, 3, 1, 2))), bias=nr.Tensor(np.ones(3)))


@pytest.mark.parametrize("case", CASES[:4], ids=range(4))
def test_fused_relu_equals_relu_after_the_convolution(device, rng, case):
    x_shape, w_shape, strides, padding, dilation = case
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[-1])
    g = rng.standard_normal(ops.conv2d(nr.Tensor(x), nr.Tensor(w), strides, padding, dilation).shape)

    def run(fused):
        xt, wt, bt = (nr.Tensor(a, requires_grad=True) for a in (x, w, b))
        if fused:
            out = ops.conv2d(xt, wt, strides, padding, dilation, bias=bt, activation="relu")
        else:
            out = ops.relu(ops.conv2d(xt, wt, strides, padding, dilation, bias=bt))
        out.backward(nr.Tensor(g))
        return out.numpy(), xt.grad, wt.grad, bt.grad

    for got, want in zip(run(True), run(False)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert (run(True)[0] == 0).any()  # the ReLU did cut something, so the mask was exercised
    assert nr.gradcheck(lambda t, k, c: ops.conv2d(t, k, strides, padding, dilation, bias=c, activation="relu"),
                        x, w, b)


def _conv_grads(x, w, b, g, **kwargs):
    xt, wt, bt = (nr.Tensor(a, requires_grad=True) for a in (x, w, b))
    out = ops.conv2d(xt, wt, bias=bt, **kwargs)
    out.backward(nr.Tensor(g))
    return [out.numpy(), xt.grad, wt.grad, bt.grad]


@pytest.mark.parametrize("padding,strides", [("same", 1), ("valid", 2)])
def test_pieces_and_threads_give_the_whole_batch_result(monkeypatch, rng, padding, strides):
    """Split into pieces of one image shared among threads, the op equals the one-piece product; and the
    same pieces give bit-identical results whatever the number of threads."""
    from neurona.backend import parallel
    from neurona.backend.kernels import conv

    x, w, b = rng.standard_normal((11, 7, 6, 3)), rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)
    g = rng.standard_normal(ops.conv2d(nr.Tensor(x), nr.Tensor(w), strides, padding).shape)
    kwargs = dict(strides=strides, padding=padding, activation="relu")
    whole = _conv_grads(x, w, b, g, **kwargs)
    monkeypatch.setattr(conv, "PIECE_BYTES", 1)  # one image per piece
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    by_threads = {}
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
        by_threads[threads] = _conv_grads(x, w, b, g, **kwargs)
    for got, want in zip(by_threads["2"], whole):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for threads in ("2", "3"):
        for got, want in zip(by_threads[threads], by_threads["1"]):
            np.testing.assert_array_equal(got, want)


def test_unknown_fused_activation_is_refused():
    with pytest.raises(ValueError, match=r"activation must be one of \(None, 'relu'\)"):
        ops.conv2d(nr.Tensor(np.ones((1, 5, 5, 1))), nr.Tensor(np.ones((3, 3, 1, 2))), activation="tanh")


def _conv_inputs():
    rng = np.random.default_rng(3)
    return nr.Tensor(rng.standard_normal((2, 6, 6, 2))), nr.Tensor(rng.standard_normal((3, 3, 2, 4)))


@pytest.mark.parametrize("kwargs", [
    dict(strides=np.int64(1)), dict(strides=(np.int32(1), 2)), dict(dilation_rate=np.int64(2)),
    dict(strides=[1, np.int8(2)], padding="SAME"), dict(padding="Valid"),
])
def test_conv2d_takes_numpy_integers_and_any_case_padding(kwargs):
    # issue 10 bad-input probe, ops item 3: np.int64 strides/dilation raised "'numpy.int64' object is not iterable"
    x, k = _conv_inputs()
    plain = {key: (tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else
                   value.lower() if isinstance(value, str) else int(value)) for key, value in kwargs.items()}
    np.testing.assert_array_equal(ops.conv2d(x, k, **kwargs).numpy(), ops.conv2d(x, k, **plain).numpy())


def test_conv1d_takes_numpy_integers():
    rng = np.random.default_rng(4)
    x, k = nr.Tensor(rng.standard_normal((2, 9, 2))), nr.Tensor(rng.standard_normal((3, 2, 4)))
    np.testing.assert_array_equal(ops.conv1d(x, k, np.int64(2), "same", (np.int64(1),)).numpy(),
                                  ops.conv1d(x, k, 2, "same", 1).numpy())


@pytest.mark.parametrize("op, kwargs, error, message", [
    ("conv2d", dict(strides=1.5), TypeError, r"conv2d: strides must be a positive int or a tuple of 2 positive "
                                             r"ints, got 1\.5 \(float\)"),
    ("conv2d", dict(strides=True), TypeError, r"conv2d: strides must be .*got True \(bool\)"),
    ("conv2d", dict(strides="a"), TypeError, r"conv2d: strides must be .*got 'a' \(str\)"),
    ("conv2d", dict(strides=None), TypeError, r"conv2d: strides must be .*got None"),
    ("conv2d", dict(strides=0), ValueError, r"conv2d: strides must be .*got 0"),
    ("conv2d", dict(strides=(1, 2, 1)), ValueError, r"conv2d: strides must be .*tuple of 2 .*got \(1, 2, 1\)"),
    ("conv2d", dict(dilation_rate=(1, 0)), ValueError, r"conv2d: dilation_rate must be .*got \(1, 0\)"),
    ("conv2d", dict(dilation_rate=2.0), TypeError, r"conv2d: dilation_rate must be .*got 2\.0 \(float\)"),
    ("conv2d", dict(padding=None), TypeError, r"conv2d: padding must be 'valid' or 'same'.*got None"),
    ("conv2d", dict(padding="full"), ValueError, r"conv2d: padding must be 'valid' or 'same'.*got 'full'"),
    ("conv2d", dict(padding=((1, -1), (0, 0))), ValueError, r"conv2d: padding must be .*non-negative"),
    ("conv2d", dict(padding=((1, 1.5), (0, 0))), TypeError, r"conv2d: padding must be"),
    ("conv1d", dict(strides=(1, 1)), ValueError, r"conv1d: strides must be .*tuple of 1 .*got \(1, 1\)"),
    ("conv1d", dict(strides=1.0), TypeError, r"conv1d: strides must be .*got 1\.0 \(float\)"),
    ("conv1d", dict(dilation_rate=0), ValueError, r"conv1d: dilation_rate must be"),
    ("conv1d", dict(padding=None), TypeError, r"conv1d: padding must be 'valid' or 'same'.*got None"),
])
def test_bad_conv_arguments_are_named(op, kwargs, error, message):
    # issue 10 bad-input probe, ops item 4: strides=1.5 / padding=None raised "... object is not iterable"
    rng = np.random.default_rng(5)
    if op == "conv2d":
        x, k = _conv_inputs()
    else:
        x, k = nr.Tensor(rng.standard_normal((2, 9, 2))), nr.Tensor(rng.standard_normal((3, 2, 4)))
    with pytest.raises(error, match=message):
        getattr(ops, op)(x, k, **kwargs)


def test_explicit_padding_still_pads():
    x, k = _conv_inputs()
    padded = np.pad(x.numpy(), ((0, 0), (1, 2), (0, 1), (0, 0)))
    np.testing.assert_allclose(ops.conv2d(x, k, padding=((1, np.int64(2)), [0, 1])).numpy(),
                               ops.conv2d(nr.Tensor(padded), k).numpy(), rtol=1e-12)
