"""Seeded randomness through ``numpy.random.Generator``.

There is one library-wide generator, reset by ``neurona.seed(n)``; objects that
take a ``seed=`` argument (initializers, dropout, shuffling) build their own
generator from it, so their draws do not depend on what ran before. Random
numbers are always drawn on the CPU with NumPy and moved to the device
afterwards, so a seed gives the same numbers on every backend.
"""

import numpy

_generator = numpy.random.default_rng()


def seed(value):
    """Reseed the library-wide generator (and so every unseeded draw after it)."""
    global _generator
    if not isinstance(value, (int, numpy.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"seed must be a non-negative integer, got {value!r}")
    _generator = numpy.random.default_rng(int(value))


def get_generator():
    """The library-wide ``numpy.random.Generator``."""
    return _generator


def make_generator(seed=None):
    """A generator for one object: its own if ``seed`` is given, else a child of the global one.

    Args:
        seed: None, a non-negative int, or an existing ``numpy.random.Generator``.
    """
    if seed is None:
        return numpy.random.default_rng(_generator.integers(0, 2**63 - 1))
    if isinstance(seed, numpy.random.Generator):
        return seed
    if not isinstance(seed, (int, numpy.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be None, a non-negative integer or a numpy Generator, got {seed!r}")
    return numpy.random.default_rng(int(seed))
