"""Matrix products: ``a @ b`` with the backend's BLAS policy.

A 2-D NumPy product of at least ``SPLIT_MACS`` multiply-adds is computed in row pieces fixed by its number of
rows (``row_pieces``), each one single-threaded BLAS call into its rows of one output array, and the pieces are
shared out over the threads of ``backend.parallel``. The pieces do not depend on the number of threads, so
neither does the result: a row's bits can depend on the call that computes it (with OpenBLAS's Haswell kernels,
which it runs on an AMD Zen 5, rows 64-127 of a (128, 784) @ (784, 128) product computed in one call or in two
calls of 64 rows differ in the last bit), and each piece is the same call on one thread or on several
(tests/ops/test_linalg.py checks it bit for bit). With the compiled kernels the pieces run through
``kernels.compiled.gemm``, without the GIL on the pool's threads; otherwise through NumPy. Smaller products run
as one single-threaded product (see ``backend/parallel.py`` for why Neurona keeps BLAS on one thread). Stacked
(> 2-D) products and CuPy arrays go to the array module's ``matmul`` as they are.

Products of 16-bit floats (float16, bfloat16: mixed precision) are computed as a tensor core computes them:
each product of two 16-bit significands is exact in float32 (11 or 8 bits squared fit float32's 24), the
sums are accumulated in float32 and the result is rounded once to the 16-bit dtype. NumPy has no float16
BLAS (its float16 ``@`` is a loop about 200 times slower than float32's) and ml_dtypes's bfloat16 ``@``
returns float32, so ``matmul`` and ``einsum`` widen the operands, multiply in float32 and round
(``widening.widened``, the same for every kernel).
"""

import numpy

from .. import blas, parallel
from ..device import xp_of
from . import select
from .widening import widened

__all__ = ["matmul", "einsum", "row_pieces", "SPLIT_MACS"]

# Splitting pays from about 0.1 ms of product on one core: the MNIST MLP's (128, 784) @ (784, 128) forward
# product, 12.8 M multiply-adds, is split; its (128, 128) @ (128, 10) is not.
SPLIT_MACS = 1 << 22
# a split product has the largest of these numbers of pieces that leaves each piece at least its number of rows:
# pieces tall enough that each call's packing of the right-hand operand (repeated per call) stays small beside
# its arithmetic (one thread: (128, 784) @ (784, 128) in 2 pieces 225 us, in 4 242 us, in one call 218 us)
PIECE_ROWS = {4: 48, 2: 32}
MIN_PIECE_ROWS = min(PIECE_ROWS.values())


def row_pieces(rows):
    """How many row pieces a split product of ``rows`` rows is computed in (1: too few rows to split)."""
    return next((p for p, least in PIECE_ROWS.items() if rows // p >= least), 1)


@widened
def matmul(a, b):
    """``a @ b`` (NumPy's matmul semantics, any rank >= 2); 2-D NumPy products on every core."""
    if a.ndim != 2 or b.ndim != 2:
        return a @ b
    xp = xp_of(a, b)
    (m, k), n = a.shape, b.shape[1]
    if b.shape[0] != k:
        return a @ b  # NumPy's ValueError, which names both shapes
    out = xp.empty((m, n), dtype=xp.result_type(a, b))
    macs = m * n * k
    pieces = row_pieces(m) if macs >= SPLIT_MACS and isinstance(a, numpy.ndarray) else 1
    sync = select.compiled("sync", a, b, out) if pieces > 1 else None
    if sync is not None:
        descriptor = sync.gemm.describe(a, b, out, pieces, blas.gemm_address(out.dtype))
        if descriptor is not None:
            parallel.run_compiled_product(sync, descriptor, (a, b, out))
            return out
    bounds = [m * j // pieces for j in range(pieces + 1)]

    def multiply(share):
        for j in range(share.start, share.stop):
            rows = slice(bounds[j], bounds[j + 1])
            xp.matmul(a[rows], b, out=out[rows])

    parallel.map_chunks(pieces, multiply, a, blas_work=True, size=macs, min_size=SPLIT_MACS)
    return out


@widened
def einsum(spec, *arrays):
    """``xp.einsum(spec, *arrays)``, contraction order optimized for several operands."""
    return xp_of(*arrays).einsum(spec, *arrays, optimize=len(arrays) > 1)
