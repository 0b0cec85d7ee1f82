"""Forward and backward hooks on every layer and model (PyTorch's module hooks, on Keras layers).

- ``layer.register_forward_pre_hook(fn)``: ``fn(layer, args)`` before ``call``;
  a non-None return replaces the positional arguments (a tuple, or one value for
  the first argument alone).
- ``layer.register_forward_hook(fn)``: ``fn(layer, args, output)`` after ``call``;
  a non-None return replaces the output.
- Both take ``with_kwargs=True`` (PyTorch's option): the hook also gets the
  call's keyword arguments, ``fn(layer, args, kwargs)`` returning None or
  ``(args, kwargs)``, and ``fn(layer, args, kwargs, output)``.
- ``layer.register_backward_hook(fn)`` (also ``register_full_backward_hook``):
  ``fn(layer, grad_input, grad_output)`` during ``backward``, with tuples of
  arrays-as-Tensors: the gradient of the objective with respect to each output
  tensor, and to each input tensor through this layer alone (None where an input
  does not require grad or an output was not used). A non-None return (a tuple
  like ``grad_input``) replaces the input gradients, for a layer with one input
  tensor that requires grad.

- ``layer.register_preactivation_hook(fn)`` (Neurona's): ``fn(layer, z)`` with
  the tensor the layer's ``activation`` is applied to (Dense, Conv, Activation:
  ``z = x W + b`` before ``phi``), the quantity initialization theory is about
  (its variance is what LeCun, Glorot and He keep constant, and what LSUV
  rescales). For the length of each call the layer's ``activation`` attribute
  is a tap that reports ``z`` and applies the original function.

Each returns a ``RemovableHandle``: ``handle.remove()``, or ``with
layer.register_forward_hook(fn): ...`` for the length of a block. Hooks run
on calls with values (eager calls, ``fit``, ``predict``, a functional model's
layers as it runs); defining a functional model on symbolic ``nr.Input``
tensors computes nothing, so it runs none.

Backward hooks see their layer's own gradients because, while one is
registered, each call routes the layer's float inputs and outputs through a
``HookIdentity`` node (a tensor feeding several layers gets the sum of their
gradients; the copy gets this layer's part only), as PyTorch does.
"""

import contextlib
import threading

from .. import nest
from ..autograd import Tensor, engine
from ..autograd.hooks import HookIdentity, add_hook

_silence = threading.local()  # per thread: a pass Neurona makes for itself is not one the hooks should see


@contextlib.contextmanager
def silenced():
    """No hook of any layer runs in this thread inside the block (other threads are unaffected).

    For the passes Neurona makes on its own account, such as ``fit`` summarizing its data for drift checks at
    its end (models/reference.py): a forward hook counting calls, or InitMonitor, sees only the user's calls.
    """
    _silence.depth = getattr(_silence, "depth", 0) + 1
    try:
        yield
    finally:
        _silence.depth -= 1


