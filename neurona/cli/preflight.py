"""Checks the ``neurona`` command makes before it starts work, so that a bad argument costs no training time.

- output paths (``train --save/--history``, ``predict --output``): a file must not be an existing folder,
  a folder must not be an existing file (nor a folder of other files, which a checkpoint would replace), and
  the nearest existing parent folder must be writable (missing parents are created when writing);
- conflicting flags of ``train --resume`` (see ``resume_conflicts``);
- ``predict``'s inputs: finite numbers only (``check_finite_input``), in the range the model's saved
  preprocessing expects (``check_input_range``).

Every failure is a ``UsageError`` (a ValueError): ``main`` prints it on one line and exits with status 2.
"""

import os

import numpy

from ..saving.preprocessing import raw_range


class UsageError(ValueError):
    """The command line asks for something that cannot work; nothing has been done yet."""


def _nearest_existing(path):
    """The nearest existing ancestor of ``path`` (``path`` itself excluded)."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    return parent


def _check_parent(flag, path):
    parent = _nearest_existing(path)
    if not os.path.isdir(parent):
        raise UsageError(f"{flag} {path}: {parent!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: the folder {parent!r} is not writable")


def check_output_file(flag, path):
    """``path`` can be written as a file (it may exist; missing parent folders are created)."""
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a folder; expected a file name")
    _check_parent(flag, path)


def check_output_folder(flag, path, replaces=None, owner="the run"):
    """``path`` can be (re)written as a saved-model folder: new, empty, or an earlier save.

    A save replaces the whole folder (atomically, see ``neurona.saving.atomic``), so a folder holding
    anything but a saved model (``replaces``: the names a save writes, default model.json and model.h5)
    is refused rather than deleted. ``owner`` names what is saved, in the messages.
    """
    from ..saving import MODEL_H5, MODEL_JSON
    from ..saving.atomic import check_replaceable
    from ..saving.saved_model import refuse_single_file_name

    replaces = (MODEL_JSON, MODEL_H5) if replaces is None else replaces

    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a file; expected a folder name (a saved model is a folder)")
    try:  # the very rules the save applies, so that nothing is refused only after an epoch of training
        refuse_single_file_name(path, owner)
        if os.path.isdir(path):
            check_replaceable(path, path, replaces)
    except (ValueError, FileExistsError) as error:
        raise UsageError(f"{flag} {path}: {error}") from None
    if os.path.isdir(path):
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"{flag} {path}: the folder is not writable")
    _check_parent(flag, path)


def check_not_inside(flag, path, folder_flag, folder):
    """``path`` does not lie inside ``folder`` (a save folder, which each save replaces whole)."""
    path, inside = os.path.abspath(path), os.path.abspath(folder)
    try:
        nested = os.path.commonpath([path, inside]) == inside
    except ValueError:  # on different drives (Windows)
        nested = False
    if nested:
        raise UsageError(f"{flag} {path}: lies inside the {folder_flag} folder {folder}, which every save replaces "
                         "whole; write it elsewhere")


def resume_conflicts(given, saved):
    """The explicitly given flags whose values differ from the checkpoint's, as ``--flag value`` strings."""
    out = []
    for key, value in given.items():
        if value is not None and value != saved.get(key):
            flag = f"--{key.replace('_', '-')}"
            out.append(f"{flag} {show_value(value)} (the checkpoint has {show_value(saved.get(key))})")
    return out


def show_value(value):
    """A flag value as typed: lists space-separated, None as ``none``."""
    if value is None:
        return "none"
    return " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def check_finite_input(x, name):
    """Refuse inputs holding NaN or inf: a model's outputs for them are NaN rows, never an answer.

    Checked before the range check, whose minimum and maximum NaN would make meaningless.
    """
    if x.dtype.kind not in "fc" or bool(numpy.isfinite(x).all()):
        return
    bad = ~numpy.isfinite(x)
    first = tuple(int(i) for i in numpy.argwhere(bad)[0]) if x.ndim else ()
    where = f", the first at index {first}" if first else ""
    raise UsageError(f"{name} holds {int(bad.sum())} non-finite value(s) (NaN or inf){where}; expected finite "
                     "numbers (replace or drop the missing values first)")


def check_input_range(steps, x, name, preprocessed):
    """Refuse inputs whose values cannot be what the model's preprocessing expects.

    Args:
        steps: the model's saved preprocessing steps.
        x: the inputs as loaded.
        name: the input file, for messages.
        preprocessed: True with ``--no-preprocessing`` (x should already be in ``[0, 1]``).

    Raw inputs (the default) must lie in ``[0, divisor]``, and are refused when they look already scaled:
    floats within ``[0, 1]`` with fractional values, which raw pixels never have; dividing those by 255
    again would feed the model near-zero images. With ``--no-preprocessing`` they must lie in ``[0, 1]``.
    """
    expected = raw_range(steps)
    if expected is None or x.size == 0 or x.dtype.kind not in "fiub":
        return  # nothing known to compare with; predict reports empty or non-numeric inputs itself
    low, high = float(numpy.min(x)), float(numpy.max(x))
    described = " -> ".join(f"rescale(/{s['divisor']:g})" if s["op"] == "rescale" else s["op"] for s in steps)
    override = "pass --no-range-check to run anyway"
    if preprocessed:
        if low < 0 or high > 1:
            raise UsageError(f"{name} has values in [{low:g}, {high:g}], but with --no-preprocessing the model "
                             f"expects inputs already scaled to [0, 1] by its preprocessing ({described}); drop "
                             f"--no-preprocessing to apply it (or {override})")
        return
    if low < expected[0] or high > expected[1]:
        raise UsageError(f"{name} has values in [{low:g}, {high:g}], but the model's saved preprocessing "
                         f"({described}) expects raw inputs in [{expected[0]:g}, {expected[1]:g}] ({override})")
    fractional = x.dtype.kind == "f" and bool(numpy.any(x != numpy.round(x)))
    if high <= 1 and fractional:
        raise UsageError(f"{name} looks already preprocessed: its values lie in [{low:g}, {high:g}] with fractions, "
                         f"but the model's saved preprocessing ({described}) expects raw inputs in "
                         f"[{expected[0]:g}, {expected[1]:g}] and would divide them by {expected[1]:g} again; pass "
                         f"--no-preprocessing if they are already scaled (or {override})")
