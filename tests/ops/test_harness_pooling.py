"""Pooling through the op harness, against loops over windows; max-pool ties go to the first maximum."""

import itertools

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _windows(shape, pool_size=2, strides=None, padding="valid"):
    """For each output (i, j): the rows and columns of the input its window covers (padding left out)."""
    (ph, pw) = _pair(pool_size)
    (sh, sw) = (ph, pw) if strides is None else _pair(strides)
    h, w = shape[1:3]
    if padding == "same":  # TensorFlow: output ceil(n / s), the odd padded pixel after
        ho, wo = -(-h // sh), -(-w // sw)
        pt = max((ho - 1) * sh + ph - h, 0) // 2
        pl = max((wo - 1) * sw + pw - w, 0) // 2
    else:
        ho, wo, pt, pl = (h - ph) // sh + 1, (w - pw) // sw + 1, 0, 0
    for i, j in itertools.product(range(ho), range(wo)):
        r0, c0 = i * sh - pt, j * sw - pl
        yield i, j, slice(max(r0, 0), min(r0 + ph, h)), slice(max(c0, 0), min(c0 + pw, w))
    # the generator's caller learns the output size from the last (i, j)


def _out_shape(x, **params):
    last = list(_windows(x.shape, **params))[-1]
    return (x.shape[0], last[0] + 1, last[1] + 1, x.shape[3])


def pool2d_reference(mode):
    """Keras semantics: max over the real cells of each window; the mean divides by the real cells' count."""
    def reference(x, **params):
        out = np.zeros(_out_shape(x, **params))
        for i, j, rows, cols in _windows(x.shape, **params):
            window = x[:, rows, cols]
            out[:, i, j] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
        return out
    return reference


def pool2d_reference_grad(mode):
    """max: each window's g goes to its first maximum in row-major order (np.argmax), summed over windows;
    average: each window's g is shared equally by its real cells."""
    def grad(x, g, **params):
        dx = np.zeros_like(x)
        for i, j, rows, cols in _windows(x.shape, **params):
            window = x[:, rows, cols]
            if mode == "average":
                dx[:, rows, cols] += g[:, None, None, i, j] / (window.shape[1] * window.shape[2])
                continue
            for n, c in itertools.product(range(x.shape[0]), range(x.shape[3])):
                a, b = np.unravel_index(np.argmax(window[n, :, :, c]), window.shape[1:3])
                dx[n, rows.start + a, cols.start + b, c] += g[n, i, j, c]
        return (dx,)
    return grad


def _1d(fn):
    """A 1-D reference as the 2-D one over a height-1 image."""
    def wrapped(x, *rest, pool_size=2, strides=None, padding="valid"):
        params = dict(pool_size=(1, pool_size), strides=None if strides is None else (1, strides), padding=padding)
        result = fn(x[:, None], *[r[:, None] for r in rest], **params)
        return tuple(r[:, 0] for r in result) if isinstance(result, tuple) else result[:, 0]
    return wrapped


POOL2D = [  # (input shape, params): non-overlapping (the tiled path), leftover rows, overlapping, 'same'
    ((2, 4, 4, 2), dict()), ((2, 5, 5, 2), dict()), ((1, 4, 6, 2), dict(pool_size=(2, 3))),
    ((2, 4, 4, 2), dict(pool_size=2, strides=1)), ((1, 7, 5, 2), dict(pool_size=3, strides=2, padding="same")),
    ((1, 5, 5, 2), dict(pool_size=2, strides=2, padding="same")),
    ((2, 5, 6, 1), dict(pool_size=(3, 2), strides=(1, 2))),
    ((1, 7, 7, 2), dict(pool_size=2, strides=3)),  # strides beyond the window: pixels no window reads
    ((1, 4, 5, 2), dict(pool_size=(2, 3), strides=1, padding="same")),  # border windows of 2 to 6 real cells
]
POOL1D = [((2, 6, 2), dict()), ((2, 9, 2), dict(pool_size=3, strides=2, padding="same")),
          ((1, 7, 3), dict(pool_size=3, strides=1))]
# values from {0, 1, 2} tie within most windows, at every position of the window
TIES = np.random.default_rng(6).integers(0, 3, size=(2, 5, 5, 2)).astype(np.float64)
TIE_PARAMS = [dict(), dict(pool_size=2, strides=1), dict(pool_size=3, strides=2, padding="same"),
              dict(pool_size=(2, 3))]

def _label(what, params):
    return ",".join([str(what)] + [f"{k}={v}" for k, v in params.items()]).replace(" ", "")


CASES = []
for mode, op, op1d in (("max", ops.max_pool2d, ops.max_pool1d), ("average", ops.avg_pool2d, ops.avg_pool1d)):
    kind = "distinct" if mode == "max" else "float"  # a unique maximum per window: finite differences are valid
    forward, backward = pool2d_reference(mode), pool2d_reference_grad(mode)
    CASES += [OpCase(op, (Arg(shape, kind=kind),), forward, params=p, reference_grad=backward, label=_label(shape, p))
              for shape, p in POOL2D]
    CASES += [OpCase(op1d, (Arg(shape, kind=kind),), _1d(forward), params=p, reference_grad=_1d(backward),
                     label=_label(shape, p)) for shape, p in POOL1D]
    CASES += [OpCase(op, (Arg.fixed(TIES),), forward, params=p, reference_grad=backward, gradcheck=False,
                     label=_label("ties", p)) for p in TIE_PARAMS]
CASES.append(OpCase(ops.max_pool1d, (Arg.fixed(TIES[:, 0]),), _1d(pool2d_reference("max")),
                    params=dict(pool_size=2, strides=1), label=_label("ties", dict(pool_size=2, strides=1)),
                    gradcheck=False, reference_grad=_1d(pool2d_reference_grad("max"))))


class TestPoolingHarness(OpHarness):
    cases = CASES
