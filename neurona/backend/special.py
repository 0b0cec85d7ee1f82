"""Special functions NumPy lacks (used by GELU).

``erf`` comes from CuPy on the GPU, from SciPy when it is installed, and
otherwise from the standard library applied elementwise: exact to double
precision everywhere, only slower on the last path. SciPy is imported on the
first call, not with Neurona: it would double the import time of every program
for the sake of one activation function.
"""

import functools
import math

import numpy

from . import cuda

_math_erf = numpy.frompyfunc(math.erf, 1, 1)


@functools.cache
def _scipy_erf():
    """SciPy's ``erf`` ufunc, or None when SciPy is not installed (looked up once)."""
    try:
        from scipy.special import erf
    except ImportError:
        return None
    return erf


def erf(x):
    """The error function, elementwise, in ``x``'s dtype and on its device."""
    if cuda.available and isinstance(x, cuda.ndarray):
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(x)
    scipy_erf = _scipy_erf()
    if scipy_erf is not None:
        return scipy_erf(x).astype(x.dtype, copy=False)
    return _math_erf(x).astype(x.dtype)
