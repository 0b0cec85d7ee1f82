"""``Orthogonal``: a random (Haar-distributed) orthogonal matrix times a gain."""

import math

import numpy

from .base import RandomInitializer, check_real, normalize_shape


class Orthogonal(RandomInitializer):
    """A uniformly random orthogonal matrix scaled by ``gain`` (Saxe et al., 2014).

    The weight is viewed as a matrix of ``rows = prod(shape[:-1])`` by
    ``cols = shape[-1]`` (all axes but the last flattened, so a conv kernel
    ``(*kernel_size, in, out)`` becomes ``(prod(kernel_size) * in, out)``). Then:

    1. draw ``A ~ N(0, 1)`` of shape ``(max(rows, cols), min(rows, cols))``;
    2. ``A = Q R`` (reduced QR); multiply each column ``j`` of ``Q`` by
       ``sign(R[j, j])``. Without this step the QR routine's sign convention
       biases ``Q``; with it ``Q`` is distributed uniformly (Haar measure) over
       matrices with orthonormal columns (Mezzadri, 2007, "How to generate random
       matrices from the classical compact groups");
    3. transpose ``Q`` if ``rows < cols``, reshape to ``shape`` and multiply by ``gain``.

    So ``W^T W = gain^2 I`` when ``rows >= cols`` (orthonormal columns) and
    ``W W^T = gain^2 I`` when ``rows < cols`` (orthonormal rows), for the
    flattened ``W``. Each of the ``min(rows, cols)`` orthonormal vectors has
    ``max(rows, cols)`` entries and unit norm, so the squares of all entries sum
    to ``gain^2 min(rows, cols)`` *exactly*, on every draw: the mean square is
    ``gain^2 / max(rows, cols)``. The mean of the entries is 0 in expectation
    (the Haar measure is invariant under ``W -> -W``) and of order
    ``|gain| / (max(rows, cols) sqrt(min(rows, cols)))`` on one draw, so one
    draw's standard deviation is ``|gain| / sqrt(max(rows, cols))`` to a relative
    ``1 / (2 rows cols)`` (``expected_std``).

    Saxe, McClelland & Ganguli, "Exact solutions to the
    nonlinear dynamics of learning in deep linear neural networks", ICLR 2014.

    Args:
        gain: multiplier of the orthogonal matrix (e.g. ``calculate_gain("relu")``).
        seed: None or an int; see ``RandomInitializer`` for what each does.

    Example:
        >>> w = Orthogonal(seed=0)((256, 256))   # w.T @ w == I up to rounding
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = check_real(gain, "Orthogonal gain")

    def expected_mean(self, shape):
        """0 in expectation; one draw's mean is of order ``|gain| / (max(rows, cols) * sqrt(min(rows, cols)))``."""
        _matrix_shape(normalize_shape(shape))
        return 0.0

    def expected_std(self, shape):
        """``|gain| / sqrt(max(rows, cols))`` of the flattened matrix (see the class docstring); 0 when empty."""
        rows, cols = _matrix_shape(normalize_shape(shape))
        return abs(self.gain) / math.sqrt(max(rows, cols)) if rows and cols else 0.0

    def generate(self, shape, dtype):
        rows, cols = _matrix_shape(shape)
        if rows == 0 or cols == 0:
            return numpy.zeros(shape)
        a = self.generator().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = numpy.linalg.qr(a)
        # copysign rather than sign: a zero diagonal entry (probability 0) must not zero a column.
        q *= numpy.copysign(1.0, numpy.diagonal(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


def _matrix_shape(shape):
    """``(rows, cols)`` of the matrix a weight of ``shape`` is viewed as: every axis but the last flattened."""
    if len(shape) < 2:
        raise ValueError(f"Orthogonal initializer needs a shape with at least 2 dimensions, got {shape}")
    return math.prod(shape[:-1]), shape[-1]
