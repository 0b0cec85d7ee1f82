"""``set_random_seed``: one call that makes a program's random numbers repeatable, as ``keras.utils``'s does."""

import random

import numpy as np

from .. import backend
from ..arguments import is_int, shown


def set_random_seed(seed):
    """Seed every generator a Keras-style program draws from.

    This is, in one call::

        neurona.seed(seed)          # Neurona's library-wide generator: unseeded initializers,
                                    # dropout, shuffling, neurona.random with seed=None
        random.seed(seed)           # Python's
        numpy.random.seed(seed)     # NumPy's legacy global generator (np.random.rand ...)

    Objects given their own ``seed=`` keep drawing from their own generators.

    Args:
        seed: an integer in ``[0, 2**32)`` (the range NumPy's legacy seed accepts).

    Raises:
        ValueError: ``seed`` is not an integer in that range; nothing is seeded then.
    """
    if not (is_int(seed) and 0 <= seed < 2**32):
        raise ValueError(f"set_random_seed: seed must be an integer in [0, 2**32), got {shown(seed)}")
    seed = int(seed)
    backend.seed(seed)
    random.seed(seed)
    np.random.seed(seed)
