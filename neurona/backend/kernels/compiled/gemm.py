"""Matrix products called from compiled code: row pieces of ``a @ b`` through OpenBLAS's CBLAS ``?gemm``.

A thread of ``backend.parallel`` that runs a product through NumPy needs the GIL before and after it; on the
project's two-core machine handing the GIL over cost ~60 us per split (128, 784) @ (784, 128) product (176 us
against the 108 us of each half, OpenBLAS's Haswell kernels, one run). Called from compiled code the product needs
no GIL at all: ``run`` takes a *descriptor* (an int64 array: the function's address from ``blas.gemm_address``, the
layout of ``a``, ``b`` and ``out`` as raw pointers and strides, and a range of row pieces) and calls ``?gemm`` once
per piece, so a pool thread can run its share without returning to Python (``compiled.sync.serve``).

The function is called through its address (no symbol linked by name), so the machine code stays cacheable
and nothing fails to link where NumPy ships another BLAS: there ``blas.gemm_address`` is None and
``kernels.linalg`` multiplies the same pieces through NumPy.
"""

import numpy
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from . import jit

# descriptor fields (int64 each)
FUNCTION, DTYPE, TRANS_A, TRANS_B, ROWS, COLS, DEPTH = range(7)
A_POINTER, A_ROW_BYTES, LDA, B_POINTER, LDB, OUT_POINTER, OUT_ROW_BYTES, LDC, PIECES, FIRST, STOP = range(7, 18)
SIZE = 18

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # CBLAS's enum values
FLOAT32, FLOAT64 = 0, 1
_DTYPES = {numpy.dtype("float32"): FLOAT32, numpy.dtype("float64"): FLOAT64}


def _gemm_codegen(float_type):
    """LLVM for ``?gemm(RowMajor, ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)`` through a function address."""
    def codegen(context, builder, signature, args):
        fn, ta, tb, m, n, k, a, lda, b, ldb, c, ldc = args
        i32, i64, pointer = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, i64, i64, i64, float_type, pointer, i64, pointer,
                                               i64, float_type, pointer, i64])
        target = builder.inttoptr(fn, fnty.as_pointer())
        builder.call(target, [ir.Constant(i32, ROW_MAJOR), builder.trunc(ta, i32), builder.trunc(tb, i32), m, n, k,
                              ir.Constant(float_type, 1.0), builder.inttoptr(a, pointer), lda,
                              builder.inttoptr(b, pointer), ldb, ir.Constant(float_type, 0.0),
                              builder.inttoptr(c, pointer), ldc])
        return context.get_dummy_value()
    return codegen


@intrinsic
def _sgemm(typingctx, fn, ta, tb, m, n, k, a, lda, b, ldb, c, ldc):
    return types.void(*([types.int64] * 12)), _gemm_codegen(ir.FloatType())


@intrinsic
def _dgemm(typingctx, fn, ta, tb, m, n, k, a, lda, b, ldb, c, ldc):
    return types.void(*([types.int64] * 12)), _gemm_codegen(ir.DoubleType())


@jit
def run(d):
    """Row pieces ``FIRST`` to ``STOP`` of the product ``d`` describes; piece ``j`` is rows
    ``ROWS * j // PIECES`` up to ``ROWS * (j + 1) // PIECES``, each one ``?gemm`` call."""
    m, pieces = d[ROWS], d[PIECES]
    for j in range(d[FIRST], d[STOP]):
        start, stop = m * j // pieces, m * (j + 1) // pieces
        if stop == start:
            continue
        a, out = d[A_POINTER] + start * d[A_ROW_BYTES], d[OUT_POINTER] + start * d[OUT_ROW_BYTES]
        if d[DTYPE] == FLOAT32:
            _sgemm(d[FUNCTION], d[TRANS_A], d[TRANS_B], stop - start, d[COLS], d[DEPTH], a, d[LDA], d[B_POINTER],
                   d[LDB], out, d[LDC])
        else:
            _dgemm(d[FUNCTION], d[TRANS_A], d[TRANS_B], stop - start, d[COLS], d[DEPTH], a, d[LDA], d[B_POINTER],
                   d[LDB], out, d[LDC])


def _operand(x, rows, cols):
    """``(transpose flag, leading dimension, bytes from one row to the next)`` of a 2-D operand for row-major
    CBLAS, or None when its strides fit neither layout (then NumPy multiplies it)."""
    item = x.itemsize
    if x.flags.c_contiguous:
        return NO_TRANS, cols, cols * item
    if x.flags.f_contiguous:
        return TRANS, rows, item
    s0, s1 = x.strides
    if s1 == item and s0 > 0 and s0 % item == 0 and s0 // item >= cols:
        return NO_TRANS, s0 // item, s0
    if s0 == item and s1 > 0 and s1 % item == 0 and s1 // item >= rows:
        return TRANS, s1 // item, item
    return None


def describe(a, b, out, pieces, address):
    """The descriptor of ``out = a @ b`` in ``pieces`` row pieces (all of them: ``FIRST``, ``STOP`` = 0,
    ``pieces``), or None when ``run`` cannot compute it (other dtypes, mixed dtypes, shapes that do not fit,
    empty, unaligned or odd strides, an ``out`` that is not a writable C-ordered (m, n) array). ``out`` must
    not overlap ``a`` or ``b`` (``kernels.matmul`` passes a new array)."""
    (m, k), n = a.shape, b.shape[1]
    code = _DTYPES.get(a.dtype)
    if address is None or code is None or min(m, n, k) < 1 or b.shape[0] != k or out.shape != (m, n) or \
            not (a.dtype == b.dtype == out.dtype) or not out.flags.c_contiguous or not out.flags.writeable or \
            not (a.flags.aligned and b.flags.aligned and out.flags.aligned):
        return None
    layout_a, layout_b = _operand(a, m, k), _operand(b, k, n)
    if layout_a is None or layout_b is None:
        return None
    # one list turned into an array: ~3 us, against ~7 us for eighteen item assignments (it runs per product)
    return numpy.array([address, code, layout_a[0], layout_b[0], m, n,
                        k, a.ctypes.data, layout_a[2], layout_a[1], b.ctypes.data, layout_b[1], out.ctypes.data,
                        n * out.itemsize, n, pieces, 0, pieces], numpy.int64)
