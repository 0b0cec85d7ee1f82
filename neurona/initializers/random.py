"""Fixed-distribution random initializers: RandomUniform, RandomNormal, TruncatedNormal.

Their parameters do not depend on the weight shape (compare
``variance_scaling.py``). The sampling helpers here are shared with it.
"""

import math

from .base import RandomInitializer, check_real, normalize_shape

#: Standard deviation of a unit normal truncated to [-2, 2]:
#: sqrt(1 - 4 phi(2) / (Phi(2) - Phi(-2))) with phi, Phi the normal pdf and cdf.
#: Dividing a target stddev by it makes the *truncated* draw have that stddev.
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def truncated_standard_normal(rng, shape, bound=2.0):
    """Unit-normal draws with every value beyond ``+-bound`` redrawn until none is left.

    This is rejection sampling, so the result follows the unit normal
    conditioned on ``|z| <= bound`` exactly. With ``bound=2`` about 4.6% of the
    values are redrawn in the first round, so the loop ends after a few rounds.
    """
    z = rng.standard_normal(shape)
    flat = z.reshape(-1)
    redraw = (abs(flat) > bound).nonzero()[0]
    while redraw.size:
        flat[redraw] = rng.standard_normal(redraw.size)
        redraw = redraw[abs(flat[redraw]) > bound]
    return z


class RandomUniform(RandomInitializer):
    """Uniform draws: ``W ~ U[minval, maxval)``.

    Mean ``(minval + maxval) / 2``, variance ``(maxval - minval)^2 / 12``.

    Args:
        minval: lower bound (inclusive).
        maxval: upper bound (exclusive); must be greater than ``minval``.
        seed: None or an int; see ``RandomInitializer`` for what each does.

    Example:
        >>> init = RandomUniform(-0.1, 0.1, seed=0)
        >>> w = init((784, 128))          # same values on every call
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = check_real(minval, "RandomUniform minval")
        self.maxval = check_real(maxval, "RandomUniform maxval")
        if self.minval >= self.maxval:
            raise ValueError(f"RandomUniform needs minval < maxval, got minval={self.minval!r}, "
                             f"maxval={self.maxval!r}")

    def generate(self, shape, dtype):
        return self.generator().uniform(self.minval, self.maxval, shape)

    def expected_mean(self, shape):
        normalize_shape(shape)  # the moments do not depend on the shape, but a bad one is still refused
        return (self.minval + self.maxval) / 2.0

    def expected_std(self, shape):
        normalize_shape(shape)
        return (self.maxval - self.minval) / math.sqrt(12.0)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class RandomNormal(RandomInitializer):
    """Gaussian draws: ``W ~ N(mean, stddev^2)``.

    Args:
        mean: mean of the distribution.
        stddev: standard deviation (>= 0).
        seed: None or an int; see ``RandomInitializer`` for what each does.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = check_real(mean, "RandomNormal mean")
        self.stddev = check_real(stddev, "RandomNormal stddev", minimum=0.0)

    def generate(self, shape, dtype):
        return self.mean + self.stddev * self.generator().standard_normal(shape)

    def expected_mean(self, shape):
        normalize_shape(shape)
        return self.mean

    def expected_std(self, shape):
        normalize_shape(shape)
        return self.stddev

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """Gaussian draws with values beyond two standard deviations redrawn (as Keras).

    ``W = mean + stddev * z`` with ``z ~ N(0, 1)`` conditioned on ``|z| <= 2``,
    so every value lies in ``[mean - 2 stddev, mean + 2 stddev]``. The result's
    standard deviation is ``stddev * 0.8796...`` (``TRUNCATED_NORMAL_STDDEV``),
    not ``stddev``: ``stddev`` is the parameter of the normal before truncation.
    ``VarianceScaling`` corrects for this; this class does not, as in Keras.

    Args:
        mean: mean of the distribution.
        stddev: standard deviation before truncation (>= 0).
        seed: None or an int; see ``RandomInitializer`` for what each does.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = check_real(mean, "TruncatedNormal mean")
        self.stddev = check_real(stddev, "TruncatedNormal stddev", minimum=0.0)

    def generate(self, shape, dtype):
        return self.mean + self.stddev * truncated_standard_normal(self.generator(), shape)

    def expected_mean(self, shape):
        normalize_shape(shape)
        return self.mean  # the truncation is symmetric about the mean

    def expected_std(self, shape):
        """``stddev * 0.8796...``: the standard deviation after truncation, not the parameter ``stddev``."""
        normalize_shape(shape)
        return self.stddev * TRUNCATED_NORMAL_STDDEV

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}
