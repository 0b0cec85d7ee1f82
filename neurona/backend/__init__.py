"""Array backend: which array module (NumPy or CuPy), device moves, dtypes, seeded RNG, session state.

Importing it changes nothing outside Neurona; the one process-wide setting it
owns, glibc's allocator thresholds (``allocator.tune``), is applied by
``Model.fit`` or by an explicit call, never on import.
"""

from . import allocator
from .device import asnumpy, device_of, get_device, get_xp, set_device, to_device, xp_of
from .dtypes import floatx, is_floating, set_floatx
from .random import get_generator, make_generator, seed
from .session import (
    backend,
    clear_session,
    disable_interactive_logging,
    enable_interactive_logging,
    epsilon,
    image_data_format,
    is_interactive_logging_enabled,
    set_epsilon,
    set_image_data_format,
)

__all__ = [
    "allocator", "asnumpy", "device_of", "get_device", "get_xp", "set_device", "to_device", "xp_of",
    "floatx", "is_floating", "set_floatx", "get_generator", "make_generator", "seed",
    "backend", "clear_session", "disable_interactive_logging", "enable_interactive_logging", "epsilon",
    "image_data_format", "is_interactive_logging_enabled", "set_epsilon", "set_image_data_format",
]
