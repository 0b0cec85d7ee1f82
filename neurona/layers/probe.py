"""A layer's output shapes and dtypes found by running it once on zeros (for layers that do not say).

A built-in layer states its output shape (``compute_output_shape``). A user's
layer or subclassed model usually does not, and Keras then traces ``call``
symbolically. We run ``call`` for real on a tiny batch of zeros instead, under
``no_grad``: it works for any ``call`` written with our ops, and builds the
sub-layers on the way, as Keras's trace does.

Sizes unknown until run time (``None``) are filled in twice with different
values when they appear outside the batch axis; an output size that changes
between the two runs is unknown (``None``) too. The batch axis of the outputs
is ``None`` whenever an input's is.
"""

from .. import backend, nest
from ..autograd import Tensor, no_grad
from .symbolic import SymbolicTensor

PROBE_BATCH = 2
PROBE_SIZES = (7, 11)  # two fills for unknown non-batch sizes: distinct, odd, unlikely to collide with real sizes


def _concrete(structure, size):
    xp = backend.get_xp()

    def fill(leaf):
        if not isinstance(leaf, SymbolicTensor):
            return leaf
        shape = tuple(PROBE_BATCH if (s is None and i == 0) else size if s is None else s
                      for i, s in enumerate(leaf.shape))
        return Tensor(xp.zeros(shape, dtype=leaf.dtype))

    return nest.map_structure(fill, structure)


def _run(layer, args, kwargs, size):
    cargs, ckwargs = _concrete(args, size), _concrete(kwargs, size)
    ckwargs.setdefault("training", False)
    saved = [(item, list(item._losses)) for item in [layer, *layer._all_sublayers()]]
    try:
        with no_grad():
            return layer(*cargs, **ckwargs)
    finally:  # losses added while probing are not part of any real forward pass
        for item, losses in saved:
            item._losses = losses


def output_spec(layer, args, kwargs):
    """The structure of SymbolicTensors that ``layer(*args, **kwargs)`` returns for symbolic ``args``."""
    inputs = [leaf for leaf in nest.flatten([args, kwargs]) if isinstance(leaf, SymbolicTensor)]
    batch_unknown = any(t.shape and t.shape[0] is None for t in inputs)
    others_unknown = any(s is None for t in inputs for s in t.shape[1:])
    try:
        first = _run(layer, args, kwargs, PROBE_SIZES[0])
        second = _run(layer, args, kwargs, PROBE_SIZES[1]) if others_unknown else first
    except Exception as error:
        shapes = [t.shape for t in inputs]
        shown = shapes[0] if len(shapes) == 1 else shapes
        message = f"layer {layer.name!r} ({type(layer).__name__}) cannot be called on inputs of shape {shown}: {error}"
        try:
            renamed = type(error)(message)  # the same kind of error, saying where it happened
        except Exception:  # an exception class that needs other arguments
            renamed = ValueError(message)
        raise renamed from error

    def spec(a, b):
        if not isinstance(a, Tensor):
            raise TypeError(f"layer {layer.name!r} ({type(layer).__name__}) returned {type(a).__name__} from "
                            "call(); expected Tensors (or lists, tuples or dicts of Tensors)")
        shape = [None if sa != sb else sa for sa, sb in zip(a.shape, b.shape)]
        if batch_unknown and shape:
            shape[0] = None
        return SymbolicTensor(shape, a.dtype, name=layer.name)

    return nest.pack_like(first, [spec(a, b) for a, b in zip(nest.flatten(first), nest.flatten(second))])
