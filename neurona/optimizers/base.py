"""``Optimizer``: the one place for the step counter, learning rate, clipping, weight decay and slots.

A subclass defines only its slots (``_create_slots``) and its update rule
(``update_step``); everything shared by every optimizer lives here, once:

1. gradient clipping (``clipvalue`` elementwise, ``clipnorm`` per variable,
   ``global_clipnorm`` over all variables together),
2. the learning rate, a float or a schedule ``learning_rate(step) -> float``
   evaluated once per step at ``step = iterations`` (0 for the first update),
3. decoupled weight decay, Keras 3 semantics (Loshchilov & Hutter 2019):
   ``var <- var - lr * weight_decay * var`` *before* the update rule runs,
4. the step counter ``iterations`` and the per-variable slot arrays,
5. keeping slots out of the subnormal range (see ``FLUSH_EVERY``),
6. Keras 3's moving average of the weights, gradient accumulation and fixed loss scale (base_options.py).

Speed matters because ``apply`` runs every training step: updates are done in
place on ``variable.data`` (layers keep references to those arrays, so they are
never replaced), slots are created once per variable, and per-step scalars are
Python floats computed once per step (a NumPy float64 scalar would promote a
float32 array). Each built-in rule is one call to a kernel of
``backend.kernels`` (e.g. ``kernels.adam_update``), which fuses the arithmetic
into one pass and splits large variables over the backend's threads.
"""

import math

from .. import arguments, backend
from ..arguments import describe_range, in_range, is_real, shown
from ..autograd import Tensor
from ..registry import construct
from .base_options import BaseOptions

# Moments of weights whose gradient stays zero (e.g. those fed by MNIST's always-black border pixels) decay
# geometrically (x 0.9 per Adam step) into the subnormal range, where x86 arithmetic is about 50x slower: on the
# MNIST MLP that doubled Adam's time by the fifth epoch. Every FLUSH_EVERY steps, slot values smaller than
# FLUSH_FACTOR times the dtype's smallest normal number are set to zero. From there a value needs more than 170
# steps at x 0.9 to reach the subnormal range, so it is flushed first; and a slot value of 2**-100 or less moves a
# weight by a negligible amount (at most lr * 1e-30 / epsilon in Adam).
FLUSH_EVERY = 64
FLUSH_FACTOR = 2.0**26


def check_float(name, value, low=None, high=None, *, low_open=False, high_open=False, owner="optimizer"):
    """``value`` as a finite Python float within ``[low, high]`` (either bound optional, open if asked).

    The rule of ``arguments.check_real``, built from its parts, in the optimizers'
    words: ``"must be a number"``, ``"must be in [0, 1)"``, bounds written ``0``
    rather than ``0.0``. Python floats matter for speed and dtype: a NumPy float64
    scalar would promote float32 arrays to float64 in the update arithmetic.
    """
    if not is_real(value):
        raise TypeError(f"{owner}: {name} must be a number, got {shown(value)}")
    value = float(value)
    if not (math.isfinite(value) and in_range(value, low, high, low_open, high_open)):
        expected = describe_range(low, high, low_open, high_open, fmt="{:g}".format) or "finite"
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    return value


def check_bool(name, value, owner="optimizer"):
    """``value`` as a Python bool (``arguments.check_bool``); a 0-d bool array (NumPy or CuPy) is one too.

    Anything else is refused: a string such as ``"False"`` would be truthy.
    """
    if getattr(value, "shape", None) == () and getattr(getattr(value, "dtype", None), "kind", "") == "b":
        return bool(value)
    return arguments.check_bool(value, owner, name)


def _check_optional(name, value, owner):
    return None if value is None else check_float(name, value, 0.0, low_open=True, owner=owner)


