"""Convolution kernels: im2col, its scatter-add (col2im), and the products of a 2-D convolution's passes.

For a zero-padded NHWC input ``x`` of shape ``(N, H_p, W_p, C)``, a kernel ``w`` of shape ``(k_h, k_w, C, C_out)``
seen as a ``(k_h k_w C, C_out)`` matrix ``W``, strides ``s``, dilation ``d`` and output size ``(H_o, W_o)``:

    im2col(x)[(n, i, j), (a, b, c)] = x[n, s_h i + d_h a, s_w j + d_w b, c]       (one row per receptive field)
    col2im(D)[n, p, q, c]           = sum of D[(n, i, j), (a, b, c)] over the (i, j, a, b) that read (p, q)

col2im is the transpose (adjoint) of im2col: it adds each field's gradient back onto the pixels it read. Then a
convolution with a bias ``b`` and an activation (identity or ReLU) is, with ``G`` the gradient of the output
(multiplied by the ReLU's mask ``[y > 0]`` first):

    y     = act(im2col(x) @ W + b)                                      conv2d_forward
    dL/dW = im2col(x)^T @ G,   dL/db = sum over rows of G               conv2d_backward
    dL/dx = col2im(G @ W^T)                                             conv2d_backward

(Chellapilla, Puri and Simard 2006, "High performance convolutional neural networks for document processing").

How it runs: the batch is cut into pieces of a few images (``PIECE_BYTES`` of im2col rows, so that a piece's
rows stay in a core's cache from the copy to the products that read them, and never a batch-sized im2col: 85 MB for the
MNIST CNN's second layer), shared among the backend's threads with BLAS on one thread each
(``backend.parallel.map_chunks``). The number of pieces depends on the batch, never on the thread count, and the
per-piece partial kernel gradients are added in piece order: the results do not depend on the number of threads.
On a GPU the whole batch is one piece. im2col and col2im have NumPy references (strided views, one slice add per
tap) and compiled versions (``compiled/conv.py``) that give the same values bit for bit; for a receptive field
of fewer than ``DIRECT_BELOW`` values (a first layer on one channel: 9) a BLAS product is far from its speed and
the compiled kernels compute the product directly, with the bias and the ReLU (mask) fused.
"""

from typing import NamedTuple

import numpy

from .. import parallel, workspace
from ..device import xp_of
from . import select
from .widening import widened

__all__ = ["ConvGeometry", "im2col", "col2im", "conv2d_forward", "conv2d_backward", "window_slices"]

# im2col bytes per piece: 1 MiB, a core's L2 cache on the machines measured (one image of the MNIST CNN's second
# layer, 0.66 MB): its backward pass took 71 ms on one core with one image a piece against 90 ms with six (4 MiB)
PIECE_BYTES = 1 << 20
MIN_PIECES = 8  # fixed, not the thread count, so that results do not depend on the number of cores
# the reference im2col copies each field's rows of k_w C contiguous values; below this many the per-row overhead
# dominates and copying tap by tap is faster (the MNIST CNN's first layer, C = 1: 0.56 against 1.2 ms a batch)
TAPWISE_BELOW = 32
# with the compiled kernels, products whose fields have fewer values than this are computed directly (the MNIST
# CNN's first layer, k_h k_w C = 9: see the module docstring and benchmarks/conv_layer.py)
DIRECT_BELOW = 32


class ConvGeometry(NamedTuple):
    """The shape of a 2-D convolution's windows: ``kernel`` (k_h, k_w), ``strides``, ``dilation``, ``out_hw``."""

    kernel: tuple
    strides: tuple
    dilation: tuple
    out_hw: tuple

    @property
    def rows(self):
        """Receptive fields (im2col rows) per image: H_o W_o."""
        return self.out_hw[0] * self.out_hw[1]

    def args(self):
        """The integers the compiled kernels take: k_h, k_w, s_h, s_w, d_h, d_w, H_o, W_o."""
        return (*self.kernel, *self.strides, *self.dilation, *self.out_hw)


