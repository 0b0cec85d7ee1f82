"""Index-level data splits: train/validation/test and k folds, optionally stratified by class.

Stratified splits work class by class: with ``n_c`` samples of class ``c``,
the test set gets ``round(test * n_c)`` of them and the validation set
``round((test + val) * n_c) - round(test * n_c)``, so every class keeps its
share in each set to within half a sample (test) or one sample (validation).
Stratified folds deal the samples out round-robin, class after class, so each
fold holds ``floor(n_c / k)`` or ``ceil(n_c / k)`` samples of every class and
fold sizes differ by at most one.
"""

import math

import numpy

from .. import backend
from ..arguments import check_int, is_real
from ..autograd import Tensor


def _as_array(data, what):
    if data is None:
        raise ValueError(f"{what} is required")
    if isinstance(data, Tensor):
        return data.data
    return data if hasattr(data, "shape") else numpy.asarray(data)


def class_labels(y):
    """One class id per sample, ``0 .. K-1``, from labels ``(n,)``/``(n, 1)`` or one-hot rows ``(n, C)``."""
    y = backend.asnumpy(_as_array(y, "y"))
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    elif y.ndim == 2 or y.ndim == 1:
        y = y.reshape(-1)
    else:
        raise ValueError(f"stratify needs class labels of shape (n,) or (n, 1), or one-hot rows (n, C); got y of "
                         f"shape {y.shape}")
    return numpy.unique(y, return_inverse=True)[1].reshape(-1)


def _round(x):
    return math.floor(x + 0.5)  # half up, not Python's half-to-even, so the rule is easy to state


def _class_members(labels, rng):
    """The indices of each class in ascending class order, each shuffled when ``rng`` is given."""
    members = [numpy.flatnonzero(labels == c) for c in numpy.unique(labels)]
    return [rng.permutation(m) for m in members] if rng is not None else members


def _fraction(name, value):
    if not is_real(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value!r}")
    return float(value)


def split_indices(n, val=0.1, test=0.1, shuffle=True, seed=None, labels=None):
    """``(train, val, test)`` index arrays partitioning ``range(n)``.

    Without ``labels`` the test and validation sets get ``ceil(test * n)`` and
    ``ceil(val * n)`` samples (so at least one for a positive fraction) and the
    training set the rest; with ``labels`` the sizes are set per class (see the
    module docstring). Without shuffling, train, validation and test are the
    first, middle and last samples (``fit``'s ``validation_split`` also holds out
    the last ones) and every set is sorted; with shuffling each is in random order.

    Args:
        n: the number of samples.
        val, test: fractions in [0, 1) of the samples to hold out.
        shuffle: draw the sets at random (else cut in order).
        seed: None, an int or a numpy Generator for the shuffle.
        labels: class ids to stratify by (each set keeps every class's share), or None.
    """
    n = check_int(n, None, "n", low=1)
    val, test = _fraction("val", val), _fraction("test", test)
    rng = backend.make_generator(seed) if shuffle else None
    if labels is None:
        n_test, n_val = math.ceil(test * n), math.ceil(val * n)
        if n_test + n_val >= n:
            raise ValueError(f"val={val} and test={test} of {n} samples hold out {n_val} + {n_test}, leaving no "
                             "training samples")
        order = rng.permutation(n) if rng is not None else numpy.arange(n)
        parts = order[:n - n_val - n_test], order[n - n_val - n_test:n - n_test], order[n - n_test:]
    else:
        labels = numpy.asarray(labels).reshape(-1)
        if len(labels) != n:
            raise ValueError(f"labels has {len(labels)} entries for n={n} samples")
        pieces = []
        for m in _class_members(labels, rng):
            n_test, n_held = _round(test * len(m)), _round((test + val) * len(m))
            pieces.append((m[n_held:], m[n_test:n_held], m[:n_test]))
        parts = [numpy.concatenate(p) for p in zip(*pieces)]
        parts = [rng.permutation(p) if rng is not None else numpy.sort(p) for p in parts]
    for name, fraction, part in (("training", 1.0, parts[0]), ("validation", val, parts[1]), ("test", test, parts[2])):
        if fraction > 0 and len(part) == 0:
            raise ValueError(f"val={val} and test={test} of {n} samples leave the {name} set empty")
    return tuple(parts)


