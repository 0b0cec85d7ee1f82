"""Reverse-mode differentiation: topological sort, chain rule, un-broadcasting.

``backward(root)`` orders the graph below ``root`` iteratively (no recursion,
so deep or unrolled graphs have no depth limit), walks it from the output to
the inputs calling each node's ``Function.backward``, sums every gradient back
over the axes its input was broadcast along, accumulates leaf gradients with
``+=`` into ``.grad``, and frees the graph afterwards.
"""

import contextlib
import threading

import numpy


class _Mode(threading.local):
    """The grad mode of one thread (as in PyTorch: a ``no_grad`` in one thread leaves the others recording)."""

    def __init__(self):  # run once in each thread that looks
        self.enabled = True
        self.saved = []  # the modes to go back to, innermost last


_mode = _Mode()


def grad_enabled():
    """Whether operations are being recorded for backpropagation (in this thread)."""
    return _mode.enabled


class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):  # the previous mode is kept per thread, so one decorator serves several threads
        _mode.saved.append(_mode.enabled)
        _mode.enabled = self.enabled

    def __exit__(self, *exc):
        _mode.enabled = _mode.saved.pop()
        return False


def no_grad():
    """Context manager (or decorator) that stops recording the graph, as in PyTorch.

    Inside it every result has ``requires_grad=False``: use it for inference and
    for weight updates.
    """
    return _GradMode(False)


def enable_grad():
    """Context manager (or decorator) that turns recording back on inside ``no_grad``."""
    return _GradMode(True)


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes along which an input of ``shape`` was broadcast.

    Broadcasting prepends axes and stretches size-1 axes; the gradient of a
    broadcast is the sum over exactly those axes (the copies all fed the output).
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class _Freed:
    """Marks a tensor whose graph was freed by an earlier ``backward``."""

    def __repr__(self):
        return "<freed graph>"


FREED = _Freed()


def toposort(root):
    """Non-leaf tensors of ``root``'s graph, each after all of its inputs (iterative DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is FREED:
            raise RuntimeError(
                "trying to backward through a graph a second time: its saved values were freed by the first "
                "backward(); call backward(retain_graph=True) the first time if you need to do this"
            )
        for parent in ctx.inputs:
            if parent._ctx is not None and parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def backward(root, grad=None, retain_graph=False):
    """Backpropagate from ``root``: fill ``.grad`` of every leaf tensor that requires it.

    Args:
        root: the Tensor to differentiate (usually a scalar loss).
        grad: d(something)/d(root), same shape as root; defaults to 1 for a scalar root.
        retain_graph: keep the graph so that backward can be called through it again.
    """
    # each pass has its own callbacks and token: a backward run inside a hook neither runs nor drops the outer
    # pass's callbacks, and a pass that fails (in _backward or in a callback) leaves none behind for the next
    saved = _finishers.pending, _finishers.token
    _finishers.pending, _finishers.token = [], object()
    try:
        _backward(root, grad, retain_graph)
        while _finishers.pending:
            _finishers.pending.pop(0)()
    finally:
        _finishers.pending, _finishers.token = saved


def _backward(root, grad, retain_graph):
    if not root.requires_grad:
        raise RuntimeError("backward() called on a tensor that does not require grad (no input requires grad)")
    xp = root._xp()
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() without a gradient argument needs a scalar output, got shape {root.shape}; "
                "pass grad= of the same shape"
            )
        grad = xp.ones_like(root.data)
    else:
        from .tensor import Tensor  # here: tensor.py imports this module

        grad = xp.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=root.data.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"backward(): grad shape {grad.shape} does not match tensor shape {root.shape}")
    if root._ctx is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(root, grad.copy())
        return
    order = toposort(root)
    grads = {id(root): grad}
    # A leaf's contributions are summed over the whole pass, then added to .grad once (as PyTorch does): the sum
    # comes out in the same order on every pass, so a second backward through a retained graph doubles exactly.
    leaf_grads = {}  # id(leaf) -> [leaf, gradient, whether the array may be held by something else]
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node._hooks:  # its gradient is complete here: every consumer of the node came before it
            g = _hooks().run_tensor_hooks(node, g)
        fn = node._ctx
        in_grads = fn.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for parent, needed, pg in zip(fn.inputs, fn.needs_input_grad, in_grads):
            if not needed or pg is None:
                continue
            pg = unbroadcast(pg, parent.data.shape)
            if pg.dtype != parent.data.dtype:  # a gradient has its tensor's dtype (float32 op meeting float64)
                pg = pg.astype(parent.data.dtype)
            if parent._ctx is None:
                entry = leaf_grads.get(id(parent))
                if entry is None:
                    shared = pg is g or pg.base is not None or not getattr(pg.flags, "writeable", True)
                    leaf_grads[id(parent)] = [parent, pg, shared]
                else:
                    entry[1], entry[2] = entry[1] + pg, False  # a new array, owned by this pass
            else:
                previous = grads.get(id(parent))
                grads[id(parent)] = pg if previous is None else previous + pg
    handed_out = set()
    for leaf, g, shared in leaf_grads.values():
        if shared or id(g) in handed_out:
            g = g.copy()  # never let a leaf own an array something else also holds (the engine adds into it)
        handed_out.add(id(g))
        _accumulate_leaf(leaf, g)
    if not retain_graph:
        for node in order:
            node._ctx = FREED


def _hooks():
    from . import hooks  # here: hooks.py imports this module through function.py

    return hooks


class _Finishers(threading.local):
    def __init__(self):
        self.pending = []
        self.token = None  # identifies the backward pass running in this thread; None outside backward


_finishers = _Finishers()


def queue_callback(fn):
    """Run ``fn()`` once the current ``backward`` (in this thread) has finished, as PyTorch's ``queue_callback``.

    Layer backward hooks use it to report gradients that no input of the layer receives.
    """
    if _finishers.token is None:
        raise RuntimeError("queue_callback can only be called during backward (from a gradient hook)")
    _finishers.pending.append(fn)


def current_pass():
    """An object identifying the backward pass running in this thread (None outside backward)."""
    return _finishers.token


def _accumulate_leaf(leaf, grad):
    if leaf._hooks:  # PyTorch runs a leaf's hooks on its whole gradient of this pass, before accumulating
        grad = _hooks().run_tensor_hooks(leaf, grad)
    if isinstance(grad, numpy.generic):  # NumPy's 0-d arithmetic gives scalars; a .grad is always an array
        grad = numpy.asarray(grad)
    if leaf.grad is None:
        leaf.grad = grad
    else:
        leaf.grad += grad
