"""Compiled activation kernels (see ``kernels.activation`` for the math and the references)."""

from . import jit


@jit
def relu(x, out):
    for i in range(x.size):
        v = x[i]
        out[i] = v if v > 0 or v != v else 0  # v != v: NaN passes, as numpy.maximum(NaN, 0) = NaN


@jit
def relu_grad(g, y, out):
    for i in range(g.size):
        out[i] = g[i] if y[i] > 0 else 0


@jit
def bias_act(z, b, relu_on):
    rows, cols = z.shape
    for r in range(rows):
        for c in range(cols):
            v = z[r, c] + b[c]
            z[r, c] = (v if v > 0 or v != v else 0) if relu_on else v
