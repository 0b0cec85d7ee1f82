"""16-bit NumPy arrays through the float32 kernels: widen the operands, run the kernel, round the results once.

NumPy computes float16 elementwise and reduction loops without SIMD (several times slower than float32), and
neither numba nor BLAS takes float16 or bfloat16 at all, so a mixed-precision step on 16-bit arrays would run
the reference loops: about 7x the float32 step of the MNIST CNN, measured. A GPU's fused kernels read 16-bit
operands, compute in float32 and write 16-bit results; ``widened`` does the same on the CPU for the kernels
whose result then differs from exact 16-bit arithmetic only by being rounded once rather than at every step:
the matrix products and einsum (each product of 16-bit significands is exact in float32), the convolution
products with their bias and ReLU epilogue, the pooling windows (a max is exact in any
precision) and the normalization statistics (sums of 16-bit values lose digits at every step: a float32 sum
rounded once is what a GPU's reduction returns). CuPy arrays, which have float16 kernels of their own, and
every other dtype pass through as they are.
"""

import functools

import numpy

from ..dtypes import is_reduced_float

__all__ = ["widened"]


def widened(kernel):
    """``kernel`` run in float32 on 16-bit NumPy arguments, its float results rounded to their dtype."""
    @functools.wraps(kernel)
    def run(*args, **kwargs):
        narrow = _narrow_dtype(args, kwargs)
        if narrow is None:
            return kernel(*args, **kwargs)
        args = tuple(_widen(a) for a in args)
        kwargs = {k: _widen(v) for k, v in kwargs.items()}
        result = kernel(*args, **kwargs)
        if isinstance(result, tuple):
            return tuple(_narrow(r, narrow) for r in result)
        return _narrow(result, narrow)

    return run


def _narrow_dtype(args, kwargs):
    for value in (*args, *kwargs.values()):
        if type(value) is numpy.ndarray and is_reduced_float(value.dtype):
            return value.dtype
    return None


def _widen(value):
    if type(value) is numpy.ndarray and is_reduced_float(value.dtype):
        return value.astype(numpy.float32)
    return value


def _narrow(value, dtype):
    if type(value) is numpy.ndarray and value.dtype == numpy.float32:
        return value.astype(dtype)
    return value