def window_slices(kernel, strides, dilation, out_hw):
    """For every kernel offset ``(a, b)``, the strided NHWC slices of the padded input that tap reads."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, strides, dilation, out_hw
    for a in range(kh):
        for b in range(kw):
            yield a, b, (slice(None), slice(a * dh, a * dh + sh * (ho - 1) + 1, sh),
                         slice(b * dw, b * dw + sw * (wo - 1) + 1, sw), slice(None))


def im2col(x, geometry):
    """``im2col(x)``, of shape ``(N H_o W_o, k_h k_w C)``."""
    kh, kw = geometry.kernel
    cols = xp_of(x).empty((x.shape[0] * geometry.rows, kh * kw * x.shape[3]), dtype=x.dtype)
    _im2col_into(x, cols, geometry)
    return cols


def col2im(dcols, geometry, shape):
    """``col2im(dcols)``: an array of ``shape`` (the padded input's) that sums each field's row back onto the
    pixels it read."""
    dx = xp_of(dcols).empty(shape, dtype=dcols.dtype)
    _col2im_into(dcols, dx, geometry)
    return dx


@widened
def conv2d_forward(x, w, b, geometry, activation=None):
    """``act(im2col(x) @ W + b)`` as an ``(N, H_o, W_o, C_out)`` array; ``x`` is already padded, ``b`` may be None,
    ``activation`` is None or ``"relu"``."""
    xp = xp_of(x, w)
    n, c, cout = x.shape[0], x.shape[3], w.shape[3]
    rows, k = geometry.rows, w.shape[0] * w.shape[1] * c
    dtype = xp.result_type(x, w)
    out = xp.empty((n * rows, cout), dtype=dtype)
    relu_on = activation == "relu"
    size, pieces = _pieces(xp, n, rows * k * numpy.dtype(dtype).itemsize)
    fast = _direct(x, w, k)
    if fast is not None:  # a small field: the compiled product, without im2col
        x, wmat = numpy.ascontiguousarray(x), numpy.ascontiguousarray(w.reshape(k, cout), dtype=dtype)
        bias = numpy.zeros(cout, dtype) if b is None else numpy.ascontiguousarray(b, dtype=dtype)

        def forward_direct(span):
            for imgs in _images(span, size, n):
                fast.direct_forward(x[imgs], wmat, bias, out[imgs.start * rows:imgs.stop * rows], *geometry.args(),
                                    relu_on)

        parallel.for_each_chunk(pieces, forward_direct, out, size=out.size)
        return out.reshape(n, *geometry.out_hw, cout)
    wmat = w.reshape(k, cout)
    epilogue = select.compiled("activation", out)  # the bias and the ReLU, in one pass over each piece in cache
    bias = None if b is None else xp.ascontiguousarray(b, dtype=dtype)
    epilogue_bias = bias if bias is not None else xp.zeros(cout, dtype)  # the compiled epilogue always adds one

    def forward_pieces(span):
        cols = workspace.take((size * rows, k), x.dtype, xp)
        for imgs in _images(span, size, n):
            o = out[imgs.start * rows:imgs.stop * rows]
            xp.matmul(_im2col_into(x[imgs], cols, geometry), wmat, out=o)
            if epilogue is not None and (bias is not None or relu_on):
                epilogue.bias_act(o, epilogue_bias, relu_on)
                continue
            if bias is not None:
                o += bias
            if relu_on:
                xp.maximum(o, 0, out=o)
        workspace.give(cols)

    parallel.map_chunks(pieces, forward_pieces, out, blas_work=True)
    return out.reshape(n, *geometry.out_hw, cout)


@widened
def conv2d_backward(g, x, w, geometry, relu_output=None, need_input=True, need_kernel=True, need_bias=False,
                    padded_shape=None):
    """``(dL/dx, dL/dW, dL/db)`` of ``y = act(im2col(x) @ W + b)`` for the output gradient ``g``.

    ``x`` is the padded input and ``dL/dx`` the gradient of the padded input (the caller cuts the padding away);
    without a kernel gradient ``x`` is not read and may be None, with ``padded_shape`` its shape.
    ``relu_output`` is the forward pass's output when the activation was the ReLU (its mask ``y > 0`` multiplies
    ``g``), else None. Gradients not asked for (``need_*``) are None.
    """
    xp = xp_of(g, w)
    shape = x.shape if x is not None else tuple(padded_shape)
    n, c, cout = shape[0], shape[3], w.shape[3]
    rows, k = geometry.rows, w.shape[0] * w.shape[1] * c
    g2 = g.reshape(n * rows, cout)
    y2 = None if relu_output is None else relu_output.reshape(n * rows, cout)
    size, pieces = _pieces(xp, n, rows * k * g.dtype.itemsize)
    direct = _direct(x, w, k) if need_kernel else None
    mask = None if y2 is None else select.compiled("activation", g2, y2)
    if mask is not None and not (g2.flags.c_contiguous and y2.flags.c_contiguous and g2.dtype == y2.dtype):
        mask = None
    if direct is not None:
        x, g2 = numpy.ascontiguousarray(x), numpy.ascontiguousarray(g2)
        y2 = None if y2 is None else numpy.ascontiguousarray(y2, dtype=g2.dtype)
    dx = xp.empty(shape, dtype=g.dtype) if need_input else None
    w_t = xp.ascontiguousarray(w.reshape(k, cout).T) if need_input else None  # (C_out, k_h k_w C)

    def masked_gradient(r, buffer):
        if y2 is None:
            return g2[r]
        if mask is not None:
            mask.relu_grad(g2[r].reshape(-1), y2[r].reshape(-1), buffer.reshape(-1))
            return buffer
        return xp.multiply(g2[r], y2[r] > 0, out=buffer)

    def backward_pieces(span):
        cols = workspace.take((size * rows, k), x.dtype, xp) if need_kernel and direct is None else None
        masked = workspace.take((size * rows, cout), g.dtype, xp) if y2 is not None else None
        dcols = workspace.take((size * rows, k), g.dtype, xp) if need_input else None
        partials = []
        for imgs in _images(span, size, n):
            r = slice(imgs.start * rows, imgs.stop * rows)
            fused_mask = direct is not None and not need_input  # the direct kernel applies the mask itself
            gp = g2[r] if fused_mask else masked_gradient(r, None if masked is None else masked[:r.stop - r.start])
            if direct is not None:
                dwb = numpy.empty((k + need_bias, cout), dtype=g2.dtype)
                relu_on = fused_mask and y2 is not None
                direct.direct_kernel_grad(x[imgs], gp, y2[r] if relu_on else gp, dwb, *geometry.args(), relu_on,
                                          need_bias)
                partials.append((dwb[:k], dwb[k] if need_bias else None))
            else:
                dw = _im2col_into(x[imgs], cols, geometry).T @ gp if need_kernel else None
                partials.append((dw, _column_sums(gp) if need_bias else None))
            if need_input:
                d = dcols[:len(gp)]
                xp.matmul(gp, w_t, out=d)
                _col2im_into(d, dx[imgs], geometry)
        for buffer in (cols, masked, dcols):
            if buffer is not None:
                workspace.give(buffer)
        return partials

    partials = [p for part in parallel.map_chunks(pieces, backward_pieces, g2, blas_work=True) for p in part]
    dw = _sum_in_order([p[0] for p in partials], (k, cout), g.dtype, xp).reshape(w.shape) if need_kernel else None
    db = _sum_in_order([p[1] for p in partials], (cout,), g.dtype, xp) if need_bias else None
    return dx, dw, db


def _pieces(xp, n, bytes_per_image):
    """(images per piece, number of pieces): as many images as fit ``PIECE_BYTES`` of im2col, and at least
    ``MIN_PIECES`` pieces to share among the cores; the whole batch on a GPU, which runs one product fastest."""
    if xp is not numpy:
        return max(n, 1), 1
    size = max(1, min(-(-n // MIN_PIECES), PIECE_BYTES // max(1, bytes_per_image)))
    return size, -(-n // size)


def _images(span, size, n):
    """The image slices of the pieces in ``span`` (a slice of piece indices)."""
    for k in range(span.start, span.stop):
        yield slice(k * size, min((k + 1) * size, n))


def _direct(x, w, k):
    """The compiled module when the product should be computed directly (a small field, one dtype), else None."""
    if k >= DIRECT_BELOW or x.dtype != w.dtype:
        return None
    return select.compiled("conv", x, w)


def _im2col_into(x, cols, geometry):
    """Fill the first ``len(x) H_o W_o`` rows of ``cols`` with ``im2col(x)``; returns them."""
    filled = cols[:x.shape[0] * geometry.rows]
    fast = select.compiled("conv", x, cols)
    if fast is not None and x.dtype == cols.dtype and x.flags.c_contiguous and cols.flags.c_contiguous:
        fast.im2col(x, filled, *geometry.args())
        return filled
    xp = xp_of(x)
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = geometry.kernel, geometry.out_hw, geometry.strides, geometry.dilation
    c = x.shape[3]
    sn, sh_, sw_, sc = x.strides
    windows = xp.lib.stride_tricks.as_strided(x, shape=(len(x), ho, wo, kh, kw, c),
                                              strides=(sn, sh_ * sh, sw_ * sw, sh_ * dh, sw_ * dw, sc),
                                              writeable=False)
    fields = filled.view()
    fields.shape = windows.shape  # assigning .shape raises rather than copy: the copy must land in cols
    if kw * c >= TAPWISE_BELOW:
        xp.copyto(fields, windows)
    else:  # few channels: one strided copy per tap beats copies of k_w C contiguous values per field
        for a in range(kh):
            for b in range(kw):
                fields[:, :, :, a, b, :] = windows[:, :, :, a, b, :]
    return filled


def _col2im_into(dcols, dx, geometry):
    """``dx[...] = col2im(dcols)``: zero, then each tap's field gradients added onto the pixels it read, taps in
    (a, b) order (the compiled kernel adds in the same order, so the two agree bit for bit)."""
    fast = select.compiled("conv", dcols, dx)
    if fast is not None and dcols.dtype == dx.dtype and dcols.flags.c_contiguous and dx.flags.c_contiguous:
        fast.col2im(dcols, dx, *geometry.args())
        return dx
    (kh, kw), (ho, wo), c = geometry.kernel, geometry.out_hw, dx.shape[3]
    fields = dcols.reshape(dx.shape[0], ho, wo, kh, kw, c)
    dx[...] = 0
    for a, b, region in window_slices(geometry.kernel, geometry.strides, geometry.dilation, geometry.out_hw):
        dx[region] += fields[:, :, :, a, b, :]
    return dx


def _column_sums(a):
    """The sums of the columns of the 2-D ``a``, as the product ``1^T a`` (BLAS: 3x faster than ``a.sum(axis=0)``,
    which walks the rows one at a time)."""
    xp = xp_of(a)
    return xp.ones(a.shape[0], dtype=a.dtype) @ a


def _sum_in_order(arrays, shape, dtype, xp):
    """The sum of the per-piece partial results, added in piece order (zeros for an empty batch)."""
    if not arrays:
        return xp.zeros(shape, dtype=dtype)
    total = arrays[0].copy()
    for array in arrays[1:]:
        total += array
    return total
