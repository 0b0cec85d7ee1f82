"""Matrix products: ``a @ b`` with the backend's BLAS policy.

A 2-D NumPy product of at least ``SPLIT_MACS`` multiply-adds is split into row blocks of the output, one
per thread of ``backend.parallel``, each a single-threaded BLAS product into its rows of one output array;
smaller ones run as one single-threaded product (see ``backend/parallel.py`` for why Neurona keeps BLAS on
one thread). A row of ``a @ b`` is computed the same way whichever block it falls in, so the result does not
depend on the number of threads (tests/ops/test_linalg.py checks it bit for bit). Stacked (> 2-D) products
and CuPy arrays go to the array module's ``matmul`` as they are.
"""

from .. import parallel
from ..device import xp_of

__all__ = ["matmul", "SPLIT_MACS"]

# Splitting pays from about 0.1 ms of product on one core (the pool's hand-off costs ~20-30 us): the MNIST
# MLP's (128, 784) @ (784, 128) forward product, 12.8 M multiply-adds, is split; its (128, 128) @ (128, 10) is not.
SPLIT_MACS = 1 << 22


def matmul(a, b):
    """``a @ b`` (NumPy's matmul semantics, any rank >= 2); 2-D NumPy products on every core."""
    if a.ndim != 2 or b.ndim != 2:
        return a @ b
    xp = xp_of(a, b)
    m, n = a.shape[0], b.shape[1]
    out = xp.empty((m, n), dtype=xp.result_type(a, b))
    parallel.map_chunks(m, lambda rows: xp.matmul(a[rows], b, out=out[rows]), a, blas_work=True,
                        size=m * n * a.shape[1], min_size=SPLIT_MACS)
    return out
