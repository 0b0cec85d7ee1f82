"""Kernels: the few hot, fused loops the ops need, in one place.

Ops state the math and call these by name (``kernels.im2col(...)``, ``kernels.relu_grad(...)``); how a loop is
fused, split over threads or compiled is decided here and in ``backend.parallel``, never in an op, a layer, a
model or an optimizer. Each kernel has a reference implementation written with the array module of its inputs
(NumPy, or CuPy on the GPU), which is what the tests compare the compiled one against, and, where a measurement
showed it pays, a compiled one (numba, ``kernels.compiled``) for NumPy arrays. ``NEURONA_KERNELS`` chooses:
``auto`` (default: numba when installed), ``numba`` or ``numpy`` (see ``kernels.select``).

Families: ``activation`` (ReLU, its gradient mask, bias + activation epilogues), ``conv`` (im2col, col2im and
the convolution products), ``linalg`` (matrix products), ``normalization`` (batch-statistics reductions),
``optimizers`` (the update rules), ``pooling`` (windows with their argmax mask), ``recurrent`` (LSTM and
GRU gates of one time step).
"""

from . import select
from .activation import *  # noqa: F403  (each family lists its kernels in __all__)
from .conv import *  # noqa: F403
from .linalg import *  # noqa: F403
from .normalization import *  # noqa: F403
from .optimizers import *  # noqa: F403
from .pooling import *  # noqa: F403
from .recurrent import *  # noqa: F403
from .select import implementation, numba_available

__all__ = ["select", "implementation", "numba_available"]
