"""Gradient hooks on tensors, the handle that removes a hook, and the identity op layer hooks stand behind.

``tensor.register_hook(fn)`` (as in PyTorch): during ``backward``, once the
gradient of ``tensor`` is complete (every path through which it reaches the
output has been summed), ``fn(grad)`` is called with it as a Tensor; a
non-None return replaces the gradient from then on (what flows to the
tensor's inputs, or what a leaf accumulates into ``.grad``). Hooks of one
tensor run in the order they were registered.

Every ``register_*`` call returns a ``RemovableHandle``: ``handle.remove()``
detaches the hook, and ``with tensor.register_hook(fn): ...`` removes it when
the block ends.
"""

import itertools

from .function import Function
from .tensor import Tensor

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for: ``handle.remove()``, or at the end of a ``with`` block.

    Removing twice is harmless (as in PyTorch), so a handle can be removed by hand inside its ``with``.
    """

    def __init__(self, table):
        self.id = next(_ids)
        self._table = table

    def remove(self):
        self._table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"


def add_hook(table, fn, what):
    """Store callable ``fn`` in ``table`` (a dict, in registration order) and return its handle."""
    if not callable(fn):
        raise TypeError(f"{what}: the hook must be a callable, got {fn!r} ({type(fn).__name__})")
    handle = RemovableHandle(table)
    table[handle.id] = fn
    return handle


def register_hook(tensor, fn):
    """``Tensor.register_hook``: call ``fn(grad)`` when ``tensor``'s gradient is known in backward."""
    if not tensor.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad "
                           "(it gets no gradient); use requires_grad=True or a tensor computed from one")
    if tensor._hooks is None:
        tensor._hooks = {}
    return add_hook(tensor._hooks, fn, "register_hook")


def run_tensor_hooks(tensor, grad):
    """``grad`` after the hooks of ``tensor`` (the engine calls this once the gradient is complete)."""
    for fn in list(tensor._hooks.values()):
        result = fn(Tensor._wrap(grad, False))
        if result is not None:
            new = result.data if isinstance(result, Tensor) else tensor._xp().asarray(result)
            if new.shape != grad.shape:
                raise ValueError(f"a gradient hook returned shape {new.shape} for a tensor of shape {grad.shape}: "
                                 "a hook may replace the gradient only by one of the same shape")
            grad = new.astype(grad.dtype, copy=False)
    return grad


class HookIdentity(Function):
    """``y = x``, ``dx = dy``: a separate graph node where a layer's backward hook reads its gradients.

    A layer's input tensor may feed other layers too (a residual branch), so its
    own gradient is the sum over all of them; the gradient reaching this copy is
    the part that flowed through the layer alone (PyTorch wraps inputs the same way).
    """

    def forward(self, x):
        return x

    def backward(self, grad):
        return grad


Tensor.register_hook = register_hook
