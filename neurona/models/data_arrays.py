"""The arrays ``fit``, ``evaluate`` and ``predict`` receive: checked, cast, counted, split and sliced.

Data is one array, or a structure of them for models with several inputs or
outputs: a list or tuple (in the order of ``model.inputs`` / ``model.outputs``)
or a dict keyed by input or output name. Errors name each array by its place,
``x``, ``x[1]``, ``y['cls']``, and say what was expected.

A plain list is read as one array written as nested lists (``x.tolist()``)
unless it holds arrays or the model expects that many inputs (``is_structure``).
"""

import math

import numpy

from .. import backend, nest
from ..arguments import NUMERIC_KINDS, describe_kind, is_int, is_real, shown
from ..autograd import Tensor

# how to turn an array of a non-numeric dtype kind (arguments.NON_NUMERIC_KINDS says what it holds) into numbers
_HINTS = {
    "U": "parse or encode them as numbers",
    "T": "parse or encode them as numbers",
    "S": "parse or encode them as numbers",
    "O": "make it a regular array of numbers (mixed types, ragged rows or None make object arrays), e.g. "
         "{what}.astype('float32')",
    "c": "pass the real and imaginary parts as separate real features",
    "M": "convert them to numbers, e.g. seconds since a reference time",
    "m": "convert them to numbers, e.g. {what} / numpy.timedelta64(1, 's')",
    "V": "select its numeric fields into a float array",
}


def as_array(data, what, caller):
    """``data`` as an array of numbers with a non-empty batch axis, or a ValueError naming ``what``."""
    if data is None:
        raise ValueError(f"{caller}: {what} is required")
    if isinstance(data, Tensor):
        data = data.data
    if not _is_native_array(data):
        data = _foreign_to_numpy(data, what, caller)
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        try:
            data = numpy.asarray(data)
        except (TypeError, ValueError) as error:
            reason = str(error).rstrip(".")
            raise ValueError(f"{caller}: {what} ({type(data).__name__}) cannot be made into an array: {reason}; "
                             "expected an array or nested lists of numbers of one shape") from None
    if data.ndim == 0:
        raise ValueError(f"{caller}: {what} must have a batch axis, got a scalar")
    kind = data.dtype.kind
    # the ops compute in floats: anything else fails deep inside them, or runs silently wrong
    if kind not in NUMERIC_KINDS and not backend.dtypes.is_bfloat16(data.dtype):
        hint = _HINTS.get(kind, "convert it to a float array").format(what=what.split()[-1])
        raise ValueError(f"{caller}: {what} has dtype {data.dtype}, which holds {describe_kind(kind)}; expected a "
                         f"float, integer or bool array: {hint}")
    if len(data) == 0:
        raise ValueError(f"{caller}: {what} is empty (shape {tuple(data.shape)}); expected at least one sample")
    return data


def _is_native_array(data):
    """A NumPy array, or a CuPy array when CuPy is usable: what the ops compute on without conversion."""
    return isinstance(data, numpy.ndarray) or backend.device_of(data) == "cuda"


def _foreign_to_numpy(data, what, caller):
    """Another library's array (a PyTorch or JAX tensor, a pandas frame, ...) as a NumPy array.

    Such arrays have ``shape`` but a ``dtype`` of their own library, and a pandas Series would be indexed by
    its labels when batches are cut: they are read once through NumPy's array protocol (``__array__``).
    A PyTorch tensor that requires grad refuses the protocol, so it is detached first: ``fit`` trains on
    its values, as Keras does. Nested lists and scalars are left to ``numpy.asarray`` below.
    """
    if not (hasattr(data, "__array__") or hasattr(data, "__array_interface__")):
        return data
    if callable(getattr(data, "detach", None)) and callable(getattr(data, "cpu", None)):
        data = data.detach().cpu()  # torch.Tensor: off the autograd graph and the GPU
    try:
        return numpy.asarray(data)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"{caller}: {what} ({type(data).__module__}.{type(data).__name__}) cannot be read as a "
                         f"NumPy array: {str(error).rstrip('.')}; expected an array of numbers") from None


def to_floatx(array):
    """Cast float (and integer/bool input) arrays to the default float once, not at every batch."""
    if (array.dtype.kind in NUMERIC_KINDS or backend.dtypes.is_bfloat16(array.dtype)) and \
            array.dtype != backend.floatx():
        return array.astype(backend.floatx())
    return array


