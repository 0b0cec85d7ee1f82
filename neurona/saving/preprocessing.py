"""Input preprocessing saved with a model, so raw data can be fed to a loaded model the way it was trained.

``model.preprocessing`` is a list of steps, each a small JSON-safe dict, applied
in order by ``apply`` (and by ``neurona predict``):

- ``{"op": "rescale", "divisor": 255.0, "dtype": "float32"}``: ``x / divisor``, as
  ``datasets.preprocessing.scale_pixels`` computes it;
- ``{"op": "standardize", "mean": ..., "std": ..., "dtype": "float32"}``: ``(x - mean) / std``
  with fitted statistics (numbers or nested lists), as ``datasets.preprocessing.standardize``;
- ``{"op": "flatten"}``: ``(N, ...) -> (N, prod(...))``.

Each step is computed by the same function that prepared the training data, so
the results are bit-identical.
"""

import numpy

from ..datasets import preprocessing as prep
from .errors import FileFormatError

OPS = {"rescale": ("divisor", "dtype"), "standardize": ("mean", "std", "dtype"), "flatten": ()}


def rescale(divisor=255.0, dtype="float32"):
    """The step ``x / divisor`` (pixels to [0, 1] by default)."""
    return {"op": "rescale", "divisor": float(divisor), "dtype": str(numpy.dtype(dtype))}


def standardize(stats, dtype="float32"):
    """The step ``(x - mean) / std`` for ``StandardizeStats`` (or a ``(mean, std)`` pair) fitted on training data."""
    mean, std = stats
    return {"op": "standardize", "mean": numpy.asarray(mean, dtype=numpy.float64).tolist(),
            "std": numpy.asarray(std, dtype=numpy.float64).tolist(), "dtype": str(numpy.dtype(dtype))}


def flatten():
    """The step ``(N, ...) -> (N, prod(...))``."""
    return {"op": "flatten"}


def validate(steps, source="preprocessing"):
    """``steps`` as a list of checked step dicts (None stays None)."""
    if steps is None:
        return None
    if not isinstance(steps, (list, tuple)):
        raise FileFormatError(f"{source}: preprocessing must be a list of steps, got {type(steps).__name__}")
    out = []
    for i, step in enumerate(steps):
        op = step.get("op") if isinstance(step, dict) else None
        if not isinstance(op, str) or op not in OPS:
            raise FileFormatError(f"{source}: preprocessing step {i} is {step!r:.80}; expected a dict whose 'op' "
                                  f"is one of {sorted(OPS)}")
        missing = [key for key in OPS[op] if key not in step]
        if missing:
            raise FileFormatError(f"{source}: preprocessing step {i} ({op}) lacks {missing}")
        for key in OPS[op]:
            problem = _CHECKS[key](step[key])
            if problem:
                raise FileFormatError(f"{source}: preprocessing step {i} ({op}): {key!r} is {step[key]!r:.80}; "
                                      f"expected {problem}")
        out.append(dict(step))
    return out


def _float_dtype(value):
    try:
        ok = isinstance(value, str) and numpy.dtype(value).kind == "f"
    except Exception:  # NumPy parses dtype strings: "," raises SyntaxError, others TypeError
        ok = False
    return None if ok else "the name of a floating-point dtype, such as 'float32'"


def _numbers(value):
    try:  # a number or nested lists of numbers (what standardize() stores), never objects
        ok = not isinstance(value, (str, dict)) and numpy.asarray(value, dtype=numpy.float64).dtype.kind == "f"
    except (TypeError, ValueError):
        ok = False
    return None if ok else "a number or nested lists of numbers"


def _divisor(value):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and numpy.isfinite(value) and value != 0
    return None if ok else "a finite nonzero number"


_CHECKS = {"divisor": _divisor, "dtype": _float_dtype, "mean": _numbers, "std": _numbers}


def apply(steps, x):
    """``x`` after every step of ``steps`` (a NumPy array)."""
    for step in validate(steps) or []:
        op = step["op"]
        if op == "rescale":
            dtype = numpy.dtype(step["dtype"])
            x = numpy.asarray(x, dtype=dtype) / dtype.type(step["divisor"])
        elif op == "standardize":
            x, _ = prep.standardize(x, step["mean"], step["std"], dtype=step["dtype"])
        else:
            x = prep.flatten_images(x)
    return x


def raw_range(steps):
    """``(low, high)`` of the raw inputs that ``steps`` expect, where the steps make that known, else None.

    Known for rescale (by a divisor > 1) and flatten steps only, as ``neurona train`` saves them: raw values
    in ``[0, divisor]`` (e.g. pixels 0-255) become ``[0, 1]``. Standardization has no bounded range.
    """
    ops = [step.get("op") for step in steps or ()]
    rescales = [step for step in steps or () if step.get("op") == "rescale"]
    if len(rescales) != 1 or any(op not in ("rescale", "flatten") for op in ops):
        return None
    divisor = float(rescales[0]["divisor"])
    return (0.0, divisor) if divisor > 1 else None


def describe(steps):
    """``"rescale(/255.0) -> flatten"``, or ``"none"``."""
    names = []
    for step in steps or []:
        names.append(f"rescale(/{step['divisor']})" if step["op"] == "rescale" else step["op"])
    return " -> ".join(names) or "none"
