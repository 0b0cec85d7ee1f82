"""CPU-side preparation of image data: scaling, standardization, flattening.

These run once on NumPy arrays before training, so they use NumPy directly;
the model moves batches to the device itself.
"""

from typing import NamedTuple

import numpy as np


class StandardizeStats(NamedTuple):
    """Statistics fitted by :func:`standardize`; pass them back to apply the same transform."""

    mean: np.ndarray
    std: np.ndarray


def scale_pixels(x, dtype="float32"):
    """Map 8-bit grey levels to [0, 1]: ``x / 255``.

    Args:
        x: array-like of pixel values in 0..255 (any shape, usually uint8).
        dtype: floating output dtype.

    Returns:
        Array of the same shape with values in [0, 1].
    """
    dtype = _floating_dtype(dtype, "scale_pixels")
    return np.asarray(x, dtype=dtype) / dtype.type(255)


def standardize(x, mean=None, std=None, axis=None, dtype="float32"):
    """Standardize ``x`` to zero mean and unit variance: ``z = (x - mean) / std``.

    Fit on the training set, then apply the same statistics to the test set so that
    no test information leaks into the transform::

        x_train_z, stats = standardize(x_train)
        x_test_z, _ = standardize(x_test, *stats)

    Args:
        x: array-like of shape ``(N, ...)``.
        mean, std: statistics to apply; both None to fit them on ``x``.
        axis: axes reduced when fitting. None (default) gives one scalar mean and std
            over all values (the usual choice for pixels: MNIST's are 0.1307 and 0.3081
            after scaling to [0, 1]); 0 gives per-feature statistics of shape ``x.shape[1:]``;
            e.g. (0, 1, 2) on ``(N, H, W, C)`` images gives per-channel ones of shape ``(1, 1, C)``.
            Reduced axes keep size 1, except the sample axis, which is dropped.
        dtype: floating output dtype.

    Returns:
        ``(z, StandardizeStats(mean, std))``. ``std`` is the population standard deviation
        (divisor N); entries where it is 0 (constant features such as MNIST's border pixels
        with ``axis=0``) are replaced by 1, so those features map to 0 instead of NaN.

    Raises:
        ValueError: only one of ``mean``/``std`` was given, or their shapes do not
            broadcast against ``x``, or statistics are to be fitted on an empty ``x``.
        TypeError: ``x`` is not numeric.
    """
    if (mean is None) != (std is None):
        raise ValueError("pass both mean and std to apply fitted statistics, or neither to fit them; "
                         f"got mean={'None' if mean is None else 'given'}, std={'None' if std is None else 'given'}")
    dtype = _floating_dtype(dtype, "standardize")
    x64 = _as_float64(x, "standardize")  # float64 accumulation: float32 sums over 47M pixels drift
    if mean is None:
        if x64.size == 0:  # the mean and std of nothing are NaN, and would poison every later transform
            raise ValueError(f"standardize cannot fit statistics on empty data (x of shape {x64.shape}); "
                             "pass at least one sample, or give mean and std to apply")
        mean, std = _fit(x64, _check_axes(axis, x64.ndim))
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    _check_broadcast(x64.shape, mean.shape, std.shape)
    z = ((x64 - mean) / std).astype(dtype)
    return z, StandardizeStats(mean, std)


def flatten_images(x):
    """Flatten each sample to a vector: ``(N, H, W[, C]) -> (N, H * W [* C])``.

    Args:
        x: array-like with at least 2 dimensions, samples along axis 0.

    Returns:
        Array of shape ``(N, prod(x.shape[1:]))`` (a view when ``x`` is contiguous).
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"flatten_images expects samples along axis 0 and at least 2 dimensions, got shape {x.shape}")
    return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))  # not -1: that fails when N = 0


def _floating_dtype(dtype, owner):
    """``dtype`` as a floating NumPy dtype, or a TypeError naming ``owner`` and what was received."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{owner} needs a floating dtype (e.g. 'float32'), got {dtype!r}") from None
    if resolved.kind != "f":
        raise TypeError(f"{owner} needs a floating dtype, got {resolved}")
    return resolved


def _check_axes(axis, ndim):
    """``axis`` (None, an int or a tuple/list of ints) checked against an ``ndim``-D input, as ints."""
    if axis is None:
        return None
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis) if isinstance(axis, (list, tuple)) else None
    if axes is None or not axes or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                                           for a in axes):
        raise TypeError(f"standardize axis must be None, an int or a tuple of ints, got {axis!r}")
    if any(not -ndim <= a < ndim for a in axes) or len({int(a) % ndim for a in axes}) != len(axes):
        raise ValueError(f"standardize axis {axis!r} is out of range or repeated for x with {ndim} dimensions "
                         f"(expected distinct axes in [{-ndim}, {ndim - 1}])")
    return int(axes[0]) if np.ndim(axis) == 0 else tuple(int(a) for a in axes)  # NumPy takes no list of axes


def _as_float64(x, owner):
    """``x`` as a float64 array, refusing strings and objects with an error naming ``owner``."""
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{owner} needs numeric data, got an array of dtype {array.dtype} and shape {array.shape}")
    return array.astype(np.float64, copy=False)


def _fit(x64, axis):
    """Mean and std over ``axis``; reduced axes keep size 1 except the sample axis 0, which is dropped."""
    if axis is None:
        mean, std = x64.mean(), x64.std()
    else:
        mean, std = x64.mean(axis=axis, keepdims=True), x64.std(axis=axis, keepdims=True)
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        if 0 in {int(a) % x64.ndim for a in axes}:
            mean, std = mean[0], std[0]
    return mean, np.where(std == 0, 1.0, std)


def _check_broadcast(x_shape, mean_shape, std_shape):
    feature_shape = x_shape[1:]
    for name, shape in (("mean", mean_shape), ("std", std_shape)):
        try:
            compatible = np.broadcast_shapes(shape, x_shape) == tuple(x_shape)
        except ValueError:
            compatible = False
        if not compatible:
            raise ValueError(f"{name} of shape {shape} does not broadcast against x of shape {x_shape}; "
                             f"expected a scalar or per-feature shape {feature_shape}")
