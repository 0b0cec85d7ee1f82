"""Convolutions through the op harness, against explicit loops over output positions and kernel taps."""

import itertools

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _pads(padding, spatial, kernel, strides, dilation):
    """(before, after) per axis; 'same' as in TensorFlow: output ceil(n / s), the odd pixel after."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        pads = []
        for n, k, s, d in zip(spatial, kernel, strides, dilation):
            total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    return padding


def _geometry(x, w, strides, padding, dilation_rate):
    (sh, sw), (dh, dw) = _pair(strides), _pair(dilation_rate)
    (pt, pb), (pl, pr) = _pads(padding, x.shape[1:3], w.shape[:2], (sh, sw), (dh, dw))
    ho = (x.shape[1] + pt + pb - (w.shape[0] - 1) * dh - 1) // sh + 1
    wo = (x.shape[2] + pl + pr - (w.shape[1] - 1) * dw - 1) // sw + 1
    xpad = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    taps = [(i, j, a, b, i * sh + a * dh, j * sw + b * dw)  # output (i, j) reads padded pixel (r, c) with tap (a, b)
            for i, j, a, b in itertools.product(range(ho), range(wo), range(w.shape[0]), range(w.shape[1]))]
    return xpad, (ho, wo), (pt, pl), taps


def conv2d_reference(x, w, b=None, strides=1, padding="valid", dilation_rate=1, activation=None):
    """y[n, i, j] = sum over taps (a, b) of xpad[n, s_h i + d_h a, s_w j + d_w b] @ w[a, b], plus bias, then ReLU."""
    xpad, (ho, wo), _, taps = _geometry(x, w, strides, padding, dilation_rate)
    out = np.zeros((x.shape[0], ho, wo, w.shape[-1]))
    for i, j, a, t, r, c in taps:
        out[:, i, j] += xpad[:, r, c] @ w[a, t]
    out = out + (0.0 if b is None else b)
    return np.maximum(out, 0.0) if activation == "relu" else out


def conv2d_reference_grad(x, w, *rest, strides=1, padding="valid", dilation_rate=1, activation=None):
    """The chain rule tap by tap: each output position sends g @ w[a, b]^T to the pixel it read, and
    xpad^T @ g to the tap; the bias gets the sum of g; with ReLU, g is masked where the output is <= 0."""
    b, g = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
    if activation == "relu":
        g = g * (conv2d_reference(x, w, b, strides, padding, dilation_rate, activation) > 0)
    xpad, (ho, wo), (pt, pl), taps = _geometry(x, w, strides, padding, dilation_rate)
    dxpad, dw = np.zeros_like(xpad), np.zeros_like(w)
    for i, j, a, t, r, c in taps:
        dxpad[:, r, c] += g[:, i, j] @ w[a, t].T
        dw[a, t] += xpad[:, r, c].T @ g[:, i, j]
    dx = dxpad[:, pt:pt + x.shape[1], pl:pl + x.shape[2]]
    return (dx, dw) if b is None else (dx, dw, g.sum(axis=(0, 1, 2)))


def _as_2d(params):
    """conv1d's parameters as the 2-D ones of a height-1 image."""
    out = dict(params)
    for key in ("strides", "dilation_rate"):
        if key in out:
            out[key] = (1, out[key])
    if isinstance(out.get("padding"), tuple):
        out["padding"] = ((0, 0), out["padding"])
    return out


def conv1d_reference(x, w, *rest, **params):
    return conv2d_reference(x[:, None], w[None], *rest, **_as_2d(params))[:, 0]


def conv1d_reference_grad(x, w, *rest, **params):
    grads = conv2d_reference_grad(x[:, None], w[None], *rest[:-1], rest[-1][:, None], **_as_2d(params))
    return (grads[0][:, 0], grads[1][0]) + grads[2:]


def _params(spec):
    return {k: v for k, v in spec.items() if k != "label"}


def _with_bias(op):
    return lambda x, w, b, **params: op(x, w, bias=b, **params)


