"""The one place that imports CuPy.

CuPy is optional: on a machine without it (or without a GPU) ``available`` is
False and everything runs on NumPy. No other module may ``import cupy``.
"""

try:  # pragma: no cover - depends on the machine
    import cupy  # noqa: F401

    try:
        available = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CuPy installed but no usable GPU / driver
        available = False
except Exception:  # ImportError, or a broken CUDA install
    cupy = None
    available = False

ndarray = cupy.ndarray if available else None
