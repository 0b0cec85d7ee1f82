"""keras.ops.conv, max_pool and average_pool through the op harness: the loop references of the primitives,
in both layouts (a channels_first reference is the channels_last one between two transposes)."""

import numpy as np
import pytest
from _harness.op_harness import Arg, OpCase, OpHarness, sibling_module

from neurona import ops

_conv_refs, _pool_refs = sibling_module(__file__, "test_harness_conv"), sibling_module(__file__, "test_harness_pooling")
conv1d_reference, conv2d_reference = _conv_refs.conv1d_reference, _conv_refs.conv2d_reference
pool2d_reference = _pool_refs.pool2d_reference


def _first(reference):
    """The channels_first form of a channels_last reference (channels moved last, and the result back)."""
    def wrapped(x, *rest, data_format=None, **params):
        if data_format != "channels_first":
            return reference(x, *rest, **params)
        out = reference(np.moveaxis(x, 1, -1), *rest, **params)
        return np.moveaxis(out, -1, 1)
    return wrapped


def _pool1d(mode):
    forward = pool2d_reference(mode)

    def reference(x, pool_size=2, strides=None, padding="valid"):
        strides = None if strides is None else (1, strides)
        return forward(x[:, None], pool_size=(1, pool_size), strides=strides, padding=padding)[:, 0]
    return reference


def _conv(x, w, **params):
    return (conv2d_reference if x.ndim == 4 else conv1d_reference)(x, w, **params)


CASES = [
    OpCase(ops.conv, (Arg((2, 5, 4, 2)), Arg((3, 2, 2, 3), -1.0, 1.0)), _first(_conv),
           params=dict(strides=2, padding="same"), label="2d"),
    OpCase(ops.conv, (Arg((2, 2, 5, 4)), Arg((2, 2, 2, 3), -1.0, 1.0)), _first(_conv),
           params=dict(data_format="channels_first", dilation_rate=2), label="2d,channels_first"),
    OpCase(ops.conv, (Arg((2, 7, 2)), Arg((3, 2, 3), -1.0, 1.0)), _first(_conv), params=dict(padding="same"),
           label="1d"),
    OpCase(ops.conv, (Arg((2, 2, 7)), Arg((3, 2, 3), -1.0, 1.0)), _first(_conv),
           params=dict(data_format="channels_first", strides=2), label="1d,channels_first"),
    OpCase(ops.max_pool, (Arg((2, 4, 5, 2), kind="distinct"),), _first(pool2d_reference("max")),
           params=dict(pool_size=2, strides=1, padding="same"), label="2d"),
    OpCase(ops.max_pool, (Arg((2, 3, 6), kind="distinct"),), _first(_pool1d("max")),
           params=dict(pool_size=3, strides=2, data_format="channels_first"), label="1d,channels_first"),
    OpCase(ops.average_pool, (Arg((2, 2, 4, 4)),), _first(pool2d_reference("average")),
           params=dict(pool_size=(2, 3), padding="same", data_format="channels_first"), label="2d,channels_first"),
    OpCase(ops.average_pool, (Arg((2, 6, 2)),), _first(_pool1d("average")), params=dict(pool_size=2), label="1d"),
]


class TestKerasNnHarness(OpHarness):
    cases = CASES


def test_layouts_and_ranks_outside_what_is_implemented_are_named():
    with pytest.raises(ValueError, match=r"conv: data_format must be one of \('channels_last', 'channels_first'\)"):
        ops.conv(np.zeros((1, 4, 4, 1)), np.zeros((2, 2, 1, 1)), data_format="NHWC")
    with pytest.raises(ValueError, match=r"max_pool: expected a 3-D .* or 4-D .*got shape \(1, 2, 2, 2, 1\) "
                                         r"\(3-D convolutions and pooling are not implemented\)"):
        ops.max_pool(np.zeros((1, 2, 2, 2, 1)), 2)
