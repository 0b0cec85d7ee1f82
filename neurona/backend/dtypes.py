"""Default floating-point dtype.

Like Keras's ``floatx``: float32 by default (what training uses), float64 for
gradient checks and numerical tests.
"""

import numpy

_FLOATS = ("float16", "float32", "float64")
_floatx = "float32"


def floatx():
    """The name of the default float dtype, e.g. ``"float32"``."""
    return _floatx


def set_floatx(name):
    """Set the default float dtype (``"float16"``, ``"float32"`` or ``"float64"``)."""
    global _floatx
    name = numpy.dtype(name).name
    if name not in _FLOATS:
        raise ValueError(f"floatx must be one of {list(_FLOATS)}, got {name!r}")
    _floatx = name


def is_floating(dtype):
    """True for floating-point dtypes."""
    return numpy.dtype(dtype).kind == "f"
