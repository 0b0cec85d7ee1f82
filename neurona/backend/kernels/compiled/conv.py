"""Compiled convolution kernels (see ``kernels.conv`` for the math, the references and the driver).

Each works on one tile of images and is called by the driver from the backend's threads (``nogil``). Arrays are
C-contiguous and indexed through flat views with unsigned offsets: numba checks every signed index for a
negative (wrap-around) value, and that check kept LLVM from vectorizing the copies (measured 0.38 against
0.085 ms for the im2col of six 26x26x32 images). Geometry arguments: ``kh, kw`` (kernel), ``sh, sw``
(strides), ``dh, dw`` (dilation), ``ho, wo`` (output size).
"""

import numpy as np
from numba import uint64 as u

from . import jit


@jit
def im2col(x, cols, kh, kw, sh, sw, dh, dw, ho, wo):
    """cols[(n, i, j), (a, b, c)] = x[n, sh i + dh a, sw j + dw b, c]."""
    n, hp, wp, c = x.shape
    xf, cf = x.reshape(-1), cols.reshape(-1)
    ld = u(cols.shape[1])
    run = u(kw * c if dw == 1 else c)  # without dilation a kernel row reads kw * c contiguous values
    runs = kw if dw != 1 else 1
    row = u(0)
    for img in range(n):
        for i in range(ho):
            for j in range(wo):
                dst = row * ld
                for a in range(kh):
                    src = u(((img * hp + i * sh + a * dh) * wp + j * sw) * c)
                    for _ in range(runs):
                        for e in range(run):
                            cf[dst + e] = xf[src + e]
                        dst += run
                        src += u(dw * c)
                row += u(1)


@jit
def col2im(dcols, dx, kh, kw, sh, sw, dh, dw, ho, wo):
    """dx = 0, then dx[n, sh i + dh a, sw j + dw b, c] += dcols[(n, i, j), (a, b, c)] tap by tap, (a, b) in order.

    Per element of ``dx`` the terms are added from 0 in the reference's tap order, so the two agree bit for bit.
    """
    n, hp, wp, c = dx.shape
    df, xf = dcols.reshape(-1), dx.reshape(-1)
    ld, cu = u(dcols.shape[1]), u(c)
    for e in range(u(xf.size)):
        xf[e] = 0
    for img in range(n):
        for a in range(kh):
            for b in range(kw):
                col = u((a * kw + b) * c)
                for i in range(ho):
                    src = u((img * ho + i) * wo) * ld + col
                    dst = u(((img * hp + i * sh + a * dh) * wp + b * dw) * c)
                    for _ in range(wo):
                        for ch in range(cu):
                            xf[dst + ch] += df[src + ch]
                        src += ld
                        dst += u(sw * c)


@jit
def direct_forward(x, wmat, bias, out, kh, kw, sh, sw, dh, dw, ho, wo, relu_on):
    """out[(n, i, j), o] = act(sum_{a, b, c} x[n, sh i + dh a, sw j + dw b, c] wmat[(a, b, c), o] + bias[o]).

    The product without a cols matrix, for a small k_h k_w C_in (a first layer) where BLAS is far from its
    speed. Each output image row is accumulated tap by tap in place (it stays in L1), then biased and cut.
    """
    n, hp, wp, c = x.shape
    cout, wou = u(out.shape[1]), u(wo)
    xf, wf, of = x.reshape(-1), wmat.reshape(-1), out.reshape(-1)
    for img in range(n):
        for i in range(ho):
            base = u((img * ho + i) * wo) * cout
            for e in range(wou * cout):
                of[base + e] = 0
            t = u(0)
            for a in range(kh):
                for b in range(kw):
                    for ch in range(u(c)):
                        src = u(((img * hp + i * sh + a * dh) * wp + b * dw) * c) + ch
                        dst = base
                        for _ in range(wou):
                            v = xf[src]
                            for o in range(cout):
                                of[dst + o] += v * wf[t + o]
                            src += u(sw * c)
                            dst += cout
                        t += cout
            dst = base
            for _ in range(wou):
                for o in range(cout):
                    v = of[dst + o] + bias[o]
                    of[dst + o] = (v if v > 0 or v != v else 0) if relu_on else v
                dst += cout


@jit
def direct_kernel_grad(x, g, y, dwb, kh, kw, sh, sw, dh, dw, ho, wo, relu_on, with_bias):
    """dwb[(a, b, c), o] = sum_{n, i, j} x[n, sh i + dh a, sw j + dw b, c] m[(n, i, j), o], and with a bias a
    last row sum_{n, i, j} m[(n, i, j), o]; m = g [y > 0] with the ReLU, else g. ``dwb`` is overwritten."""
    n, hp, wp, c = x.shape
    cout, wou = u(g.shape[1]), u(wo)
    k = u(kh * kw * c)
    xf, gf, yf, df = x.reshape(-1), g.reshape(-1), y.reshape(-1), dwb.reshape(-1)
    m = np.empty(wou * cout, dtype=g.dtype)  # one output image row of the masked gradient
    acc = np.empty(cout, dtype=g.dtype)
    for e in range(u(df.size)):
        df[e] = 0
    for img in range(n):
        for i in range(ho):
            base = u((img * ho + i) * wo) * cout
            for e in range(wou * cout):
                m[e] = gf[base + e] if not relu_on or yf[base + e] > 0 else 0
            t = u(0)
            for a in range(kh):
                for b in range(kw):
                    for ch in range(u(c)):
                        src = u(((img * hp + i * sh + a * dh) * wp + b * dw) * c) + ch
                        for o in range(cout):
                            acc[o] = df[t + o]
                        dst = u(0)
                        for _ in range(wou):
                            v = xf[src]
                            for o in range(cout):
                                acc[o] += v * m[dst + o]
                            src += u(sw * c)
                            dst += cout
                        for o in range(cout):
                            df[t + o] = acc[o]
                        t += cout
            if with_bias:
                dst = u(0)
                for _ in range(wou):
                    for o in range(cout):
                        df[k * cout + o] += m[dst + o]
                    dst += cout
