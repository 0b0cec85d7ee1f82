"""Deterministic initializers: Zeros, Ones, Constant, Identity.

They draw nothing, so they build the array directly on the current device and
accept any dtype (integer ones included).
"""

from ..backend import get_xp
from .base import Initializer, check_real


class Zeros(Initializer):
    """All zeros: ``W = 0``. The usual bias initializer."""

    def generate(self, shape, dtype):
        return get_xp().zeros(shape, dtype=dtype)


class Ones(Initializer):
    """All ones: ``W = 1``. The usual scale (gamma) initializer of normalization layers."""

    def generate(self, shape, dtype):
        return get_xp().ones(shape, dtype=dtype)


class Constant(Initializer):
    """Every entry equal to one scalar: ``W = value``.

    Args:
        value: a finite real number.
    """

    def __init__(self, value=0.0):
        if isinstance(value, int) and not isinstance(value, bool):
            self.value = value  # keep ints exact (JSON round-trips them unchanged)
        else:
            self.value = check_real(value, "Constant value")

    def generate(self, shape, dtype):
        return get_xp().full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """The identity matrix times a gain: ``W = gain * I`` (2-D shapes only).

    For a non-square ``(rows, cols)`` shape, ``W[i, i] = gain`` for
    ``i < min(rows, cols)`` and every other entry is 0 (``numpy.eye(rows, cols)``).
    Used for recurrent kernels (Le et al., 2015, "A Simple Way to Initialize
    Recurrent Networks of Rectified Linear Units").

    Args:
        gain: the multiplier of the identity matrix.
    """

    def __init__(self, gain=1.0):
        self.gain = check_real(gain, "Identity gain")

    def generate(self, shape, dtype):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D (rows, cols) shape, got {shape} "
                             f"with {len(shape)} dimensions")
        return self.gain * get_xp().eye(*shape, dtype=dtype)

    def get_config(self):
        return {"gain": self.gain}
