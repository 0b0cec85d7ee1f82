"""The one door of every public op: ``public_op`` lets a higher layer intercept calls on symbolic inputs.

The ops layer computes on real tensors only. The functional-model code above it
(``neurona.layers``, which this module may not import) sets ``symbolic_hook`` to
a function ``hook(op, args, kwargs)``: given the op about to run and its
arguments, it returns the op's symbolic result (a placeholder recorded in the
model's graph) or ``NotImplemented`` when no argument is symbolic. While no hook
is set, a public op costs one global lookup more than the function it wraps.
"""

import functools

symbolic_hook = None  # set by the functional-model code above (neurona.layers); None until then


def public_op(fn):
    """``fn`` behind the symbolic hook: ``hook(fn, args, kwargs)`` first, ``fn(*args, **kwargs)`` unless it answers.

    The wrapper keeps ``fn``'s name, docstring and signature (``functools.wraps``;
    ``inspect.signature`` follows ``__wrapped__``). Wrapping twice wraps once.

    Args:
        fn: a function of ``neurona.ops``.

    Returns:
        The wrapped function; ``fn`` itself when it already is one.
    """
    if getattr(fn, "__public_op__", False):
        return fn

    @functools.wraps(fn)
    def op(*args, **kwargs):
        hook = symbolic_hook
        if hook is not None:
            result = hook(fn, args, kwargs)
            if result is not NotImplemented:
                return result
        return fn(*args, **kwargs)

    op.__public_op__ = True
    return op
