"""A mixed-precision layer's call: its float32 weights read in the 16-bit compute dtype.

Keras autocasts a layer's variables to its compute dtype inside ``call`` (Micikevicius et al. 2018 keep the
float32 master weights and run the passes in float16). Here, for the duration of ``call``, each float
weight attribute of the layer (``self.kernel``) and of its sub-layers of the same policy is replaced by
``ops.cast(weight, compute_dtype)``: a differentiable cast, whose backward turns the 16-bit gradient back
into a float32 one for the master weight, so the optimizer and its state stay in float32. The attributes
are restored when ``call`` returns or raises.

Weights created non-trainable by the layer itself (moving statistics, masks, ranges: ``_fixed``) keep
their dtype: ``call`` may assign them. A layer with ``computes_in_float32`` (the normalizations, whose
variance would lose its digits in float16) runs its call in float32 and returns its outputs in the
compute dtype.
"""

from .. import backend, nest, ops
from ..autograd import Tensor, Variable


def call_autocast(layer, args, kwargs):
    """``layer.call(*args, **kwargs)`` under the layer's mixed policy."""
    if layer.computes_in_float32:
        outputs = layer.call(*args, **kwargs)
        dtype = layer.compute_dtype
        return nest.map_structure(
            lambda t: ops.cast(t, dtype) if isinstance(t, Tensor) and backend.is_floating(t.dtype)
            and t.dtype != dtype else t, outputs)
    swapped = _swap_weights(layer)
    try:
        return layer.call(*args, **kwargs)
    finally:
        for owner, name, value in reversed(swapped):
            object.__setattr__(owner, name, value)


def _swap_weights(layer):
    policy, dtype = layer.dtype_policy, layer.compute_dtype
    swapped = []
    for owner in (layer, *layer._all_sublayers()):
        if owner.dtype_policy != policy or owner.computes_in_float32:
            continue  # it casts its own weights (or none) when it is called
        def cast(value, fixed=owner._fixed):
            if isinstance(value, Variable) and value.dtype != dtype and backend.is_floating(value.dtype) and \
                    not any(value is f for f in fixed):
                return _CastWeight.of(value, dtype)
            return value

        for name, value in list(vars(owner).items()):
            if isinstance(value, Variable):
                new = cast(value)
            elif isinstance(value, (list, tuple)) and any(isinstance(v, Variable) for v in value):
                new = type(value)(cast(v) for v in value) if type(value) in (list, tuple) else list(map(cast, value))
            elif isinstance(value, dict) and any(isinstance(v, Variable) for v in value.values()):
                new = {key: cast(v) for key, v in value.items()}
            else:
                continue
            if new is not value:
                object.__setattr__(owner, name, new)  # not tracked: the layer's own bookkeeping is unchanged
                swapped.append((owner, name, value))
    return swapped


class _CastWeight(Tensor):
    """A float32 weight as the call reads it: ``cast(variable, compute_dtype)``, a node of the graph, whose
    ``assign`` (and ``assign_add``/``assign_sub``), ``name`` and ``trainable`` are the variable's (Keras's
    AutocastVariable): a layer may update its own weight from ``call``."""

    __slots__ = ("variable",)

    @classmethod
    def of(cls, variable, dtype):
        cast = ops.cast(variable, dtype)
        weight = cls.__new__(cls)
        for slot in ("data", "grad", "requires_grad", "_ctx", "_hooks"):  # the cast's node, under a new class
            setattr(weight, slot, getattr(cast, slot, None))
        weight.name, weight.variable = variable.name, variable
        return weight

    @property
    def trainable(self):
        return self.variable.trainable

    def assign(self, value):
        return self.variable.assign(value)

    def assign_add(self, value):
        return self.variable.assign_add(value)

    def assign_sub(self, value):
        return self.variable.assign_sub(value)
