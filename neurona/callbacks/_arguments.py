"""The argument checks of callbacks, models and saving: verbosity, counts and numbers in their words.

The shared checks (``check_bool``, ``check_path``, ``check_int``, ``check_real``)
live in ``neurona.arguments``; ``check_bool`` and ``check_path`` are re-exported
here for the modules that import them from this one. What is left are the
callbacks' own rules: ``verbose`` is one of a few choices, a count's errors say
"a non-negative integer", and a value that is not a finite number raises a
ValueError whatever its type.
"""

import math

from ..arguments import check_bool, check_int, check_path, check_real, is_int, is_real, shown

__all__ = ["CALLBACK_VERBOSITY", "FIT_VERBOSITY", "check_bool", "check_count", "check_number", "check_path",
           "check_verbose"]

#: What ``fit``, ``evaluate`` and ``predict`` accept as ``verbose`` (Keras).
FIT_VERBOSITY = ("auto", 0, 1, 2)
#: What callbacks accept as ``verbose``: silent or a line per event.
CALLBACK_VERBOSITY = (0, 1)


def check_verbose(value, owner, allowed=FIT_VERBOSITY):
    """``value`` if it is one of ``allowed`` (Python or NumPy integers, never bools; ``"auto"`` where allowed).

    Returns:
        ``"auto"`` or a Python int.

    Raises:
        ValueError: ``value`` is not one of ``allowed``.
    """
    integer = is_int(value)
    if (integer and int(value) in allowed) or (isinstance(value, str) and value in allowed):
        return int(value) if integer else value
    choices = ", ".join(repr(v) for v in allowed[:-1]) + f" or {allowed[-1]!r}"
    raise ValueError(f"{owner}: verbose must be {choices}, got {shown(value)}")


def check_count(value, owner, name, low=0):
    """``value`` as a Python int >= ``low`` (``arguments.check_int``, saying "a non-negative integer" for 0).

    Raises:
        ValueError: ``value`` is not an integer, or is below ``low``.
    """
    if low == 0 and not (is_int(value) and value >= 0):
        raise ValueError(f"{owner}: {name} must be a non-negative integer, got {shown(value)}")
    return check_int(value, owner, name, low=low)


def check_number(value, owner, name, optional=False):
    """``value`` as a finite Python float (``None`` passes through when ``optional``).

    Unlike ``arguments.check_real``, a value that is not a number is a ValueError too.

    Raises:
        ValueError: ``value`` is not a finite real number.
    """
    if (optional and value is None) or (is_real(value) and math.isfinite(value)):
        return check_real(value, owner, name, optional=optional)
    raise ValueError(f"{owner}: {name} must be a finite number{' or None' if optional else ''}, got {shown(value)}")
