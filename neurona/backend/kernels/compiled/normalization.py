"""Compiled batch-normalization kernels (see ``kernels.normalization`` for the math and the references).

Each works on a (rows, channels) piece of the channels-last batch seen as a matrix, the channels innermost
(contiguous), and reduces into float64 accumulators per channel: the caller adds the pieces' partial sums in
piece order, so the result does not depend on how pieces are spread over threads.
"""

from . import jit


@jit
def col_sums(x, out):
    rows, cols = x.shape
    for j in range(cols):
        out[j] = 0.0
    for i in range(rows):
        for j in range(cols):
            out[j] += x[i, j]


@jit
def col_squared_deviations(x, mean, out):
    rows, cols = x.shape
    for j in range(cols):
        out[j] = 0.0
    for i in range(rows):
        for j in range(cols):
            d = x[i, j] - mean[j]
            out[j] += d * d


@jit
def normalize(x, mean, inv_std, x_hat):
    rows, cols = x.shape
    for i in range(rows):
        for j in range(cols):
            x_hat[i, j] = (x[i, j] - mean[j]) * inv_std[j]


@jit
def grad_sums(g, x_hat, sum_g, sum_gx):
    rows, cols = g.shape
    for j in range(cols):
        sum_g[j] = 0.0
        sum_gx[j] = 0.0
    for i in range(rows):
        for j in range(cols):
            v = g[i, j]
            sum_g[j] += v
            sum_gx[j] += v * x_hat[i, j]


@jit
def grad_input(g, x_hat, scale, a, b, dx):
    rows, cols = g.shape
    for i in range(rows):
        for j in range(cols):
            dx[i, j] = g[i, j] * scale[j] - x_hat[i, j] * a[j] - b[j]
