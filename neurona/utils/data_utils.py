"""Label and array helpers for preparing data (``keras.utils`` names), in plain NumPy on the CPU."""

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels.

    ``out[..., c] = 1`` where ``y == c`` and 0 elsewhere. As in Keras, a trailing axis
    of size 1 in ``y`` (labels stored as a column, shape ``(N, 1)``) is dropped.

    Args:
        y: array-like of integer labels in ``[0, num_classes)``, any shape ``S``; floats
            are accepted only if they hold whole numbers.
        num_classes: number of classes C; default ``max(y) + 1``.
        dtype: output dtype.

    Returns:
        Array of shape ``S + (C,)`` (``S`` without a trailing 1) with one 1 per label.

    Raises:
        ValueError: a label is negative, not a whole number, or ``>= num_classes``; or
            ``num_classes`` is not a positive integer, or cannot be inferred from empty ``y``.
        TypeError: ``y`` is not numeric.
    """
    labels = _integer_labels(y)
    shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    flat = labels.reshape(-1)
    num_classes = _num_classes(flat, num_classes)
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit norm along ``axis``: ``x / ||x||_order``.

    Slices whose norm is 0 are left unchanged (divided by 1), as in Keras.

    Args:
        x: array-like.
        axis: axis (or axes) along which the norm is taken.
        order: norm order passed to ``numpy.linalg.norm`` (2 = Euclidean, 1, ``np.inf``, ...).

    Returns:
        Floating array of the shape of ``x``.

    Raises:
        TypeError: ``x`` is not numeric, or ``axis`` is not an int or a tuple of two ints.
        ValueError: ``axis`` is out of range for ``x``, or ``order`` is not a norm order NumPy knows.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"normalize needs numeric data, got an array of dtype {x.dtype} and shape {x.shape}")
    if x.ndim == 0:
        raise ValueError(f"normalize needs an array with at least one axis, got the scalar {x.item()!r}")
    axis = _check_norm_axis(axis, x.ndim)
    try:
        norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    except ValueError:
        # NumPy's "Invalid norm order for vectors" names neither the argument nor the valid values
        raise ValueError(f"normalize: invalid order {order!r} for a norm over {len(axis)} axis/axes; expected a "
                         "number such as 2, 1 or np.inf (or 'fro'/'nuc' over two axes)") from None
    norm = np.atleast_1d(norm)
    norm[norm == 0] = 1
    return x / norm


def _check_norm_axis(axis, ndim):
    """``axis`` (an int or a tuple of one or two ints, as ``numpy.linalg.norm`` takes) as a tuple of ints."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis) if isinstance(axis, (list, tuple)) \
        else None
    if axes is None or not 1 <= len(axes) <= 2 or not all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"normalize axis must be an int or a tuple of two ints, got {axis!r}")
    if any(not -ndim <= a < ndim for a in axes) or len({int(a) % ndim for a in axes}) != len(axes):
        raise ValueError(f"normalize axis {axis!r} is out of range or repeated for x with {ndim} dimensions "
                         f"(expected distinct axes in [{-ndim}, {ndim - 1}])")
    return tuple(int(a) for a in axes)


def _integer_labels(y):
    y = np.asarray(y)
    if y.dtype.kind in "iub":
        return y.astype(np.int64)
    if y.dtype.kind != "f":
        raise TypeError(f"to_categorical expects integer class labels, got an array of dtype {y.dtype}")
    bad = ~np.isfinite(y) | (y != np.floor(y))
    if bad.any():
        raise ValueError(f"to_categorical expects integer class labels, got {y[bad].flat[0].item()!r} "
                         f"at index {_index_of(bad)}")
    return y.astype(np.int64)


def _num_classes(flat, num_classes):
    if flat.size and flat.min() < 0:
        raise ValueError(f"to_categorical expects non-negative class labels, got {int(flat.min())} "
                         f"at flat index {int(flat.argmin())}")
    if num_classes is None:
        if not flat.size:
            raise ValueError("cannot infer num_classes from an empty label array; pass num_classes")
        return int(flat.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if flat.size and flat.max() >= num_classes:
        raise ValueError(f"label {int(flat.max())} at flat index {int(flat.argmax())} is out of range for "
                         f"num_classes={num_classes}; expected labels in [0, {num_classes - 1}]")
    return int(num_classes)


def _index_of(mask):
    return tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()
