"""A layer's output shapes and dtypes found by running it once on zeros (for layers that do not say).

A built-in layer states its output shape (``compute_output_shape``). A user's
layer or subclassed model usually does not, and Keras then traces ``call``
symbolically. We run ``call`` for real on a tiny batch of zeros instead, under
``no_grad``: it works for any ``call`` written with our ops, and builds the
sub-layers on the way, as Keras's trace does.

Sizes unknown until run time (``None``, the batch axis among them) are
filled in twice with different values; an output size that changes between
the two runs is unknown (``None``) too, so ``transpose`` or ``x[0]`` get the
right shapes. The runs change nothing: every variable of the layer (moving
statistics, counters) is put back as it was, and losses added are dropped.
"""

from .. import backend, nest
from ..autograd import Tensor, no_grad
from .symbolic import SymbolicTensor

PROBE_BATCHES = (2, 3)  # two fills for an unknown batch size
PROBE_SIZES = (7, 11)  # and for other unknown sizes: distinct, unlikely to collide with real sizes


def _concrete(structure, run):
    xp = backend.get_xp()

    def fill(leaf):
        if not isinstance(leaf, SymbolicTensor):
            return leaf
        shape = tuple(PROBE_BATCHES[run] if (s is None and i == 0) else PROBE_SIZES[run] if s is None else s
                      for i, s in enumerate(leaf.shape))
        return Tensor(xp.zeros(shape, dtype=leaf.dtype))

    return nest.map_structure(fill, structure)


def _run(layer, args, kwargs, run):
    cargs, ckwargs = _concrete(args, run), _concrete(kwargs, run)
    ckwargs.setdefault("training", False)
    saved = [(item, list(item._losses)) for item in [layer, *layer._all_sublayers()]]
    values = [(w, w.data.copy()) for w in layer.weights]  # built weights only: those built now are new anyway
    try:
        with no_grad():
            return layer(*cargs, **ckwargs)
    finally:  # a probe is not a forward pass: its losses and variable updates are undone
        for item, losses in saved:
            item._losses = losses
        for w, value in values:
            w.data[...] = value


def output_spec(layer, args, kwargs):
    """The structure of SymbolicTensors that ``layer(*args, **kwargs)`` returns for symbolic ``args``."""
    inputs = [leaf for leaf in nest.flatten([args, kwargs]) if isinstance(leaf, SymbolicTensor)]
    unknown = any(s is None for t in inputs for s in t.shape)
    try:
        first = _run(layer, args, kwargs, 0)
        second = _run(layer, args, kwargs, 1) if unknown else first
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
        if a.ndim != b.ndim:
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) returns outputs whose rank depends on "
                             f"the input sizes ({a.shape} and {b.shape}); give it compute_output_shape()")
        shape = [None if sa != sb else sa for sa, sb in zip(a.shape, b.shape)]
        return SymbolicTensor(shape, a.dtype, name=layer.name)

    return nest.pack_like(first, [spec(a, b) for a, b in zip(nest.flatten(first), nest.flatten(second))])
