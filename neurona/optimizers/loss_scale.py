"""``LossScaleOptimizer``: dynamic loss scaling for float16 training (Keras 3's class of that name).

float16 flushes gradients below 2**-24 (about 6e-8) to zero. Micikevicius et al. 2018 ("Mixed precision
training", section 3.2) multiply the loss by a scale ``S`` before the backward pass, so that every
intermediate gradient is ``S`` times larger and stays representable, and divide the float32 gradients by
``S`` before the update. The scale is found dynamically:

- a step whose gradients hold inf or NaN (the scaled values overflowed float16's 65504) is skipped: no
  weight, slot or step count changes, and ``S`` is halved;
- after ``dynamic_growth_steps`` steps in a row with finite gradients, ``S`` is doubled.

``Model.compile`` wraps the optimizer in one when the model's dtype policy is ``"mixed_float16"``
(``auto_scale_loss=True``, as in Keras); bfloat16 has float32's range and needs none.
"""

import math

from .. import backend
from ..autograd import Tensor
from .base import Optimizer, _is_trainable, check_float, reduce_gradients


class LossScaleOptimizer(Optimizer):
    """An optimizer that scales the loss and unscales the gradients of ``inner_optimizer``.

    Args:
        inner_optimizer: the optimizer that applies the (unscaled) gradients.
        initial_scale: the first loss scale (Keras's default ``2**15``: too high a scale is lowered in a few
            skipped steps, too low a one is raised only every ``dynamic_growth_steps``).
        dynamic_growth_steps: how many steps with finite gradients double the scale.
        name: a label.

    Attributes:
        dynamic_scale: the current loss scale.
        step_counter: finite steps since the scale last changed.
        skipped_steps: how many steps were skipped for non-finite gradients (Neurona's count).
    """

    def __init__(self, inner_optimizer=None, initial_scale=2.0**15, dynamic_growth_steps=2000, name=None):
        if not isinstance(inner_optimizer, Optimizer) or isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError(f"LossScaleOptimizer wraps an optimizer (other than a LossScaleOptimizer), got "
                            f"{inner_optimizer!r}")
        if isinstance(dynamic_growth_steps, bool) or not isinstance(dynamic_growth_steps, int) or \
                dynamic_growth_steps < 1:
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be an integer >= 1, got "
                             f"{dynamic_growth_steps!r}")
        # the base __init__ is not run: the inner optimizer holds the learning rate, the slots and the step count
        self.inner_optimizer = inner_optimizer
        self.initial_scale = check_float("initial_scale", initial_scale, 0.0, low_open=True,
                                         owner="LossScaleOptimizer")
        self.dynamic_growth_steps = dynamic_growth_steps
        self.name = name if name is not None else "loss_scale_optimizer"
        self.dynamic_scale = self.initial_scale
        self.step_counter = 0
        self.skipped_steps = 0

    def __getattr__(self, name):  # what is not the scaler's is the inner optimizer's (clipnorm, schedule, ...)
        inner = self.__dict__.get("inner_optimizer")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        """The inner optimizer's step count (skipped steps are not counted)."""
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        self.inner_optimizer.iterations = value

    # ---- scaling -------------------------------------------------------------------------------
    def scale_loss(self, loss):
        """``loss * dynamic_scale``: what ``backward`` is called on (times this process's share in a data-parallel
        step, so that the scaled gradients are as large as one process's over the global batch)."""
        return loss * self._distributed_factor(self.dynamic_scale)

    def apply(self, variables):
        """One update from the scaled ``.grad`` of ``variables``, or a skipped step if one is not finite.

        After an update each ``.grad`` holds the unscaled gradient (what diagnostics read). The low-level loop
        under float16 is ``optimizer.scale_loss(loss).backward(); optimizer.apply(weights)``: without
        ``scale_loss`` the gradients would be divided by a scale they were never multiplied by.
        """
        variables = list(variables)
        pairs = [(var.grad, var) for var in variables if var.grad is not None and _is_trainable(var)]
        if not pairs and variables:
            self.inner_optimizer.apply(variables)  # its error: no gradient for any trainable variable
            return
        pairs = reduce_gradients(self, pairs)  # data-parallel: the scaled gradients summed (an inf reaches all)
        if pairs is None:
            return
        unscaled = self._unscaled(pairs)
        if unscaled is None:
            return
        for (_, var), (grad, _) in zip(pairs, unscaled):
            var.grad = grad
        self.inner_optimizer.apply_gradients(unscaled)
        self._count_finite_step()

    def apply_gradients(self, grads_and_vars):
        """Keras's ``apply_gradients`` with scaled gradients; returns the (inner) step count."""
        given = list(grads_and_vars)
        pairs = [(g, v) for g, v in given if g is not None and _is_trainable(v)]
        if not pairs:
            return self.inner_optimizer.apply_gradients(given)  # its error when a gradient was expected
        pairs = reduce_gradients(self, pairs)
        if pairs is None:
            return self.iterations
        unscaled = self._unscaled(pairs)
        if unscaled is not None:
            self.inner_optimizer.apply_gradients(unscaled)
            self._count_finite_step()
        return self.iterations

    def _unscaled(self, pairs):
        """``[(gradient / scale, variable)]``, or None (scale halved, step skipped) if a gradient is not finite."""
        grads = [g.data if isinstance(g, Tensor) else g for g, _ in pairs]
        if not all(_finite(g) for g in grads):
            self.dynamic_scale /= 2.0
            self.step_counter = 0
            self.skipped_steps += 1
            return None
        inverse = 1.0 / self.dynamic_scale
        return [(g * inverse, v) for g, (_, v) in zip(grads, pairs)]

    def _count_finite_step(self):
        self.step_counter += 1
        if self.step_counter >= self.dynamic_growth_steps:
            self.dynamic_scale *= 2.0
            self.step_counter = 0

    # ---- the inner optimizer's bookkeeping -----------------------------------------------------
    def build(self, variables):
        return self.inner_optimizer.build(variables)

    def slots(self, variable):
        return self.inner_optimizer.slots(variable)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        return self.inner_optimizer.exclude_from_weight_decay(var_list=var_list, var_names=var_names)

    def _slot_names(self):
        return self.inner_optimizer._slot_names()

    def _slot_shapes(self, shape):
        return self.inner_optimizer._slot_shapes(shape)

    def finalize_variable_values(self, var_list):
        return self.inner_optimizer.finalize_variable_values(var_list)

    def get_state(self, variables):
        """The inner optimizer's state, with ``"loss_scale"``: the scale and its step counter."""
        state = self.inner_optimizer.get_state(variables)
        state["loss_scale"] = {"scale": self.dynamic_scale, "step_counter": self.step_counter}
        return state

    def set_state(self, state, variables):
        scale = state.get("loss_scale")
        if scale is not None:
            value, counter = scale.get("scale"), scale.get("step_counter")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or \
                    not math.isfinite(value) or isinstance(counter, bool) or not isinstance(counter, int) or \
                    counter < 0:
                raise ValueError(f"LossScaleOptimizer.set_state: 'loss_scale' must hold a scale > 0 and a "
                                 f"step_counter >= 0, got {scale!r}")
        self.inner_optimizer.set_state({k: v for k, v in state.items() if k != "loss_scale"}, variables)
        if scale is not None:
            self.dynamic_scale, self.step_counter = float(value), counter

    def get_config(self):
        from . import serialize  # the package's registry (it imports this module)

        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config):
        from . import deserialize

        if not isinstance(config, dict) or "inner_optimizer" not in config:
            raise ValueError(f"LossScaleOptimizer.from_config needs the inner_optimizer's config, got {config!r}")
        config = dict(config)
        if not isinstance(config["inner_optimizer"], Optimizer):  # its config (or an optimizer already)
            config["inner_optimizer"] = deserialize(config["inner_optimizer"])
        return super().from_config(config)

    def __repr__(self):
        return f"<LossScaleOptimizer inner={self.inner_optimizer!r} dynamic_scale={self.dynamic_scale}>"


def _finite(array):
    return bool(backend.xp_of(array).isfinite(array).all())
