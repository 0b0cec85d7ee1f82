"""Sampling-theory checks shared by the initializer statistics tests.

Tolerances come from the standard error of each statistic for ``n`` i.i.d.
draws: the sample mean has standard error ``sigma / sqrt(n)``; the sample
variance has standard error ``sigma^2 sqrt((kurtosis - 1) / n)``. A check
allows 6 standard errors (a false alarm rate around 1e-9 per check), which
still rejects the usual bugs (a wrong fan, a missing truncation correction,
a limit off by sqrt(2)) by a wide margin at the sample sizes used.
"""

import math

import numpy as np
import pytest

from neurona.backend import asnumpy

NORMAL_KURTOSIS = 3.0
UNIFORM_KURTOSIS = 9.0 / 5.0


def truncated_normal_moments(bound):
    """Standard deviation and kurtosis of a unit normal truncated to [-bound, bound], in closed form.

    With phi the unit normal density and Z = P(|z| <= bound), integrating by parts:
    E[z^2] = 1 - 2 bound phi(bound) / Z and E[z^4] = 3 E[z^2] - 2 bound^3 phi(bound) / Z.
    """
    phi = math.exp(-bound * bound / 2) / math.sqrt(2 * math.pi)
    z = math.erf(bound / math.sqrt(2))
    m2 = 1 - 2 * bound * phi / z
    m4 = 3 * m2 - 2 * bound**3 * phi / z
    return math.sqrt(m2), m4 / m2**2


TRUNCATED_KURTOSIS = truncated_normal_moments(2.0)[1]


class Moments:
    """Assertions on the sample moments of a batch of draws."""

    normal_kurtosis = NORMAL_KURTOSIS
    uniform_kurtosis = UNIFORM_KURTOSIS
    truncated_kurtosis = TRUNCATED_KURTOSIS
    truncated_normal_moments = staticmethod(truncated_normal_moments)

    @staticmethod
    def check(values, mean, variance, kurtosis):
        """Sample mean and variance of ``values`` agree with ``mean`` and ``variance`` within 6 standard errors."""
        x = np.asarray(asnumpy(values), dtype=np.float64).ravel()
        n = x.size
        mean_tol = 6 * math.sqrt(variance / n)
        assert abs(x.mean() - mean) <= mean_tol, f"mean {x.mean():.6g} vs {mean:.6g} (tolerance {mean_tol:.3g}, n={n})"
        ratio, ratio_tol = x.var() / variance, 6 * math.sqrt((kurtosis - 1) / n)
        assert abs(ratio - 1) <= ratio_tol, f"variance ratio {ratio:.5f} vs 1 (tolerance {ratio_tol:.3g}, n={n})"

    @staticmethod
    def check_bound(values, center, bound, density_at_bound):
        """All values within ``center +- bound``, and the extremes come close to it.

        ``density_at_bound`` is a lower bound on P(|x - center| in [bound - delta, bound]) / delta
        (as a fraction of ``bound``); the sample must reach within ``delta = 30 / (n * density)``
        of the bound, which fails by chance with probability about e^-30.
        """
        x = np.abs(np.asarray(asnumpy(values), dtype=np.float64).ravel() - center)
        assert x.max() <= bound * (1 + 1e-6), f"max |x - center| = {x.max():.6g} exceeds bound {bound:.6g}"
        delta = 30 / (x.size * density_at_bound)
        assert x.max() >= bound * (1 - delta), f"max |x - center| = {x.max():.6g} never nears bound {bound:.6g}"


@pytest.fixture(scope="session")
def moments():
    """The ``Moments`` assertions (a fixture so test modules need no import path to this file)."""
    return Moments
