"""conv3d, max_pool3d and avg_pool3d through the op harness, against loops over windows (independent of the
depth-tap composition the ops use); max-pool ties avoided with distinct values."""

import itertools

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops


def _triple(value):
    return (value,) * 3 if isinstance(value, int) else tuple(value)


def _axis_windows(n, k, s, d, padding):
    """Per output index along one axis: the input indices its (dilated) window reads, padding left out."""
    extent = (k - 1) * d + 1
    if padding == "same":
        out = -(-n // s)
        before = max((out - 1) * s + extent - n, 0) // 2
    else:
        out, before = (n - extent) // s + 1, 0
    return [[o * s - before + t * d for t in range(k)] for o in range(out)]


def conv3d_reference(x, w, strides=1, padding="valid", dilation_rate=1):
    axes = [_axis_windows(n, k, s, d, padding) for n, k, s, d in
            zip(x.shape[1:4], w.shape[:3], _triple(strides), _triple(dilation_rate))]
    out = np.zeros((x.shape[0], *(len(a) for a in axes), w.shape[-1]))
    for (i, di), (j, dj), (m, dm) in itertools.product(*(enumerate(a) for a in axes)):
        for (a, p), (b, q), (c, r) in itertools.product(enumerate(di), enumerate(dj), enumerate(dm)):
            if 0 <= p < x.shape[1] and 0 <= q < x.shape[2] and 0 <= r < x.shape[3]:
                out[:, i, j, m] += x[:, p, q, r] @ w[a, b, c]
    return out


def pool3d_reference(mode):
    def reference(x, pool_size=2, strides=None, padding="valid"):
        pool = _triple(pool_size)
        strides = pool if strides is None else _triple(strides)
        axes = [_axis_windows(n, k, s, 1, padding) for n, k, s in zip(x.shape[1:4], pool, strides)]
        out = np.zeros((x.shape[0], *(len(a) for a in axes), x.shape[-1]))
        for (i, di), (j, dj), (m, dm) in itertools.product(*(enumerate(a) for a in axes)):
            keep = [[v for v in idx if 0 <= v < n] for idx, n in zip((di, dj, dm), x.shape[1:4])]
            block = x[:, keep[0]][:, :, keep[1]][:, :, :, keep[2]]
            out[:, i, j, m] = block.max(axis=(1, 2, 3)) if mode == "max" else block.mean(axis=(1, 2, 3))
        return out
    return reference


CASES = [
    OpCase(ops.conv3d, (Arg((2, 3, 4, 3, 2)), Arg((2, 2, 2, 2, 3), -1.0, 1.0)), conv3d_reference),
    OpCase(ops.conv3d, (Arg((1, 4, 3, 4, 2)), Arg((3, 2, 2, 2, 2), -1.0, 1.0)), conv3d_reference,
           params=dict(strides=(2, 1, 2), padding="same"), label="strides=(2,1,2),padding=same"),
    OpCase(ops.conv3d, (Arg((1, 5, 4, 4, 1)), Arg((2, 2, 2, 1, 2), -1.0, 1.0)), conv3d_reference,
           params=dict(dilation_rate=2), label="dilation_rate=2"),
    OpCase(ops.max_pool3d, (Arg((2, 4, 4, 3, 2), kind="distinct"),), pool3d_reference("max")),
    OpCase(ops.max_pool3d, (Arg((1, 3, 4, 5, 2), kind="distinct"),), pool3d_reference("max"),
           params=dict(pool_size=(2, 3, 2), strides=1, padding="same"), label="pool=(2,3,2),strides=1,same"),
    OpCase(ops.avg_pool3d, (Arg((2, 4, 4, 4, 2)),), pool3d_reference("average")),
    OpCase(ops.avg_pool3d, (Arg((1, 5, 3, 4, 2)),), pool3d_reference("average"),
           params=dict(pool_size=3, strides=2, padding="same"), label="pool=3,strides=2,same"),
]


class TestVolumetricHarness(OpHarness):
    cases = CASES
