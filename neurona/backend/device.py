"""Array-module (``xp``) selection and moves between devices.

Op code never imports NumPy or CuPy directly: it asks this module for the array
module of its inputs (``xp_of``) or of the current device (``get_xp``), so the
same code runs on the CPU (NumPy) and on a GPU (CuPy).
"""

import numpy

from . import cuda

_DEVICES = ("cpu", "cuda")
_current = "cpu"


def set_device(name):
    """Select where new tensors and weights live: ``"cpu"`` or ``"cuda"``."""
    global _current
    if name not in _DEVICES:
        raise ValueError(f"unknown device {name!r}; expected one of {list(_DEVICES)}")
    if name == "cuda" and not cuda.available:
        raise RuntimeError(
            "device 'cuda' requested but CuPy with a usable GPU is not available; "
            "install the GPU extra (pip install 'neurona[gpu]') on a machine with an NVIDIA GPU"
        )
    _current = name


def get_device():
    """The name of the current device, ``"cpu"`` or ``"cuda"``."""
    return _current


def get_xp():
    """The array module of the current device (``numpy`` or ``cupy``)."""
    return cuda.cupy if _current == "cuda" else numpy


def xp_of(*arrays):
    """The array module that owns ``arrays`` (CuPy if any of them is a CuPy array)."""
    if cuda.available:
        for a in arrays:
            if isinstance(a, cuda.ndarray):
                return cuda.cupy
    return numpy


def device_of(array):
    """``"cuda"`` for a CuPy array, else ``"cpu"``."""
    return "cuda" if cuda.available and isinstance(array, cuda.ndarray) else "cpu"


def to_device(array, device=None):
    """Return ``array`` on ``device`` (default: the current one), copying only if needed."""
    device = device or _current
    if device == "cuda":
        if not cuda.available:
            raise RuntimeError("device 'cuda' requested but CuPy with a usable GPU is not available")
        return cuda.cupy.asarray(array)
    return asnumpy(array)


def asnumpy(array):
    """A NumPy array holding ``array``'s values (a no-op for NumPy input)."""
    if cuda.available and isinstance(array, cuda.ndarray):
        return cuda.cupy.asnumpy(array)
    return numpy.asarray(array)
