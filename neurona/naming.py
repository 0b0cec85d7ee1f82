"""Default names of layers and models: ``"dense"``, ``"dense_1"``, ``"dense_2"`` ... as Keras names them.

The counters live here, below every other module, so that ``backend.clear_session()`` can reset them
without importing the layers above it.
"""

import itertools
from collections import defaultdict

_name_counters = defaultdict(itertools.count)


def unique_name(prefix):
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2`` ... (one counter per prefix)."""
    n = next(_name_counters[prefix])
    return prefix if n == 0 else f"{prefix}_{n}"


def reset_names():
    """Forget every counter: the next layer of each kind gets its bare name again (``clear_session``)."""
    _name_counters.clear()
