"""The compiled (numba) kernels, one module per family, imported only by ``kernels.select`` when numba is there.

Every function is compiled with ``nogil=True`` so that the threads of ``backend.parallel`` run them side by side,
and not ``parallel=True``: the backend's thread pool is the one owner of the cores, and a numba thread pool
inside it would oversubscribe them. ``cache=True`` keeps the machine code in numba's cache (``__pycache__``
beside this package when it is writable, else numba's per-user cache; ``NUMBA_CACHE_DIR`` moves it), so only
the first process on a machine pays the compilation. ``fastmath`` stays off: the compiled kernels do the same
floating-point operations in the same order as the NumPy references wherever the tests compare them exactly.
"""

import functools

import numba

# error_model="numpy": a float division by zero gives inf/NaN as in NumPy; numba's default ("python") raises, and
# its per-iteration check keeps LLVM from vectorizing loops that divide (measured 6x on the Adam update)
jit = functools.partial(numba.njit, nogil=True, cache=True, error_model="numpy")
