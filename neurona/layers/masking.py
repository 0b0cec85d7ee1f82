"""Keras's masking: which time steps of a sequence are real, passed from layer to layer.

A layer that knows which steps are padding (``Embedding(mask_zero=True)``, ``Masking``) attaches a boolean
``(batch, time)`` mask to its output (the Tensor's ``_keras_mask``, as in Keras). When a layer is called on a
Tensor that carries a mask, the mask is passed to its ``call`` if ``call`` takes a ``mask`` argument (the
recurrent layers skip the masked steps, ``GlobalAveragePooling1D`` averages the real ones), and the layer's
``compute_mask(inputs, mask)`` gives its output's mask: the same mask for layers that keep the time axis
(``supports_masking``: Dense, Dropout, Activation, the normalizations), none for the others (a pooling or an
RNN that returns only its last output ends the mask). A ``mask=`` given explicitly wins.
"""

import inspect

from .. import nest
from ..autograd import Tensor

_takes = {}


def mask_of(inputs):
    """The mask carried by ``inputs`` (a Tensor), a list of them (a list of inputs, when any has one), or None."""
    if isinstance(inputs, Tensor):
        return getattr(inputs, "_keras_mask", None)
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) if isinstance(t, Tensor) else None for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


def takes_mask(layer):
    """Whether the layer's ``call`` takes a ``mask`` argument."""
    cls = type(layer)
    known = _takes.get(cls)
    if known is None:
        known = _takes[cls] = "mask" in inspect.signature(cls.call).parameters
    return known


def tensor_arguments(args, kwargs):
    """How many of a call's arguments hold tensors. Keras 3 hands a layer its input's mask (``mask=``) only when
    that is one (``Layer.__call__``): an RNN given ``initial_state`` tensors runs unmasked unless it is given
    ``mask=`` itself, and Neurona does the same, so that Keras programs and files compute what they do there."""
    def tensor(leaf):  # a Tensor or an array (NumPy's, CuPy's), as Keras counts its backend's tensors
        return isinstance(leaf, Tensor) or (hasattr(leaf, "shape") and hasattr(leaf, "dtype"))

    return sum(1 for value in (*args, *kwargs.values()) if any(tensor(leaf) for leaf in nest.flatten(value)))


def makes_masks(layer):
    """Whether the layer makes a mask from inputs that carry none (``creates_masks``: Embedding, Masking)."""
    return getattr(type(layer), "creates_masks", False)


def attach(outputs, masks):
    """Set ``_keras_mask`` on the output Tensor(s): one mask, or one per output (None: no mask). A None never
    clears a mask: an output that is the input itself (a pass-through) keeps the input's."""
    flat = nest.flatten(outputs)
    if not isinstance(masks, (list, tuple)):
        masks = [masks] + [None] * (len(flat) - 1)
    for tensor, mask in zip(flat, masks):
        if isinstance(tensor, Tensor) and mask is not None:
            tensor._keras_mask = as_mask(mask)


def as_mask(mask):
    """A mask as a boolean Tensor that takes no gradient."""
    if isinstance(mask, Tensor):
        return mask if mask.dtype == bool and not mask.requires_grad else Tensor._wrap(mask.data.astype(bool), False)
    return Tensor._wrap(Tensor(mask).data.astype(bool), False)
