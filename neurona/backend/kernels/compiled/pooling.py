"""Compiled pooling kernels (see ``kernels.pooling`` for the math, the NaN rule and the references).

Loops run over (sample, output row, output column, window cell, channel), the channel innermost: NHWC keeps
the channels of a cell contiguous, so the inner loop reads, compares and writes whole rows of channels.
"""

import numpy as np

from . import jit


@jit
def max_pool(x, ph, pw, sh, sw, top, left, y, arg):
    n, h, w, c = x.shape
    _, ho, wo, _ = y.shape
    for s in range(n):
        for i in range(ho):
            for j in range(wo):
                yo, ao = y[s, i, j], arg[s, i, j]
                for k in range(ph * pw):
                    r, q = i * sh + k // pw - top, j * sw + k % pw - left
                    inside = 0 <= r < h and 0 <= q < w
                    if k == 0:
                        if inside:
                            row = x[s, r, q]
                            for ch in range(c):
                                v = row[ch]
                                yo[ch] = v
                                ao[ch] = 0 if v == v else -1
                        else:  # a padded cell: -inf, still the first candidate (as in the reference)
                            for ch in range(c):
                                yo[ch] = -np.inf
                                ao[ch] = 0
                    elif inside:
                        row = x[s, r, q]
                        for ch in range(c):
                            v = row[ch]
                            if v > yo[ch]:
                                yo[ch] = v
                                ao[ch] = k
                            elif v != v:  # NaN propagates and takes the gradient nowhere
                                yo[ch] = v
                                ao[ch] = -1


@jit
def max_pool_grad(g, arg, ph, pw, sh, sw, top, left, overlap, dx):
    n, h, w, c = dx.shape
    _, ho, wo, _ = g.shape
    for s in range(n):
        for i in range(ho):
            for j in range(wo):
                go, ao = g[s, i, j], arg[s, i, j]
                for k in range(ph * pw):
                    r, q = i * sh + k // pw - top, j * sw + k % pw - left
                    if not (0 <= r < h and 0 <= q < w):
                        continue
                    row = dx[s, r, q]
                    if overlap:  # a cell shared by windows collects each window's share, in output order
                        for ch in range(c):
                            if ao[ch] == k:
                                row[ch] += go[ch]
                    else:
                        for ch in range(c):
                            row[ch] = go[ch] if ao[ch] == k else 0
