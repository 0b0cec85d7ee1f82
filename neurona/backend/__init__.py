"""Array backend: which array module (NumPy or CuPy), device moves, dtypes, seeded RNG.

Importing it changes nothing outside Neurona; the one process-wide setting it
owns, glibc's allocator thresholds (``allocator.tune``), is applied by
``Model.fit`` or by an explicit call, never on import.
"""

from . import allocator
from .device import asnumpy, device_of, get_device, get_xp, set_device, to_device, xp_of
from .dtypes import floatx, is_floating, set_floatx
from .random import get_generator, make_generator, seed

__all__ = [
    "allocator", "asnumpy", "device_of", "get_device", "get_xp", "set_device", "to_device", "xp_of",
    "floatx", "is_floating", "set_floatx", "get_generator", "make_generator", "seed",
]
