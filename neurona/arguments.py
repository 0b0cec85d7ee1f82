"""Checks of the arguments that every part of Neurona shares: integers, real numbers, flags, paths, dtype kinds.

Each ``check_*`` takes the value, who asks (``owner``: ``"fit"``, ``"leaky_relu"``,
``"EarlyStopping"``) and the argument's ``name``, and returns the value in its
plain Python form (``int``, ``float``, ``bool``, ``str``), or raises an error that
names both, says what was expected and shows what was received::

    fit: epochs must be an integer >= 1, got 2.0 (float)

Where ``name`` already names its owner (``"Dense use_bias"``), ``owner`` is None
and the message starts with ``name``. Modules whose errors have their own words
(the optimizers' intervals, the callbacks' ``verbose``) wrap these checks thinly
and build their messages from ``shown`` and ``describe_range``.

Like ``registry``, this module imports nothing from Neurona, so every layer of
the package may use it.
"""

import math
import numbers
import os

import numpy

#: The dtype kinds (``numpy.dtype.kind``) Tensors and the training loops compute with: bool, int, uint, float.
NUMERIC_KINDS = "biuf"

#: What an array of each other dtype kind holds, in words.
NON_NUMERIC_KINDS = {
    "U": "text strings",
    "T": "text strings",  # NumPy 2's variable-width StringDType
    "S": "bytes",
    "O": "Python objects",
    "c": "complex numbers",
    "M": "datetimes",
    "m": "time deltas",
    "V": "raw or structured records",
}


def describe_kind(kind):
    """What an array of the non-numeric dtype kind ``kind`` holds: ``"U"`` -> ``"text strings"``.

    Args:
        kind: a ``numpy.dtype.kind`` outside ``NUMERIC_KINDS``.

    Returns:
        The words of ``NON_NUMERIC_KINDS``, or ``"values that are not numbers"`` for a kind it does not name.
    """
    return NON_NUMERIC_KINDS.get(kind, "values that are not numbers")


def shown(value):
    """``value`` as errors show what they received: its repr and its type, ``'3' (str)``."""
    return f"{value!r} ({type(value).__name__})"


def _subject(owner, name):
    return name if owner is None else f"{owner}: {name}"


def is_int(value):
    """Whether ``value`` is a Python or NumPy integer. Bools are not: ``True`` is no size or count."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, numpy.bool_))


def is_real(value):
    """Whether ``value`` is a Python or NumPy real number (integers included). Bools are not."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, numpy.bool_))


def in_range(value, low=None, high=None, low_open=False, high_open=False):
    """Whether the number ``value`` lies between ``low`` and ``high``.

    Either bound may be None (no bound); each end is included unless ``low_open``
    or ``high_open``. NaN lies in no range that has a bound.
    """
    return ((low is None or (value > low if low_open else value >= low))
            and (high is None or (value < high if high_open else value <= high)))


def describe_range(low=None, high=None, low_open=False, high_open=False, fmt=str):
    """The range of ``in_range`` in words: ``">= 0"``, ``"> 0"``, ``"<= 1"``, ``"in [0, 1)"``, or ``""``.

    Args:
        low, high: the bounds, None for none.
        low_open, high_open: whether that end is excluded.
        fmt: how a bound is written; ``str`` keeps what the caller wrote (``0`` -> ``"0"``, ``0.0`` -> ``"0.0"``).
    """
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{fmt(low)}, {fmt(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {fmt(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {fmt(high)}"
    return ""


def check_bool(value, owner, name, optional=False):
    """``value`` as a Python bool. Python and NumPy bools pass; the truthy string ``"no"`` and the int 0 do not.

    Args:
        optional: None passes too (and is returned as None), as for ``training=None``.

    Raises:
        TypeError: ``value`` is not a bool (or None, with ``optional``).
    """
    if optional and value is None:
        return None
    if not isinstance(value, (bool, numpy.bool_)):
        allowed = "True, False or None" if optional else "True or False"
        raise TypeError(f"{_subject(owner, name)} must be {allowed}, got {shown(value)}")
    return bool(value)


def check_int(value, owner, name, low=None, high=None):
    """``value`` as a Python int in ``[low, high]`` (either bound optional).

    Python and NumPy integers pass; bools, floats (``2.0`` too) and strings do not,
    since ``int()`` would truncate ``2.5`` and parse ``"3"``.

    Raises:
        ValueError: ``value`` is not an integer, or lies outside the range. A
            ValueError even for the wrong type, as Neurona's count and size
            checks have always raised.
    """
    if not (is_int(value) and in_range(value, low, high)):
        bounds = describe_range(low, high)
        raise ValueError(f"{_subject(owner, name)} must be an integer{' ' + bounds if bounds else ''}, "
                         f"got {shown(value)}")
    return int(value)


def check_real(value, owner, name, low=None, high=None, low_open=False, high_open=False, optional=False):
    """``value`` as a finite Python float in the range of ``in_range`` (``None`` passes through if ``optional``).

    Python and NumPy reals pass (integers too); bools, strings and arrays do not.
    A Python float also keeps a NumPy float64 scalar from promoting float32 arrays.

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: it is NaN or infinite, or lies outside the range.
    """
    if optional and value is None:
        return None
    or_none = " or None" if optional else ""
    if not is_real(value):
        raise TypeError(f"{_subject(owner, name)} must be a real number{or_none}, got {shown(value)}")
    value = float(value)
    if not (math.isfinite(value) and in_range(value, low, high, low_open, high_open)):
        bounds = describe_range(low, high, low_open, high_open)
        expected = f"a finite number {bounds}" if bounds else "finite"
        raise ValueError(f"{_subject(owner, name)} must be {expected}{or_none}, got {value!r}")
    return value


def check_path(value, owner, name="filepath"):
    """``value`` as a non-empty ``str`` path.

    Accepts ``str``, ``os.PathLike`` (``pathlib.Path``) and ``bytes`` (decoded with
    the file system's encoding, as ``open`` would). Anything else is refused here,
    before ``str(None)`` could become a folder called ``None``.

    Raises:
        TypeError: ``value`` is not a path.
        ValueError: ``value`` is the empty path.
    """
    prefix = "" if owner is None else f"{owner}: "
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f"{prefix}expected a path (str or os.PathLike) as {name}, got {shown(value)}")
    try:
        text = os.fsdecode(os.fspath(value))
    except TypeError:  # an os.PathLike whose __fspath__ returns something else than str or bytes
        raise TypeError(f"{prefix}expected a path (str or os.PathLike) as {name}, got {shown(value)}, whose "
                        "__fspath__() returned neither str nor bytes") from None
    if not text:
        raise ValueError(f"{prefix}expected a path as {name}, got the empty path {value!r}")
    return text
