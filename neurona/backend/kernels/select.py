"""Which implementation the kernels run: the compiled one (numba) or the NumPy reference.

``NEURONA_KERNELS`` chooses, read at every call so that a test or a user can switch at run time:

- ``auto`` (the default): the compiled kernels when numba can be imported, else the reference;
- ``numba``: the compiled kernels, and an ImportError naming the missing package when numba is absent;
- ``numpy``: the reference implementations only (numba is never imported).

A compiled kernel runs only on NumPy arrays; CuPy arrays (and anything else) take the reference, which is
written with the array module of its inputs. numba and the compiled modules are imported on the first call
that needs them, never on ``import neurona`` (numba's import alone takes about 0.3 s).
"""

import importlib
import os
import threading

import numpy

CHOICES = ("auto", "numba", "numpy")
_COMPILED_FLOATS = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))

_lock = threading.Lock()
_modules = {}  # family name -> compiled module, or None when numba cannot be imported
_numba_error = []  # the ImportError of the first failed numba import, kept to re-raise with NEURONA_KERNELS=numba


def requested():
    """``NEURONA_KERNELS`` lowercased (``auto`` when unset or empty); a ValueError for any other value."""
    value = os.environ.get("NEURONA_KERNELS", "").strip().lower() or "auto"
    if value not in CHOICES:
        raise ValueError(f"NEURONA_KERNELS must be one of {', '.join(CHOICES)}, got {os.environ['NEURONA_KERNELS']!r}")
    return value


def numba_available():
    """Whether numba can be imported (imports it once to find out)."""
    return _load("activation", "auto") is not None


def implementation():
    """``"numba"`` or ``"numpy"``: what a kernel called now on NumPy arrays runs."""
    choice = requested()
    if choice == "numpy":
        return "numpy"
    return "numba" if _load("activation", choice) is not None else "numpy"


def compiled(family, *arrays):
    """The compiled module ``kernels.compiled.<family>`` when it should run on ``arrays``, else None.

    None when ``NEURONA_KERNELS=numpy``, when numba is absent (``auto``), or when any of ``arrays`` is not a
    NumPy array (e.g. CuPy, which takes the reference) or holds floats other than float32 and float64.
    """
    choice = requested()
    if choice == "numpy":
        return None
    for array in arrays:
        if type(array) is not numpy.ndarray:
            return None
        if array.dtype.kind not in "biu" and array.dtype not in _COMPILED_FLOATS:
            return None  # float16, bfloat16 (and wider floats): the compiled kernels have float32 and float64 only
    return _load(family, choice)


def _load(family, choice):
    module = _modules.get(family, False)
    if module is False:
        with _lock:
            module = _modules.get(family, False)
            if module is False:
                module = _modules[family] = _import(family)
    if module is None and choice == "numba":
        raise ImportError("NEURONA_KERNELS=numba, but numba cannot be imported "
                          f"({_numba_error[0] if _numba_error else 'unknown error'}); install it with "
                          "'pip install numba', or set NEURONA_KERNELS=numpy or auto") from None
    return module


def _import(family):
    try:
        import numba  # noqa: F401  (the one place that decides whether numba is there)
    except ImportError as exc:
        _numba_error[:] = [exc]
        return None
    return importlib.import_module(f"{__package__}.compiled.{family}")
