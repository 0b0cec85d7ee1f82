"""Deterministic initializers: Zeros, Ones, Constant, Identity.

They draw nothing, so they build the array directly on the current device and
accept any dtype (integer ones included).
"""

import math

from ..backend import get_xp
from .base import Initializer, check_real, normalize_shape


class _Filled(Initializer):
    """An initializer whose every entry is the same number ``fill``: mean ``fill``, standard deviation 0."""

    fill = 0.0

    def expected_mean(self, shape):
        normalize_shape(shape)  # still refuse a bad shape, as a call would
        return float(self.fill)

    def expected_std(self, shape):
        normalize_shape(shape)
        return 0.0


class Zeros(_Filled):
    """All zeros: ``W = 0``. The usual bias initializer."""

    def generate(self, shape, dtype):
        return get_xp().zeros(shape, dtype=dtype)


class Ones(_Filled):
    """All ones: ``W = 1``. The usual scale (gamma) initializer of normalization layers."""

    fill = 1.0

    def generate(self, shape, dtype):
        return get_xp().ones(shape, dtype=dtype)


class Constant(_Filled):
    """Every entry equal to one scalar: ``W = value``.

    Args:
        value: a finite real number.
    """

    def __init__(self, value=0.0):
        if isinstance(value, int) and not isinstance(value, bool):
            self.value = value  # keep ints exact (JSON round-trips them unchanged)
        else:
            self.value = check_real(value, "Constant value")

    @property
    def fill(self):
        return self.value

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

    Its entries are ``k = min(rows, cols)`` values ``gain`` among ``N = rows * cols``, so with ``p = k / N``
    their mean is ``gain * p`` and their standard deviation ``|gain| * sqrt(p * (1 - p))`` (a two-valued
    distribution); both are 0 for an empty shape.

    Args:
        gain: the multiplier of the identity matrix.
    """

    def __init__(self, gain=1.0):
        self.gain = check_real(gain, "Identity gain")

    def generate(self, shape, dtype):
        return self.gain * get_xp().eye(*_matrix_shape(shape), dtype=dtype)

    def _diagonal_fraction(self, shape):
        rows, cols = _matrix_shape(normalize_shape(shape))
        return min(rows, cols) / (rows * cols) if rows * cols else 0.0

    def expected_mean(self, shape):
        return self.gain * self._diagonal_fraction(shape)

    def expected_std(self, shape):
        p = self._diagonal_fraction(shape)
        return abs(self.gain) * math.sqrt(p * (1.0 - p))

    def get_config(self):
        return {"gain": self.gain}


def _matrix_shape(shape):
    if len(shape) != 2:
        raise ValueError(f"Identity initializer needs a 2-D (rows, cols) shape, got {shape} "
                         f"with {len(shape)} dimensions")
    return shape
