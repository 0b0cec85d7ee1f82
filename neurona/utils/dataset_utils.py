"""``split_dataset``: arrays cut into a left and a right part (train / test), as ``keras.utils``'s, in NumPy.

Keras returns ``tf.data`` or PyTorch datasets; Neurona trains on arrays, so this one
takes NumPy arrays (or a tuple, list or dict of them) and returns the same structure
twice. No ``tf.data`` and no PyTorch are involved.
"""

import numpy as np

from .. import backend
from ..arguments import check_bool, is_int, is_real, shown
from ..autograd import Tensor


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split the samples (the first axis) of ``dataset`` into a left part and a right part.

    With N samples, a float size ``f`` means ``round(f * N)`` samples and an int
    means that many; a size left None is what the other leaves (``N - other``).
    The left part is the first ``left_size`` samples (after shuffling, if asked)
    and the right part the last ``right_size``, so when both sizes are given and
    add up to less than N the samples between them are left out, as in Keras::

        x_train, x_test = split_dataset(x, left_size=0.8)
        (x_train, y_train), (x_test, y_test) = split_dataset((x, y), right_size=100, shuffle=True, seed=0)

    Args:
        dataset: a NumPy array (or Tensor), or a tuple, list or dict of arrays with the same
            first dimension N >= 2 (e.g. ``(x, y)``).
        left_size, right_size: a float in (0, 1), an int in [1, N - 1], or None; at least one given.
        shuffle: permute the samples (the same way in every array) before cutting.
        seed: None (Neurona's library-wide generator, set by ``nr.seed``) or a non-negative
            int, for the permutation.

    Returns:
        ``(left, right)``, each with ``dataset``'s structure (a list comes back as a tuple),
        holding new NumPy arrays.

    Raises:
        TypeError: ``dataset`` is none of the structures above; a size is neither int,
            float nor None; ``shuffle`` is not a bool.
        ValueError: both sizes are None; a size is out of range; the sizes add up to more
            than N, or leave one side empty; the arrays have different lengths; ``seed`` is invalid.
    """
    arrays, rebuild = _flatten(dataset)
    shuffle = check_bool(shuffle, "split_dataset", "shuffle")
    total = len(arrays[0])
    left, right = _split_sizes(left_size, right_size, total)
    order = backend.make_generator(_check_seed(seed)).permutation(total) if shuffle else np.arange(total)
    left_index, right_index = order[:left], order[total - right:]
    return (rebuild([a[left_index] for a in arrays]), rebuild([a[right_index] for a in arrays]))


def _check_seed(seed):
    if seed is not None and not (is_int(seed) and seed >= 0):
        raise ValueError(f"split_dataset: seed must be None or a non-negative integer, got {shown(seed)}")
    return seed


def _as_array(value, where):
    array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    if array.ndim == 0:
        raise ValueError(f"split_dataset: {where} must be an array of samples (at least one axis), got a scalar "
                         f"{shown(value)}")
    return array


def _flatten(dataset):
    """The arrays of ``dataset`` and a function that rebuilds its structure from a list of arrays."""
    if isinstance(dataset, (np.ndarray, Tensor)):
        arrays, rebuild = [_as_array(dataset, "dataset")], lambda parts: parts[0]
    elif isinstance(dataset, (tuple, list)) and dataset:
        arrays, rebuild = [_as_array(a, f"dataset[{i}]") for i, a in enumerate(dataset)], tuple
    elif isinstance(dataset, dict) and dataset:
        keys = list(dataset)
        arrays = [_as_array(dataset[k], f"dataset[{k!r}]") for k in keys]
        rebuild = lambda parts: dict(zip(keys, parts))
    else:
        raise TypeError("split_dataset: dataset must be a NumPy array, or a non-empty tuple, list or dict of "
                        f"arrays, got {type(dataset).__name__}" + (" (empty)" if hasattr(dataset, "__len__") else ""))
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"split_dataset: the arrays of dataset must have the same number of samples (first "
                         f"dimension), got lengths {lengths}")
    return arrays, rebuild


def _split_sizes(left_size, right_size, total):
    """``(left, right)`` sample counts from Keras's size arguments, checked against ``total``."""
    if left_size is None and right_size is None:
        raise ValueError("split_dataset: give left_size or right_size (or both), got None for both")
    counts = {}
    for size, name in ((left_size, "left_size"), (right_size, "right_size")):
        if size is None:
            continue
        if is_int(size):
            if not 0 < size < total:
                raise ValueError(f"split_dataset: {name} as a count must be in [1, {total - 1}] for a dataset of "
                                 f"{total} samples, got {size}")
            counts[name] = int(size)
        elif is_real(size):
            if not 0 < size < 1:
                raise ValueError(f"split_dataset: {name} as a fraction must be in (0, 1), got {size}")
            counts[name] = round(float(size) * total)
        else:
            raise TypeError(f"split_dataset: {name} must be an int, a float or None, got {shown(size)}")
    if is_real(left_size) and is_real(right_size) and not is_int(left_size) and not is_int(right_size) \
            and left_size + right_size > 1:
        raise ValueError(f"split_dataset: the fractions left_size + right_size = {left_size + right_size} exceed 1")
    left = counts.get("left_size", total - counts.get("right_size", 0))
    right = counts.get("right_size", total - left)
    if left + right > total:
        raise ValueError(f"split_dataset: left_size and right_size give {left} + {right} samples, more than the "
                         f"dataset's {total}")
    if left == 0 or right == 0:
        side = "left" if left == 0 else "right"
        raise ValueError(f"split_dataset: with {total} samples, left_size={left_size!r} and right_size="
                         f"{right_size!r} leave the {side} part empty")
    return left, right