def _float_to_floatx(array):
    """Targets: floats in the default float dtype; integer labels stay integers."""
    if backend.is_floating(array.dtype) and array.dtype != backend.floatx():
        return array.astype(backend.floatx())
    return array


#: How each role's arrays are cast: inputs and weights become floats, float targets the default float.
CASTS = {"x": to_floatx, "y": _float_to_floatx, "sample_weight": to_floatx}


def _all_finite(array):
    """Whether a NumPy or CuPy float array holds no NaN or inf (computed on the array's own device)."""
    return bool(backend.xp_of(array).isfinite(array).all())


def check_finite(array, what, caller):
    """Refuse NaN or infinite values in ``array`` (one reduction over the whole array), naming the first one.

    ``fit`` needs no such check: its first non-finite loss raises ``TrainingError`` before any update. In
    ``evaluate`` and ``predict`` NaN would pass silently into the results.
    """
    if not backend.is_floating(array.dtype) or _all_finite(array):  # integers and bools are always finite
        return
    bad = ~numpy.isfinite(backend.asnumpy(array))  # only on the error path: where, and how many
    first = tuple(int(i) for i in numpy.argwhere(bad)[0])
    raise ValueError(f"{caller}: {what} holds {int(bad.sum())} non-finite value(s) (NaN or inf), the first at "
                     f"{what}[{', '.join(map(str, first))}] = {float(array[first])}; expected finite numbers "
                     "(replace or drop the missing values first)")


def _is_array(value):
    return isinstance(value, Tensor) or (hasattr(value, "shape") and hasattr(value, "dtype")
                                         and getattr(value, "ndim", 0) >= 1)


def is_structure(value, expected=None):
    """Whether ``value`` is a dict, list or tuple of several arrays rather than one array as nested lists.

    Args:
        value: what the caller passed as ``x``, ``y`` or ``sample_weight``.
        expected: how many inputs (or outputs) the model has, when known: a list of that
            many entries is a structure whatever it holds.
    """
    if isinstance(value, dict):
        return True
    if not isinstance(value, (list, tuple)) or not value:
        return False
    if expected is not None and expected > 1 and len(value) == expected:
        return True
    return any(_is_array(item) or isinstance(item, dict) or (isinstance(item, (list, tuple)) and is_structure(item))
               for item in value)


def labeled_leaves(structure, what):
    """``[(label, leaf)]`` in ``nest.flatten`` order: ``x`` alone, or ``x[0]``, ``x['a']``, ``x['a'][1]``."""
    if isinstance(structure, dict):
        return [pair for key in sorted(structure) for pair in labeled_leaves(structure[key], f"{what}[{key!r}]")]
    if isinstance(structure, (list, tuple)):
        return [pair for i, item in enumerate(structure) for pair in labeled_leaves(item, f"{what}[{i}]")]
    return [(what, structure)]


def _map_labeled(fn, structure, what):
    if isinstance(structure, dict):
        return {key: _map_labeled(fn, value, f"{what}[{key!r}]") for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_labeled(fn, item, f"{what}[{i}]") for i, item in enumerate(structure))
    return fn(structure, what)


def prepare(data, what, caller, role, expected=None, finite=False):
    """Checked and cast arrays: one array, or the same structure of arrays.

    Args:
        data: an array (or Tensor, or nested lists), or a list/tuple/dict of them.
        what: its name in errors (``"x"``, ``"validation y"``).
        caller: ``"fit"``, ``"evaluate"`` ...
        role: ``"x"``, ``"y"`` or ``"sample_weight"``: how the arrays are cast (``CASTS``).
        expected: how many inputs or outputs the model has, if known (see ``is_structure``).
        finite: refuse NaN and inf too (``evaluate`` and ``predict``).

    Returns:
        The array or structure; ``None`` entries of a ``y`` or ``sample_weight`` structure stay None
        (an output without a loss needs no target).
    """
    cast = CASTS[role]

    def one(value, label):
        if value is None and role != "x" and label != what:
            return None
        array = cast(as_array(value, label, caller))
        if finite:
            check_finite(array, label, caller)
        return array

    if is_structure(data, expected):
        if not nest.flatten(data):
            raise ValueError(f"{caller}: {what} is an empty {type(data).__name__}; expected arrays")
        return _map_labeled(one, data, what)
    return one(data, what)


