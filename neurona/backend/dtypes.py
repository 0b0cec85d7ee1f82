"""Default floating-point dtype, and the reduced-precision float dtypes.

Like Keras's ``floatx``: float32 by default (what training uses), float64 for
gradient checks and numerical tests.

bfloat16 (8 exponent bits like float32, 7 mantissa bits; Kalamkar et al. 2019, "A study of BFLOAT16 for
deep learning training") is not a NumPy dtype: the ``ml_dtypes`` package adds it, with ``kind == "V"``, so
a check for "a float" is ``is_floating(dtype)``, never ``dtype.kind == "f"``. ml_dtypes is imported on
the first use of bfloat16, never on ``import neurona``.
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


def bfloat16():
    """The bfloat16 NumPy dtype of ``ml_dtypes`` (an ImportError naming the package when it is missing)."""
    try:
        import ml_dtypes
    except ImportError:
        raise ImportError("bfloat16 needs the ml_dtypes package: pip install ml_dtypes") from None
    return numpy.dtype(ml_dtypes.bfloat16)


def as_dtype(dtype):
    """``numpy.dtype(dtype)``, where ``"bfloat16"`` names ml_dtypes's bfloat16."""
    if isinstance(dtype, str) and dtype == "bfloat16":
        return bfloat16()
    return numpy.dtype(dtype)


def is_bfloat16(dtype):
    """True for ml_dtypes's bfloat16 (checked by name: ml_dtypes need not be imported)."""
    if isinstance(dtype, numpy.dtype):  # the hot path: a dtype's .name costs ~2 us, its .kind far less
        return dtype.kind == "V" and dtype.name == "bfloat16"
    return getattr(dtype, "name", dtype) == "bfloat16"


def is_floating(dtype):
    """True for floating-point dtypes, bfloat16 included."""
    if not isinstance(dtype, numpy.dtype):
        if is_bfloat16(dtype):
            return True
        dtype = numpy.dtype(dtype)
    kind = dtype.kind
    return kind == "f" or kind == "V" and dtype.name == "bfloat16"


def is_reduced_float(dtype):
    """True for the 16-bit floats (float16 and bfloat16), which mixed precision computes in."""
    if not isinstance(dtype, numpy.dtype):
        if is_bfloat16(dtype):
            return True
        dtype = numpy.dtype(dtype)
    return dtype.itemsize == 2 and (dtype.kind == "f" or dtype.kind == "V" and dtype.name == "bfloat16")


def finfo(dtype):
    """``numpy.finfo`` for any float dtype, bfloat16 included (through ml_dtypes)."""
    if is_bfloat16(dtype):
        import ml_dtypes

        return ml_dtypes.finfo(ml_dtypes.bfloat16)
    return numpy.finfo(dtype)
