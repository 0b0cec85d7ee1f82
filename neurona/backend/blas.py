"""How many threads NumPy's BLAS uses, so that our own threads can take the cores instead.

A convolution over a batch is many independent pieces (one per group of
images). Run as one large product, OpenBLAS splits each product over the cores
but the im2col copies and the gradient scatter around it stay on one core and
stream tens of megabytes through memory. Run piece by piece, one piece per
core with single-threaded BLAS, every step of a piece works on data that is
still in that core's cache, and all the work, not only the products, runs on
every core (measured on the MNIST CNN's second convolution in
``benchmarks/mnist_cnn.py``).

OpenBLAS keeps one process-wide thread count, so ``single_threaded()`` lowers
it for the duration of a region and restores it afterwards (nested and
concurrent regions are counted, and the last one out restores). Every product
Neurona computes runs inside such a region (``backend.parallel``): after a
multi-threaded product, OpenBLAS's idle threads keep spinning on the cores for
a while, and a parallel region starting then ran 30 ms slower (a (128, 9216) x
(9216, 128) product before the MNIST CNN's second-layer backward pass: 72 ms
against 42); large products are split among Neurona's threads instead
(``kernels.matmul``). The
library is the one NumPy loaded: the ``scipy_openblas`` build that NumPy's
wheels bundle, or a system OpenBLAS. With any other BLAS (MKL, Accelerate) or
none found, ``available()`` is False and callers keep BLAS's own threading.
"""

import ctypes
import glob
import os
import threading

import numpy

# (setter, getter) symbol pairs, as exported by NumPy's bundled OpenBLAS and by a plain OpenBLAS
_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)

# the CBLAS products of NumPy's bundled OpenBLAS, by dtype: 64-bit integer arguments (ILP64, the "64_" suffix),
# which is what kernels.compiled.gemm calls; a library without them is used through NumPy only
_GEMM_SYMBOLS = {"float32": "scipy_cblas_sgemm64_", "float64": "scipy_cblas_dgemm64_"}

_lock = threading.Lock()
_state = {"loaded": False, "set": None, "get": None, "depth": 0, "saved": None, "gemm": {}, "core": None}


def _candidate_libraries():
    """Paths of OpenBLAS libraries NumPy may have loaded: its wheel's bundled copy, then the process's maps."""
    root = os.path.dirname(numpy.__file__)
    paths = glob.glob(os.path.join(root + ".libs", "*openblas*")) + glob.glob(os.path.join(root, ".dylibs",
                                                                                          "*openblas*"))
    try:
        with open("/proc/self/maps") as maps:  # Linux: whatever OpenBLAS is mapped into this process
            paths += sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        pass
    return paths


def _load():
    if _state["loaded"]:
        return
    _state["loaded"] = True
    if os.environ.get("NEURONA_BLAS_CONTROL", "1") == "0":
        return
    for path in _candidate_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SYMBOLS:
            setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                _state["set"], _state["get"] = setter, getter
                _state["gemm"] = {numpy.dtype(dtype): ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
                                  for dtype, name in _GEMM_SYMBOLS.items() if hasattr(lib, name)}
                corename = getattr(lib, set_name.replace("set_num_threads", "get_corename"), None)
                if corename is not None:
                    corename.restype = ctypes.c_char_p
                    _state["core"] = corename().decode(errors="replace")
                return


def available():
    """Whether NumPy's BLAS thread count can be changed (OpenBLAS found; ``NEURONA_BLAS_CONTROL=0`` says no)."""
    if not _state["loaded"]:
        with _lock:
            _load()
    return _state["set"] is not None


def gemm_address(dtype):
    """The address of the ILP64 CBLAS ``?gemm`` of the OpenBLAS NumPy uses, for ``dtype`` (float32 or float64),
    or None: not that library, thread control switched off (``NEURONA_BLAS_CONTROL=0``), or another dtype.

    Calling it from compiled code lets a thread run a product without taking the GIL (``kernels.compiled.gemm``).
    """
    if not available():
        return None
    return _state["gemm"].get(dtype if isinstance(dtype, numpy.dtype) else numpy.dtype(dtype))


def core_name():
    """The CPU kernels OpenBLAS chose at load time (``"Haswell"``, ``"SkylakeX"``, ``"Zen"``, ...), or None.

    OpenBLAS picks them from the CPU once, when NumPy loads it, unless ``OPENBLAS_CORETYPE`` names them: on an
    AMD Zen 5 0.3.31 picks its AVX-512 (SkylakeX) kernels, and ``OPENBLAS_CORETYPE=Haswell`` (set on some
    machines for older OpenBLAS builds) holds it to AVX2 ones, about half as fast on the MNIST CNN's products.
    """
    with _lock:
        _load()
        return _state["core"]


def num_threads():
    """BLAS's current thread count, or None when it cannot be read."""
    with _lock:
        _load()
        return _state["get"]() if _state["get"] is not None else None


class _SingleThreaded:
    """The region of ``single_threaded()``: a plain class, not a generator, since it is entered around every
    product (about 1 us against 4 us for a ``contextlib.contextmanager``)."""

    __slots__ = ()

    def __enter__(self):
        if not available():
            return self
        with _lock:
            if _state["depth"] == 0:
                _state["saved"] = _state["get"]()
                if _state["saved"] != 1:
                    _state["set"](1)
            _state["depth"] += 1
        return self

    def __exit__(self, *exc):
        if _state["set"] is None:
            return False
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["saved"] != 1:
                _state["set"](_state["saved"])
        return False


_REGION = _SingleThreaded()


def single_threaded():
    """A context manager running its body with BLAS on one thread (a no-op when ``available()`` is False).

    Nested and concurrent regions are counted: the last one out restores the thread count found by the first."""
    return _REGION
