"""Checks of the arguments that callbacks, models and saving share: paths, flags, verbosity and counts.

They sit in ``callbacks``, the lowest of the three packages (``models`` and
``saving`` both import it), so that every entry point refuses a mistyped
argument with the same sentence: who refused it, the argument's name, the
value received and what was expected. Each check returns the value in its
plain Python form (``str`` path, ``bool``, ``int``).
"""

import numbers
import os

import numpy

#: What ``fit``, ``evaluate`` and ``predict`` accept as ``verbose`` (Keras).
FIT_VERBOSITY = ("auto", 0, 1, 2)
#: What callbacks accept as ``verbose``: silent or a line per event.
CALLBACK_VERBOSITY = (0, 1)


def _shown(value):
    return f"{value!r} ({type(value).__name__})"


def check_bool(value, owner, name):
    """``value`` as a Python bool: Python and NumPy bools pass; anything else, such as the truthy string
    ``"no"`` or the int 0, is refused.

    Raises:
        TypeError: ``value`` is not a bool.
    """
    if not isinstance(value, (bool, numpy.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {_shown(value)}")
    return bool(value)


def check_path(value, owner, name="filepath"):
    """``value`` as a non-empty ``str`` path.

    Accepts ``str``, ``os.PathLike`` (``pathlib.Path``) and ``bytes`` (decoded with
    the file system's encoding, as ``open`` would). Anything else is refused here,
    before ``str(None)`` could become a folder called ``None``.

    Raises:
        TypeError: ``value`` is not a path.
        ValueError: ``value`` is the empty path.
    """
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f"{owner}: expected a path (str or os.PathLike) as {name}, got {_shown(value)}")
    try:
        text = os.fsdecode(os.fspath(value))
    except TypeError:  # an os.PathLike whose __fspath__ returns something else than str or bytes
        raise TypeError(f"{owner}: expected a path (str or os.PathLike) as {name}, got {_shown(value)}, whose "
                        "__fspath__() returned neither str nor bytes") from None
    if not text:
        raise ValueError(f"{owner}: expected a path as {name}, got the empty path {value!r}")
    return text


def check_verbose(value, owner, allowed=FIT_VERBOSITY):
    """``value`` if it is one of ``allowed`` (Python or NumPy integers, never bools; ``"auto"`` where allowed).

    Returns:
        ``"auto"`` or a Python int.

    Raises:
        ValueError: ``value`` is not one of ``allowed``.
    """
    integer = isinstance(value, (int, numpy.integer)) and not isinstance(value, (bool, numpy.bool_))
    if (integer and int(value) in allowed) or (isinstance(value, str) and value in allowed):
        return int(value) if integer else value
    choices = ", ".join(repr(v) for v in allowed[:-1]) + f" or {allowed[-1]!r}"
    raise ValueError(f"{owner}: verbose must be {choices}, got {_shown(value)}")


def check_count(value, owner, name, low=0):
    """``value`` as a Python int >= ``low``: Python and NumPy integers pass, bools and floats do not.

    Raises:
        ValueError: ``value`` is not an integer, or is below ``low``.
    """
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, numbers.Integral) or value < low:
        kind = "a non-negative integer" if low == 0 else f"an integer >= {low}"
        raise ValueError(f"{owner}: {name} must be {kind}, got {_shown(value)}")
    return int(value)


def check_number(value, owner, name, optional=False):
    """``value`` as a finite Python float (``None`` passes through when ``optional``).

    Raises:
        ValueError: ``value`` is not a finite real number.
    """
    if value is None and optional:
        return None
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, numbers.Real) \
            or not numpy.isfinite(float(value)):
        raise ValueError(f"{owner}: {name} must be a finite number{' or None' if optional else ''}, "
                         f"got {_shown(value)}")
    return float(value)
