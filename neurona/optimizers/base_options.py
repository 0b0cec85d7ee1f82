"""The Keras 3 options of every optimizer beyond clipping and weight decay, mixed into ``Optimizer``.

- ``use_ema``: an exponential moving average (EMA) of the weights, updated after every ``apply``::

      average <- m * average + (1 - m) * var,   m = 0 at the first step, else ema_momentum

  (Polyak & Juditsky 1992 averaging, in its exponential form). With ``ema_overwrite_frequency = f`` the
  weights are replaced by their averages whenever ``(iterations + 1) % f == 0``; ``fit`` replaces them once
  more after its last epoch (``finalize_variable_values``), as Keras's ``fit`` does.
- ``gradient_accumulation_steps = N``: the first ``N - 1`` of every ``N`` calls only add their gradients to
  an accumulator; the ``N``-th applies the mean of the ``N`` gradients (then clipped and decayed as usual).
  ``iterations`` counts the applied updates (Keras's ``iterations``, the calls divided by ``N``, which is also
  the step of bias corrections); a learning-rate schedule sees the number of calls, as in Keras.
- ``loss_scale_factor = s``: ``scale_loss`` multiplies the loss by ``s`` and every gradient is divided by
  ``s`` before anything else (a fixed loss scale; ``LossScaleOptimizer`` finds one dynamically).

The per-variable arrays (``"average"``, ``"gradient_accumulator"``) are slots like the rule's own, so
``get_state``/``set_state``, checkpoints and ``model.save`` keep them; the accumulator's position within its
``N`` calls is the state's ``"accumulated_steps"``.
"""

from .. import backend
from ..arguments import check_int


class BaseOptions:
    """Moving average of the weights, gradient accumulation and a fixed loss scale (Keras 3's base options)."""

    def _init_options(self, owner, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                      gradient_accumulation_steps):
        from .base import check_bool, check_float  # here: base.py imports this module

        self.use_ema = check_bool("use_ema", use_ema, owner)
        self.ema_momentum = check_float("ema_momentum", ema_momentum, 0.0, 1.0, owner=owner)
        self.ema_overwrite_frequency = None if ema_overwrite_frequency is None else \
            check_int(ema_overwrite_frequency, owner, "ema_overwrite_frequency", low=1)
        self.loss_scale_factor = None if loss_scale_factor is None else \
            check_float("loss_scale_factor", loss_scale_factor, 0.0, low_open=True, owner=owner)
        self.gradient_accumulation_steps = None if gradient_accumulation_steps is None else \
            check_int(gradient_accumulation_steps, owner, "gradient_accumulation_steps", low=2)
        self._accumulated_steps = 0  # calls since the last applied update (0 .. N - 1)

    def _options_config(self):
        return {"use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency, "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    def _all_slots(self, var_array):
        """The rule's slots (``_create_slots``) and the options' (average, gradient accumulator)."""
        return {**self._create_slots(var_array), **self._option_slots(var_array)}

    def _slot_shapes(self, shape):
        """Slot name -> the shape of that slot for a variable of ``shape`` (override for other shapes)."""
        return {name: tuple(shape) for name in self._slot_names()}

    def _option_slots(self, var_array):
        xp = backend.xp_of(var_array)
        slots = {"average": xp.zeros_like(var_array)} if self.use_ema else {}
        if self.gradient_accumulation_steps:
            slots["gradient_accumulator"] = xp.zeros_like(var_array)
        return slots

    def _schedule_step(self):
        """The step a learning-rate schedule is evaluated at: the calls so far (Keras's raw iteration count)."""
        n = self.gradient_accumulation_steps
        return self.iterations * n + self._accumulated_steps if n else self.iterations

    def _unscaled_by_factor(self, pairs):
        factor = self.loss_scale_factor
        return pairs if factor is None else [(g / factor, v) for g, v in pairs]

    def _accumulated(self, pairs):
        """None after adding the gradients to their accumulators, or on every N-th call the pairs of the N
        gradients' means (every accumulator is then reset, as in Keras, those of variables left out too)."""
        n, records = self.gradient_accumulation_steps, self._records
        accumulators = [(records.get(id(v)) or self._record(v))[1]["gradient_accumulator"] for _, v in pairs]
        if self._accumulated_steps + 1 < n:
            for (g, _), acc in zip(pairs, accumulators):
                acc += g
            self._accumulated_steps += 1
            return None
        means = [((g + acc) / n, v) for (g, v), acc in zip(pairs, accumulators)]
        for _, slots, _ in records.values():
            slots["gradient_accumulator"][...] = 0
        return means  # _accumulated_steps goes back to 0 once the update is counted (_end_call)

    def _end_call(self):
        """After every call: the moving average (Keras updates it even when the call only accumulated), with
        the step count before this call's update is counted."""
        if not self.use_ema:
            return
        momentum = self.ema_momentum if self.iterations else 0.0
        for var, slots, _ in self._records.values():
            m = var.data.dtype.type(momentum)  # Keras's arithmetic: 1 - m is computed in the variable's dtype
            average = slots["average"]
            average[...] = m * average + (1 - m) * var.data
        frequency = self.ema_overwrite_frequency
        if frequency and (self.iterations + 1) % frequency == 0:
            self._overwrite_with_averages(var for var, _, _ in self._records.values())

    def _overwrite_with_averages(self, variables):
        for var in variables:
            rec = self._records.get(id(var))
            if rec is not None and "average" in rec[1]:
                var.data[...] = rec[1]["average"]  # in place: layers hold references to these arrays

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, overwrite the variables of ``var_list`` with their moving averages (``fit`` calls
        it after its last epoch, as Keras's does); otherwise nothing. Variables never updated are left as they
        are."""
        if self.use_ema:
            self._overwrite_with_averages(var_list)

    def _options_state(self):
        return {"accumulated_steps": self._accumulated_steps} if self.gradient_accumulation_steps else {}

    def _set_options_state(self, state):
        n = self.gradient_accumulation_steps
        steps = state.get("accumulated_steps", 0)
        if n and steps is not None:
            self._accumulated_steps = check_int(steps, f"{type(self).__name__}.set_state", "accumulated_steps",
                                                low=0, high=n - 1)
        else:
            self._accumulated_steps = 0
