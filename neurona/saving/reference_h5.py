"""``model.reference_statistics`` in a saved model: the arrays in ``model.h5``, the small fields in ``model.json``.

Layout (a ``neurona.serving.drift.ReferenceStatistics``; see models/reference.py for how fit records it)::

    model.json  "reference_statistics": {"format": "neurona.drift.reference", "version": 1,
                                         "input_shape": [784], "n_classes": 10, "n_components": 32}  (or null)
    model.h5    /reference_statistics/mean         (d,)      float32, d = prod(input_shape)
                /reference_statistics/components   (k, d)    float32, k = n_components
                /reference_statistics/projections  (n_ref, k) float32
                /reference_statistics/entropies    (n_ent,)  float32, each in [0, log n_classes]

The datasets carry Fletcher-32 checksums like the weights, and the SHA-256 of ``model.h5`` that ``model.json``
records covers them. Saving checks the statistics as loading does, so what is written can be read back; loading
checks every field and dataset (presence, dtype, shape, finite values) and raises ``FileFormatError`` naming the
file and the entry. A save without the entry (written before issue 13) loads with ``reference_statistics`` None;
the group of a save whose ``model.json`` says null is not read.
"""

import math

import numpy

from .errors import FileFormatError

GROUP = "reference_statistics"
KEY = "reference_statistics"  # model.json's entry
_ENTROPY_SLACK = 1e-5  # float32 rounding of an entropy at its maximum log(n_classes)


def _drift():
    # serving sits above saving in the package layers (DESIGN.md). drift.py is safe to import at call time: it is
    # pure NumPy and imports nothing of Neurona (no cycle), and neurona/serving/__init__.py imports only it.
    from ..serving import drift

    return drift


def _expected_shapes(meta):
    d, k = math.prod(meta["input_shape"]), meta["n_components"]
    return {"mean": (d,), "components": (k, d), "projections": (None, k), "entropies": (None,)}


def _array_problem(name, array, expected, n_classes):
    """Why ``array`` cannot be the reference's ``name`` (None when it can)."""
    shape = tuple(array.shape)
    if array.dtype != numpy.float32:
        return f"has dtype {array.dtype}; expected float32"
    if len(shape) != len(expected) or any(e is not None and s != e for s, e in zip(shape, expected)):
        shown = tuple("n" if e is None else e for e in expected)
        return f"has shape {shape}; expected {shown} (from input_shape and n_components)"
    if array.size == 0:
        return "is empty; expected at least one row"
    if not numpy.all(numpy.isfinite(array)):
        return "holds NaN or inf; expected finite values"
    if name == "entropies" and (array.min() < 0 or array.max() > math.log(n_classes) * (1 + _ENTROPY_SLACK)):
        return (f"ranges over [{array.min():.4g}, {array.max():.4g}]; expected entropies in [0, log {n_classes} = "
                f"{math.log(n_classes):.4g}]")
    return None


def metadata(model):
    """``model.json``'s entry for the model's ``reference_statistics`` (None when it has none), checked as a load
    would check it, so that a save never writes what cannot be read back.

    Raises:
        TypeError: ``model.reference_statistics`` is not a ReferenceStatistics (or None).
        ValueError: its arrays do not fit its own shapes, or hold non-finite values.
    """
    stats = getattr(model, "reference_statistics", None)
    if stats is None:
        return None
    drift = _drift()
    if not isinstance(stats, drift.ReferenceStatistics):
        raise TypeError(f"cannot save model {model.name!r}: its reference_statistics is of type "
                        f"{type(stats).__name__}; expected a neurona.serving.drift.ReferenceStatistics "
                        "(model.compute_reference_statistics(x) makes one) or None")
    meta = stats.metadata()
    expected = _expected_shapes(meta)
    for name, array in stats.to_arrays().items():
        problem = _array_problem(name, array, expected[name], meta["n_classes"])
        if problem:
            raise ValueError(f"cannot save model {model.name!r}: its reference_statistics {name} {problem}")
    return meta


def write(h5, model):
    """Write the arrays of ``model.reference_statistics`` into the open file ``h5`` (nothing when it is None)."""
    stats = getattr(model, "reference_statistics", None)
    if stats is None:
        return
    group = h5.create_group(GROUP)
    for name, array in stats.to_arrays().items():
        group.create_dataset(name, data=numpy.require(array, requirements="C"), fletcher32=True)


def read(h5, meta, h5_path, source):
    """The ReferenceStatistics of a save (None when ``model.json``'s entry ``meta`` is null or absent).

    Args:
        meta: ``model.json``'s entry, already checked by document.py.
        h5_path: how messages name ``model.h5``; ``source`` names ``model.json``.
    """
    if meta is None:
        return None
    h5py = _h5py()
    group = h5.get(GROUP)
    if not isinstance(group, h5py.Group):
        raise FileFormatError(f"{h5_path!r}: {source} has a {KEY!r} entry, but the file has no group '/{GROUP}' "
                              "with its arrays (the save is incomplete)")
    expected = _expected_shapes(meta)
    arrays = {}
    for name, shape in expected.items():
        dataset = group.get(name)
        if not isinstance(dataset, h5py.Dataset):
            raise FileFormatError(f"{h5_path!r}: '/{GROUP}/{name}' is missing; expected a float32 dataset of shape "
                                  f"{tuple('n' if e is None else e for e in shape)}")
        try:
            array = dataset[()]
        except OSError as error:  # e.g. a Fletcher-32 checksum mismatch
            raise FileFormatError(f"{h5_path!r}: dataset '/{GROUP}/{name}' is corrupted and cannot be read: "
                                  f"{error}") from None
        problem = _array_problem(name, numpy.asarray(array), shape, meta["n_classes"])
        if problem:
            raise FileFormatError(f"{h5_path!r}: dataset '/{GROUP}/{name}' {problem}")
        arrays[name] = array
    try:
        return _drift().ReferenceStatistics.from_dict({**meta, **arrays})
    except ValueError as error:  # a check above should have caught it: say where it came from all the same
        raise FileFormatError(f"{h5_path!r}: '/{GROUP}' does not make reference statistics: {error}") from None


def _h5py():
    import h5py  # a hard dependency of Neurona, imported here so that importing neurona stays fast

    return h5py
