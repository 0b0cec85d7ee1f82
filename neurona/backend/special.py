"""Special functions NumPy lacks (used by GELU).

``erf`` comes from CuPy on the GPU, from SciPy when it is installed, and
otherwise from the standard library applied elementwise: exact to double
precision everywhere, only slower on the last path.
"""

import math

import numpy

from . import cuda

try:  # SciPy is optional
    from scipy.special import erf as _scipy_erf
except Exception:  # pragma: no cover - depends on the machine
    _scipy_erf = None

_math_erf = numpy.frompyfunc(math.erf, 1, 1)


def erf(x):
    """The error function, elementwise, in ``x``'s dtype and on its device."""
    if cuda.available and isinstance(x, cuda.ndarray):
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(x)
    if _scipy_erf is not None:
        return _scipy_erf(x).astype(x.dtype, copy=False)
    return _math_erf(x).astype(x.dtype)