class HookTable:
    """The hooks of one layer, each kind a dict in registration order (handle id -> function)."""

    def __init__(self):
        self.forward_pre, self.forward, self.backward, self.preactivation = {}, {}, {}, {}
        self._lock = threading.Lock()
        self._depth = 0  # calls of the layer inside `tapped` now (threads, re-entrant calls)
        self._original = None

    def __bool__(self):
        if getattr(_silence, "depth", 0):
            return False
        return bool(self.forward_pre or self.forward or self.backward or self.preactivation)

    @contextlib.contextmanager
    def tapped(self, layer):
        """For one call: the layer's ``activation`` reports its argument to the pre-activation hooks."""
        if not self.preactivation:
            yield
            return
        with self._lock:  # the first call in swaps the tap in, the last one out puts the original back
            if self._depth == 0:
                original = self._original = layer.activation

                def tap(z, *args, **kwargs):
                    for fn in list(self.preactivation.values()):
                        fn(layer, z)
                    return original(z, *args, **kwargs)

                object.__setattr__(layer, "activation", tap)  # not tracked: put back below, whatever happens
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    object.__setattr__(layer, "activation", self._original)
                    self._original = None

    def before_call(self, layer, args, kwargs):
        """``(args, kwargs, call)``: the arguments ``call`` gets, after the pre-hooks and with the inputs routed
        for backward hooks, and the ``_BackwardCall`` collecting this call's gradients (or None)."""
        for fn in list(self.forward_pre.values()):
            result = fn(layer, args, kwargs)
            if result is None:
                continue
            if isinstance(fn, _Positional):
                args = result if isinstance(result, tuple) else (result, *args[1:])
            elif isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
                args, kwargs = (result[0] if isinstance(result[0], tuple) else (result[0],)), result[1]
            else:
                raise TypeError(f"layer {layer.name!r}: a forward pre-hook registered with_kwargs=True must "
                                f"return None or (args, kwargs), got {type(result).__name__}")
        call = None
        if self.backward and engine.grad_enabled():
            call = _BackwardCall(layer, self)
            args = (call.route_inputs(args[0]), *args[1:])
        return args, kwargs, call

    def after_call(self, layer, args, kwargs, outputs, call):
        """The output the caller gets: after the forward hooks, outputs routed for backward hooks."""
        for fn in list(self.forward.values()):
            result = fn(layer, args, kwargs, outputs)
            if result is not None:
                outputs = result
        if call is not None:
            outputs = call.route_outputs(outputs)
        return outputs


class _BackwardCall:
    """The gradients of one call of a layer, collected from its routed inputs and outputs, then reported.

    The engine visits a layer's outputs before its inputs (topological order), so
    when the last input gradient arrives every output gradient is known: the hook
    is called then, and may still replace that input's gradient. A call whose
    inputs get no gradient (a model's data) is reported once the whole backward ends.
    """

    def __init__(self, layer, table):
        self.layer, self.table = layer, table
        self.grad_input, self.grad_output = [], []
        self.routed = 0  # routed inputs (requiring grad)
        self.waiting = 0  # routed inputs whose gradient has not arrived in this pass
        self.queued = self.reported = False
        self.pass_token = None  # the backward pass the state above belongs to

    def _begin_pass(self):
        """Start afresh when a new backward runs through this call (a retained graph, a retried pass)."""
        token = engine.current_pass()
        if token is not self.pass_token:
            self.pass_token = token
            self.grad_input = [None] * len(self.grad_input)
            self.grad_output = [None] * len(self.grad_output)
            self.waiting, self.queued, self.reported = self.routed, False, False

    def route_inputs(self, inputs):
        self.grad_input, routed, self.routed = _route(inputs, self._input_arrived)
        return routed

    def route_outputs(self, outputs):
        self.grad_output, routed, _ = _route(outputs, self._output_arrived)
        return routed

    def _output_arrived(self, i):
        def hook(grad):
            self._begin_pass()
            self.grad_output[i] = grad
            if not self.queued:  # whatever happens to the inputs, report once the pass is over
                self.queued = True
                engine.queue_callback(self._report_at_end)
        return hook

    def _input_arrived(self, i):
        def hook(grad):
            self._begin_pass()
            self.grad_input[i] = grad
            self.waiting -= 1
            if self.waiting == 0:
                return self._report(replaceable=i)
            return None
        return hook

    def _report_at_end(self):
        if not self.reported:
            self._report(replaceable=None)

    def _report(self, replaceable):
        """Call the hooks; return the replacement of input ``replaceable``'s gradient, if one is given."""
        self.reported = True
        replacement = None
        for fn in list(self.table.backward.values()):
            result = fn(self.layer, tuple(self.grad_input), tuple(self.grad_output))
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(self.grad_input):
                raise ValueError(f"a backward hook of layer {self.layer.name!r} returned {len(result)} gradients "
                                 f"for {len(self.grad_input)} inputs: return one per input (None to keep it)")
            changed = [j for j, (new, old) in enumerate(zip(result, self.grad_input)) if new is not old]
            if any(j != replaceable for j in changed):
                raise RuntimeError(f"a backward hook of layer {self.layer.name!r} replaced an input gradient that "
                                   "has already flowed on: a hook can replace input gradients only for a layer "
                                   "with one input tensor that requires grad")
            if changed:
                replacement = result[replaceable]
                self.grad_input[replaceable] = replacement
        return replacement