def num_samples(named, caller=None):
    """The common number of samples of ``[(what, data), ...]``, or a ValueError naming two that differ.

    Args:
        named: pairs of a name (``"x"``) and an array, a structure of arrays or None.
        caller: prefixes the error (``"fit"``).
    """
    first = None
    for what, data in named:
        for label, leaf in labeled_leaves(data, what):
            if leaf is None:
                continue
            if first is None:
                first = (label, len(leaf))
            elif len(leaf) != first[1]:
                prefix = f"{caller}: " if caller else ""
                raise ValueError(f"{prefix}{first[0]} and {label} must have the same number of samples, got "
                                 f"{first[1]} and {len(leaf)}")
    return 0 if first is None else first[1]


def take(structure, index):
    """Rows ``index`` (a slice or an index array) of every array in ``structure`` (None stays None)."""
    if isinstance(index, numpy.ndarray) and index.dtype.kind in "iu":
        # NumPy's take copies whole rows: 30 against 38 us for a batch of 128 MNIST rows by fancy indexing
        return nest.map_structure(lambda a: None if a is None else (
            numpy.take(a, index, axis=0) if isinstance(a, numpy.ndarray) else a[index]), structure)
    return nest.map_structure(lambda a: None if a is None else a[index], structure)


# ---- sample weights from class weights ------------------------------------------------------------------
def check_class_weight(class_weight, caller):
    """``class_weight`` as ``{int: float}``, or a ValueError naming what is wrong (None passes)."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise ValueError(f"{caller}: class_weight must be a dict from class index to weight, e.g. {{0: 1.0, 1: "
                         f"5.0}}, got {shown(class_weight)}")
    weights = {}
    for key, value in class_weight.items():
        if not is_int(key):
            raise ValueError(f"{caller}: class_weight keys must be class indices (integers), got {shown(key)}")
        if not is_real(value) or not math.isfinite(value):
            raise ValueError(f"{caller}: class_weight[{key}] must be a finite number, got {shown(value)}")
        weights[int(key)] = float(value)
    return weights


def class_weight_to_sample_weight(y, class_weight, caller):
    """One weight per sample: ``class_weight[label]`` (1.0 for classes it does not list), as Keras.

    The label of a sample is ``y`` itself for labels of shape ``(N,)`` or ``(N, 1)``
    (rounded to an integer) and the index of the largest entry for one-hot rows ``(N, C)``.
    """
    if is_structure(y):
        raise ValueError(f"{caller}: class_weight is only supported for models with a single output, got y as a "
                         f"{type(y).__name__}; pass sample_weight (one array per output) instead")
    labels = backend.asnumpy(y)
    if labels.ndim == 2:
        labels = labels[:, 0] if labels.shape[1] == 1 else labels.argmax(axis=1)
    elif labels.ndim != 1:
        raise ValueError(f"{caller}: class_weight needs targets of shape (samples,), (samples, 1) or one-hot "
                         f"(samples, classes), got y of shape {tuple(labels.shape)}; pass sample_weight instead")
    labels = numpy.round(labels).astype(numpy.int64)
    weights = numpy.ones(len(labels), dtype=backend.floatx())
    for label, weight in class_weight.items():
        weights[labels == label] = weight
    return backend.to_device(weights, backend.device_of(y)) if hasattr(y, "shape") else weights


# ---- validation_split ----------------------------------------------------------------------------------
def split_validation(data, validation_split, caller="fit"):
    """``(train, validation)``: Keras holds out the last ``validation_split`` fraction, before any shuffling.

    Args:
        data: ``(x, y, sample_weight)``, each an array, a structure of them or None.
    """
    if not is_real(validation_split):
        raise ValueError(f"{caller}: validation_split must be a number in [0, 1), got {shown(validation_split)}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"{caller}: validation_split must be in [0, 1), got {validation_split}")
    n = num_samples([("x", data[0]), ("y", data[1]), ("sample_weight", data[2])], caller)
    n_val = int(n * validation_split)
    if validation_split and (n_val == 0 or n_val == n):
        empty = "validation" if n_val == 0 else "training"
        raise ValueError(f"{caller}: validation_split={validation_split} of {n} samples leaves {n_val} validation "
                         f"and {n - n_val} training samples: the {empty} split would be empty")
    cut = n - n_val
    return tuple(take(part, slice(0, cut)) for part in data), tuple(take(part, slice(cut, n)) for part in data)