def train_val_test_split(x, y, val=0.1, test=0.1, shuffle=True, seed=None, stratify=False):
    """Split ``(x, y)`` into training, validation and test sets.

    Example:
        >>> (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = train_val_test_split(x, y, val=0.1, test=0.2, seed=0)

    Args:
        x: inputs, an array with the samples on the first axis.
        y: targets (labels or one-hot rows), as many as ``x``.
        val, test: fractions in [0, 1) held out (``ceil(fraction * n)`` samples each,
            or per class with ``stratify``; see ``split_indices``).
        shuffle: draw the sets at random; else train, validation and test are
            consecutive blocks in that order.
        seed: None, an int or a numpy Generator.
        stratify: keep each class's share of ``y`` in every set (to within one sample;
            ``y`` holds labels or one-hot rows).

    Returns:
        ``((x_train, y_train), (x_val, y_val), (x_test, y_test))``; a set with a
        fraction of 0 is empty.
    """
    x, y = _as_array(x, "x"), _as_array(y, "y")
    if x.ndim == 0 or len(x) != len(y):
        raise ValueError(f"x and y must have the same number of samples, got {len(x)} and {len(y)}")
    labels = class_labels(y) if stratify else None
    parts = split_indices(len(x), val, test, shuffle, seed, labels)
    return tuple((x[_to(x, idx)], y[_to(y, idx)]) for idx in parts)


def _to(array, idx):
    """Indices on ``array``'s device (CuPy arrays are indexed with CuPy indices)."""
    return backend.to_device(idx, backend.device_of(array))


def kfold_indices(n, k=5, shuffle=True, seed=None, labels=None):
    """``k`` pairs ``(train_idx, test_idx)`` whose test parts partition ``range(n)``.

    Without ``labels`` the (shuffled) samples are cut into ``k`` consecutive
    folds, the first ``n % k`` one sample larger. With ``labels`` the samples,
    grouped by class (shuffled within each), are dealt out round-robin, so
    every fold holds ``floor(n_c / k)`` or ``ceil(n_c / k)`` samples of each
    class ``c``. In both cases fold sizes differ by at most one. Index arrays
    are sorted.

    Args:
        n: the number of samples.
        k: the number of folds, 2 <= k <= n.
        shuffle: assign samples to folds at random (else in order).
        seed: None, an int or a numpy Generator.
        labels: class ids to stratify by, or None.
    """
    n, k = check_int(n, None, "n", low=1), check_int(k, None, "k", low=2)
    if k > n:
        raise ValueError(f"k={k} folds need at least {k} samples, got {n}")
    rng = backend.make_generator(seed) if shuffle else None
    if labels is None:
        order = rng.permutation(n) if rng is not None else numpy.arange(n)
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        folds = numpy.split(order, numpy.cumsum(sizes)[:-1])
    else:
        labels = numpy.asarray(labels).reshape(-1)
        if len(labels) != n:
            raise ValueError(f"labels has {len(labels)} entries for n={n} samples")
        # dealing the class-sorted samples round-robin gives each fold floor or ceil of n_c / k of class c
        order = numpy.concatenate(_class_members(labels, rng))
        folds = [order[i::k] for i in range(k)]
        if rng is not None:  # which fold gets the extra samples should not depend on the fold number
            folds = [folds[i] for i in rng.permutation(k)]
    pairs = []
    for i, fold in enumerate(folds):
        train = numpy.concatenate([f for j, f in enumerate(folds) if j != i])
        pairs.append((numpy.sort(train), numpy.sort(fold)))
    return pairs
