"""``ops.image.resize`` through the op harness: bilinear (a product with interpolation weights), nearest (a gather),
and the aspect-ratio crop and pad, against loops over the output pixels."""

import math

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona.ops import image


def _bilinear_axis(x, axis, n):
    """Half-pixel bilinear resampling of one axis to ``n`` entries, the borders clamped to the edge values."""
    m = x.shape[axis]
    x = np.moveaxis(x, axis, 0)
    out = np.empty((n,) + x.shape[1:])
    for j in range(n):
        source = min(max((j + 0.5) * m / n - 0.5, 0.0), m - 1.0)
        low = math.floor(source)
        high, t = min(low + 1, m - 1), source - low
        out[j] = (1 - t) * x[low] + t * x[high]
    return np.moveaxis(out, 0, axis)


def _nearest_axis(x, axis, n):
    m = x.shape[axis]
    return np.take(x, [min(int((j + 0.5) * m / n), m - 1) for j in range(n)], axis=axis)


def _reference(x, size, interpolation="bilinear", data_format="channels_last", **aspect):
    axes = (x.ndim - 3, x.ndim - 2) if data_format == "channels_last" else (x.ndim - 2, x.ndim - 1)
    if aspect.get("crop_to_aspect_ratio"):  # the centred box of the target's aspect ratio
        h, w = x.shape[axes[0]], x.shape[axes[1]]
        ch, cw = max(min(h, int(w * size[0] / size[1])), 1), max(min(w, int(h * size[1] / size[0])), 1)
        x = np.take(np.take(x, range((h - ch) // 2, (h - ch) // 2 + ch), axis=axes[0]),
                    range((w - cw) // 2, (w - cw) // 2 + cw), axis=axes[1])
    if aspect.get("pad_to_aspect_ratio"):  # h = 2, w = 6 to a square: 2 rows of fill_value above and below
        width = [(0, 0)] * x.ndim
        width[axes[0]] = (2, 2)
        x = np.pad(x, width, constant_values=aspect.get("fill_value", 0.0))
    resample = _bilinear_axis if interpolation == "bilinear" else _nearest_axis
    for axis, n in zip(axes, size):
        if x.shape[axis] != n:
            x = resample(x, axis, n)
    return x


CASES = [
    OpCase(image.resize, (Arg((2, 3, 4, 2)),), _reference, params=dict(size=(6, 8))),
    OpCase(image.resize, (Arg((2, 5, 7, 1)),), _reference, params=dict(size=(2, 3))),
    OpCase(image.resize, (Arg((3, 4, 2)),), _reference, params=dict(size=(5, 3))),
    OpCase(image.resize, (Arg((2, 2, 3, 5)),), _reference, params=dict(size=(4, 2), data_format="channels_first")),
    OpCase(image.resize, (Arg((2, 3, 5, 2)),), _reference, params=dict(size=(7, 2), interpolation="nearest")),
    OpCase(image.resize, (Arg((1, 4, 6, 2)),), _reference, params=dict(size=(3, 3), crop_to_aspect_ratio=True)),
    OpCase(image.resize, (Arg((1, 2, 6, 1)),), _reference,
           params=dict(size=(4, 4), pad_to_aspect_ratio=True, fill_value=0.25)),
]


class TestImageHarness(OpHarness):
    cases = CASES