class Optimizer(BaseOptions):
    """Base class of gradient-based optimizers (Keras 3 API).

    Args:
        learning_rate: a non-negative float, or a callable ``learning_rate(step) -> float``
            (a schedule) evaluated with the number of steps already taken.
        weight_decay: decoupled weight decay coefficient ``wd``; each step first does
            ``var <- var - lr * wd * var``. None (default) disables it.
        clipnorm: if set, each gradient is rescaled so its L2 norm is at most this.
        clipvalue: if set, each gradient is clipped elementwise to ``[-clipvalue, clipvalue]``.
        global_clipnorm: if set, all gradients are rescaled together so that the L2 norm
            of their concatenation is at most this. At most one of the three clip
            arguments may be given.
        use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps: Keras 3's
            moving average of the weights (False, 0.99, None), fixed loss scale (None) and gradient accumulation
            over that many calls (None); see base_options.py.
        name: a label (defaults to the lowercased class name, e.g. ``"adamw"``).

    Attributes:
        iterations: number of update steps applied so far.
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None):
        owner = type(self).__name__
        given = [k for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(given) > 1:
            raise ValueError(f"{owner}: only one of clipnorm, clipvalue and global_clipnorm can be set, got {given}")
        self.learning_rate = learning_rate
        self.weight_decay = None if weight_decay is None else check_float("weight_decay", weight_decay, 0.0,
                                                                          owner=owner)
        self.clipnorm = _check_optional("clipnorm", clipnorm, owner)
        self.clipvalue = _check_optional("clipvalue", clipvalue, owner)
        self.global_clipnorm = _check_optional("global_clipnorm", global_clipnorm, owner)
        self.name = name if name is not None else owner.lower()
        self.iterations = 0
        self._init_options(owner, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                           gradient_accumulation_steps)
        self._records = {}  # id(variable) -> [variable, slots dict, use weight decay]; holding it keeps id stable
        self._exclude_ids = set()
        self._exclude_names = ()

    # ---- learning rate -------------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate of the next step (a schedule is evaluated at ``iterations``; with gradient
        accumulation, at the number of calls, as in Keras)."""
        lr = self._learning_rate
        return float(lr(self._schedule_step())) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._learning_rate = value
        else:
            self._learning_rate = check_float("learning_rate", value, 0.0, owner=type(self).__name__)

    @property
    def schedule(self):
        """The learning-rate callable, or None when the learning rate is a constant."""
        return self._learning_rate if callable(self._learning_rate) else None

    # ---- the subclass contract -----------------------------------------------------------------
    def _create_slots(self, var_array):
        """The per-variable state: a dict ``name -> array`` shaped like ``var_array`` (override)."""
        return {}

    def _prepare_step(self, lr, step):
        """Compute per-step Python-float constants (e.g. bias corrections) once per step (override)."""

    def update_step(self, grad, var_array, lr, slots):
        """Update ``var_array`` and ``slots`` in place from ``grad`` (same shape and dtype) (override).

        It always receives whole variables, so a rule may use norms or other reductions over them."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_step")

    def _slot_names(self):
        """The slot names this configuration creates (derived from a tiny variable)."""
        return tuple(self._all_slots(backend.get_xp().zeros((1,), dtype="float32")))  # options' slots too

    # ---- slots ---------------------------------------------------------------------------------
    def build(self, variables):
        """Create the slots of every trainable variable in ``variables`` now (they are otherwise lazy)."""
        for var in variables:
            if _is_trainable(var) and id(var) not in self._records:
                self._record(var)

    def _record(self, var):
        rec = [var, self._all_slots(var.data), self._use_weight_decay(var)]
        self._records[id(var)] = rec
        return rec

    def slots(self, variable):
        """The slot arrays of ``variable`` (a dict, empty before its first update)."""
        rec = self._records.get(id(variable))
        return dict(rec[1]) if rec is not None else {}

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay: those in ``var_list``, and those whose name contains
        any string of ``var_names`` (e.g. ``["bias"]``)."""
        self._exclude_ids = {id(v) for v in (var_list or ())}
        self._exclude_names = tuple(var_names or ())
        for rec in self._records.values():
            rec[2] = self._use_weight_decay(rec[0])

    def _use_weight_decay(self, var):
        if id(var) in self._exclude_ids:
            return False
        name = getattr(var, "name", None) or ""
        return not any(part in name for part in self._exclude_names)

    # set by neurona.distributed while a data-parallel fit runs: [(grad, var)] -> the pairs summed across the
    # processes, or None when every process skips this step; and this process's share of the step's global
    # batch, which scale_loss applies to the loss (then _loss_share_applied tells the reducer not to apply it)
    _gradient_reducer = None
    _loss_share, _loss_share_applied = None, False

    # ---- applying gradients --------------------------------------------------------------------
    def scale_loss(self, loss):
        """The loss that ``backward`` is called on: ``loss`` itself (``LossScaleOptimizer`` multiplies it; in a
        data-parallel step, this process's share of the global batch does; ``loss_scale_factor`` too)."""
        factor = self.loss_scale_factor
        if self._loss_share is None:
            return loss if factor is None else loss * factor
        return loss * self._distributed_factor(1.0 if factor is None else factor)

    def _distributed_factor(self, factor):
        """``factor`` times this process's share of a data-parallel step (recorded as applied), else itself."""
        if self._loss_share is None:
            return factor
        self._loss_share_applied = True
        return factor * self._loss_share

    def apply(self, variables):
        """One update of ``variables`` from their ``.grad`` (the low-level training loop's step).

        Variables whose ``grad`` is None or that are not trainable are skipped.

        Args:
            variables: an iterable of Variables (or Tensors with ``requires_grad``).
        """
        pairs, seen = [], False
        for var in variables:
            seen = True
            if var.grad is not None and _is_trainable(var):
                pairs.append((var.grad, var))
        pairs = reduce_gradients(self, pairs, write_back=True)
        if pairs is not None:
            self._apply_pairs(pairs, given=seen)

    def apply_gradients(self, grads_and_vars):
        """One update from explicit ``(gradient, variable)`` pairs (Keras's ``apply_gradients``).

        Gradients are arrays or Tensors shaped like their variables; None gradients and
        non-trainable variables are skipped.

        Returns:
            The step count after the update.
        """
        pairs, seen = [], False
        for grad, var in grads_and_vars:
            seen = True
            if grad is not None and _is_trainable(var):
                pairs.append((grad.data if isinstance(grad, Tensor) else grad, var))
        pairs = reduce_gradients(self, pairs)
        if pairs is not None:
            self._apply_pairs(pairs, given=seen)
        return self.iterations

    def _apply_pairs(self, pairs, given):
        if not pairs:
            if given:
                raise ValueError(f"{type(self).__name__}: no gradient for any trainable variable "
                                 "(was backward() called on the loss?)")
            return
        pairs = self._unscaled_by_factor([(self._checked_grad(g, v.data, v), v) for g, v in pairs])
        if self.gradient_accumulation_steps:
            pairs = self._accumulated(pairs)  # None until every N-th call, then the N gradients' mean
            if pairs is None:
                self._end_call()
                return
        if self.clipvalue is not None or self.clipnorm is not None or self.global_clipnorm is not None:
            pairs = self._clip(pairs)
        lr = self.learning_rate
        if lr < 0:
            raise ValueError(f"{type(self).__name__}: the learning-rate schedule returned {lr!r} at step "
                             f"{self.iterations}; expected a value >= 0")
        self._prepare_step(lr, self.iterations + 1)
        decay = 1.0 - lr * self.weight_decay if self.weight_decay else None
        records, update = self._records, self.update_step
        for grad, var in pairs:
            rec = records.get(id(var)) or self._record(var)
            data = var.data
            if decay is not None and rec[2]:
                data *= decay
            update(grad, data, lr, rec[1])
        self._end_call()
        self.iterations += 1
        self._accumulated_steps = 0
        if self.iterations % FLUSH_EVERY == 0:
            self._flush_tiny_slots()

    def _flush_tiny_slots(self):
        """Zero slot values too small to matter before they decay into slow subnormal arithmetic."""
        for _, slots, _ in self._records.values():
            for arr in slots.values():
                if backend.is_floating(arr.dtype):
                    xp = backend.xp_of(arr)
                    threshold = float(backend.dtypes.finfo(arr.dtype).tiny) * FLUSH_FACTOR
                    arr[xp.abs(arr) < threshold] = 0

    @staticmethod
    def _checked_grad(grad, data, var):
        if grad.shape != data.shape:
            raise ValueError(f"gradient of shape {grad.shape} does not match variable "
                             f"{getattr(var, 'name', None)!r} of shape {data.shape}")
        if type(grad) is not type(data):  # e.g. a NumPy gradient for a CuPy variable
            grad = backend.to_device(grad, backend.device_of(data))
        return grad if grad.dtype == data.dtype else grad.astype(data.dtype)

    def _clip(self, pairs):
        """Clipped copies of the gradients (the caller's ``.grad`` arrays are never modified)."""
        if self.clipvalue is not None:
            c = self.clipvalue
            return [(backend.xp_of(g).clip(g, -c, c), v) for g, v in pairs]
        norms = [_l2_norm(g) for g, _ in pairs]
        if self.clipnorm is not None:
            c = self.clipnorm
            return [(g * (c / n) if n > c else g, v) for (g, v), n in zip(pairs, norms)]
        total = math.sqrt(sum(n * n for n in norms))
        if total <= self.global_clipnorm:
            return pairs
        scale = self.global_clipnorm / total
        return [(g * scale, v) for g, v in pairs]

    # ---- state (slots and step count) for checkpoints ------------------------------------------
    def get_state(self, variables):
        """The optimizer state, with slots listed in the order of ``variables``.

        Returns:
            ``{"iterations": int, "learning_rate": float or None (None for a schedule),
            "slots": [dict name -> NumPy array, one per variable; empty if it has no slots yet]}``.
            The arrays are copies: later steps do not change them.
        """
        slots = []
        for var in variables:
            rec = self._records.get(id(var))
            slots.append({} if rec is None else {k: backend.asnumpy(a).copy() for k, a in rec[1].items()})
        lr = None if callable(self._learning_rate) else self._learning_rate
        return {"iterations": self.iterations, "learning_rate": lr, "slots": slots, **self._options_state()}

    def set_state(self, state, variables):
        """Restore a ``get_state`` result for ``variables`` (same order); later steps then match exactly.

        Raises:
            ValueError: if the number of variables, a slot name or a slot shape does not match.
        """
        entries = state["slots"]
        variables = list(variables)
        if len(entries) != len(variables):
            raise ValueError(f"{type(self).__name__}.set_state: the state has slots for {len(entries)} variables, "
                             f"but {len(variables)} variables were given")
        expected = set(self._slot_names())
        for var, entry in zip(variables, entries):
            shapes = self._slot_shapes(var.data.shape)
            if entry and set(entry) != expected:
                raise ValueError(f"{type(self).__name__}.set_state: variable {getattr(var, 'name', None)!r} has "
                                 f"slots {sorted(entry)}, expected {sorted(expected)}")
            for key, arr in entry.items():
                if tuple(arr.shape) != shapes[key]:
                    raise ValueError(f"{type(self).__name__}.set_state: slot {key!r} of shape {tuple(arr.shape)} "
                                     f"does not match variable {getattr(var, 'name', None)!r} of shape "
                                     f"{var.data.shape} (expected {shapes[key]})")
        for var, entry in zip(variables, entries):
            self._set_slots(var, entry)
        self.iterations = int(state["iterations"])
        self._set_options_state(state)
        if state.get("learning_rate") is not None and not callable(self._learning_rate):
            self.learning_rate = state["learning_rate"]

    def _set_slots(self, var, entry):
        if not entry:
            self._records.pop(id(var), None)
            return
        xp = backend.xp_of(var.data)
        slots = {k: xp.array(backend.to_device(a, backend.device_of(var.data)), dtype=var.data.dtype)
                 for k, a in entry.items()}
        self._records[id(var)] = [var, slots, self._use_weight_decay(var)]

    # ---- config --------------------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments as a JSON-safe dict (a schedule is serialized by the schedules module)."""
        return {
            "name": self.name,
            "learning_rate": _serialize_learning_rate(self._learning_rate),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
            **self._options_config(),
        }

    @classmethod
    def from_config(cls, config):
        """Rebuild an optimizer from ``get_config()``'s output (a config that does not fit is a ValueError)."""
        if not isinstance(config, dict):
            raise ValueError(f"{cls.__name__}.from_config needs a dict of constructor arguments, got {config!r}")
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _deserialize_learning_rate(config["learning_rate"])
        return construct(cls, config, "optimizer")

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self._learning_rate!r} " \
               f"iterations={self.iterations}>"


def reduce_gradients(optimizer, pairs, write_back=False):
    """``pairs`` through the optimizer's gradient reducer (data-parallel training), else themselves.

    With ``write_back`` each variable's ``.grad`` becomes its summed gradient (what diagnostics then read).
    Returns None when the step is skipped on every process.
    """
    reducer = optimizer._gradient_reducer
    if reducer is None:
        return pairs
    reduced = reducer(pairs)
    if reduced is not None and write_back:
        for grad, var in reduced:
            var.grad = backend.to_device(grad, backend.device_of(var.data))
    return reduced


def _is_trainable(var):
    return getattr(var, "trainable", var.requires_grad)


def _l2_norm(g):
    flat = g.reshape(-1)
    return math.sqrt(float(backend.xp_of(g).dot(flat, flat)))


def _schedules_module(action):
    try:
        from . import schedules
    except ImportError:
        raise ValueError(f"cannot {action} a learning-rate schedule: neurona.optimizers.schedules "
                         "is not available") from None
    return schedules


def _serialize_learning_rate(lr):
    if not callable(lr):
        return lr
    return _schedules_module("serialize").serialize(lr)


def _deserialize_learning_rate(config):
    return _schedules_module("deserialize").deserialize(config)