CONV2D = [  # (input shape, kernel shape, params)
    ((2, 5, 5, 2), (3, 3, 2, 3), dict()),
    ((2, 6, 5, 2), (3, 2, 2, 3), dict(strides=2)),
    ((1, 6, 7, 2), (2, 3, 2, 2), dict(strides=(2, 1), padding="same")),
    ((2, 5, 5, 1), (3, 3, 1, 2), dict(padding="same")),
    ((1, 7, 7, 2), (2, 2, 2, 2), dict(dilation_rate=2)),
    ((1, 6, 6, 2), (3, 3, 2, 2), dict(dilation_rate=(2, 1), padding="same", strides=2)),
    ((1, 4, 5, 2), (2, 3, 2, 2), dict(padding=((1, 0), (2, 1)))),
    ((1, 7, 8, 2), (2, 2, 2, 2), dict(strides=3, padding="same")),  # strides beyond the kernel: pixels skipped
    ((2, 3, 3, 2), (3, 3, 2, 2), dict(label="kernel=input")),  # a single output position
    ((2, 3, 2, 3), (1, 1, 3, 2), dict(label="1x1")),
]
CONV1D = [((2, 7, 2), (3, 2, 3), dict()), ((2, 8, 2), (3, 2, 2), dict(strides=2, padding="same")),
          ((1, 9, 2), (2, 2, 3), dict(dilation_rate=3)), ((1, 6, 3), (3, 3, 2), dict(padding=(2, 1)))]
# an input that is zero over a corner: the outputs there are exactly 0 and the fused ReLU passes no gradient (relu'(0))
ZERO_CORNER = np.random.default_rng(4).uniform(-1, 1, (1, 5, 5, 2))
ZERO_CORNER[0, :3, :3] = 0.0

CASES = [
    *[OpCase(ops.conv2d, (Arg(xs), Arg(ws, -1.0, 1.0)), conv2d_reference, params=_params(p), label=p.get("label"),
             reference_grad=conv2d_reference_grad) for xs, ws, p in CONV2D],
    OpCase(ops.conv2d, (Arg((2, 5, 4, 2)), Arg((2, 2, 2, 3), -1.0, 1.0), Arg((3,))), conv2d_reference,
           call=_with_bias(ops.conv2d), label="bias", reference_grad=conv2d_reference_grad),
    OpCase(ops.conv2d, (Arg((2, 5, 4, 2)), Arg((2, 2, 2, 3), -1.0, 1.0), Arg((3,))), conv2d_reference,
           call=_with_bias(ops.conv2d), params=dict(strides=2, padding="same", activation="relu"),
           label="bias,strides=2,padding=same,activation=relu", reference_grad=conv2d_reference_grad),
    OpCase(ops.conv2d, (Arg.fixed(ZERO_CORNER), Arg((2, 2, 2, 2), -1.0, 1.0)), conv2d_reference,
           params=dict(activation="relu"), label="activation=relu,zero_outputs", gradcheck=False,
           reference_grad=conv2d_reference_grad),
    # a batch of 9 runs as several pieces of images (conv.MIN_PIECES), and kw * C_in = 32 channels-wide fields take
    # im2col's whole-field copy rather than the tap-by-tap one (conv.TAPWISE_BELOW): too many elements for finite
    # differences, so the loop-by-loop gradient is the reference
    OpCase(ops.conv2d, (Arg((9, 4, 3, 2)), Arg((2, 2, 2, 3), -1.0, 1.0), Arg((3,))), conv2d_reference,
           call=_with_bias(ops.conv2d), params=dict(padding="same"), label="bias,padding=same,batch=9",
           gradcheck=False, reference_grad=conv2d_reference_grad),
    OpCase(ops.conv2d, (Arg((2, 3, 4, 16)), Arg((2, 2, 16, 2), -1.0, 1.0)), conv2d_reference,
           params=dict(strides=(1, 2)), label="strides=(1,2),C_in=16", gradcheck=False,
           reference_grad=conv2d_reference_grad),
    *[OpCase(ops.conv1d, (Arg(xs), Arg(ws, -1.0, 1.0)), conv1d_reference, params=p,
             reference_grad=conv1d_reference_grad) for xs, ws, p in CONV1D],
    OpCase(ops.conv1d, (Arg((2, 6, 2)), Arg((2, 2, 3), -1.0, 1.0), Arg((3,))), conv1d_reference,
           call=_with_bias(ops.conv1d), params=dict(strides=2), label="bias,strides=2",
           reference_grad=conv1d_reference_grad),
]


class TestConvHarness(OpHarness):
    cases = CASES
