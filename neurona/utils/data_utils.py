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
    """
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, ord=order, axis=axis, keepdims=True))
    norm[norm == 0] = 1
    return x / norm


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