def _route(structure, hook_for):
    """``(slots, routed, count)``: one gradient slot per leaf of ``structure``, the structure with each tensor
    that requires grad passed through a ``HookIdentity`` whose gradient goes to ``hook_for(i)``, and how many."""
    flat = nest.flatten(structure)
    routed, count = [], 0
    for i, t in enumerate(flat):
        if isinstance(t, Tensor) and t.requires_grad:
            t = HookIdentity.apply(t)
            t.register_hook(hook_for(i))
            count += 1
        routed.append(t)
    return [None] * len(flat), nest.pack_like(structure, routed), count


def has_preactivation(layer):
    """Whether the layer applies an ``activation`` of its own that a hook can tap: a callable attribute, not a
    read-only property reporting a sub-layer's (the recurrent layers' cell activations, applied at every step)."""
    if isinstance(getattr(type(layer), "activation", None), property):
        return False
    return callable(getattr(layer, "activation", None))


def _keyword_form(hook, with_kwargs, what):
    """``hook`` as the table keeps it, a function of ``(layer, args, kwargs, ...)``: one that takes no keyword
    arguments is adapted (a pre-hook's return still replaces only ``args``)."""
    if not isinstance(with_kwargs, bool):
        raise TypeError(f"{what}: with_kwargs must be True or False, got {with_kwargs!r}")
    if with_kwargs or not callable(hook):  # add_hook refuses what is not callable, naming it
        return hook
    return _Positional(hook)


class _Positional:
    """A hook registered without ``with_kwargs``, called as the table calls them all."""

    def __init__(self, hook):
        self.hook = hook

    def __call__(self, layer, args, kwargs, *rest):
        return self.hook(layer, args, *rest)


class HookMixin:
    """The ``register_*_hook`` methods of ``Layer`` (the table is made on first use)."""

    _hook_table = None

    def _hooks(self):
        if self._hook_table is None:
            object.__setattr__(self, "_hook_table", HookTable())  # not a tracked attribute, never saved
        return self._hook_table

    def register_forward_pre_hook(self, hook, *, with_kwargs=False):
        """Call ``hook(layer, args)`` before each call; a non-None return replaces ``args``. With
        ``with_kwargs=True`` (PyTorch's option), ``hook(layer, args, kwargs)``, whose non-None return is a
        new ``(args, kwargs)``."""
        return add_hook(self._hooks().forward_pre, _keyword_form(hook, with_kwargs, "register_forward_pre_hook"),
                        f"layer {self.name!r} register_forward_pre_hook")

    def register_forward_hook(self, hook, *, with_kwargs=False):
        """Call ``hook(layer, args, output)`` after each call; a non-None return replaces ``output``. With
        ``with_kwargs=True``, ``hook(layer, args, kwargs, output)``."""
        return add_hook(self._hooks().forward, _keyword_form(hook, with_kwargs, "register_forward_hook"),
                        f"layer {self.name!r} register_forward_hook")

    def register_backward_hook(self, hook):
        """Call ``hook(layer, grad_input, grad_output)`` in each backward through a call (see module docstring)."""
        return add_hook(self._hooks().backward, hook, f"layer {self.name!r} register_backward_hook")

    register_full_backward_hook = register_backward_hook  # PyTorch's name for the same hook

    def register_preactivation_hook(self, hook):
        """Call ``hook(layer, z)`` with the argument of the layer's ``activation`` at each call."""
        if not has_preactivation(self):
            raise TypeError(f"layer {self.name!r} ({type(self).__name__}) has no activation function, so no "
                            "pre-activation: register_preactivation_hook works on layers with an `activation` "
                            "(Dense, Conv1D/2D, Activation), not those that only report their cell's (the recurrent "
                            "layers); use register_forward_hook for the others")
        return add_hook(self._hooks().preactivation, hook, f"layer {self.name!r} register_preactivation_hook")
