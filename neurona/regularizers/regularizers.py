"""Weight penalties added to the loss: L1, L2 and their sum (Keras 3 semantics)."""

import math
import numbers

from .. import ops
from ..autograd import Tensor
from ..registry import Configurable


def _coefficient(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(float(value)) or value < 0:
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class Regularizer(Configurable):
    """Base class: ``regularizer(weight) -> scalar Tensor`` added to the training loss.

    The penalty is built from ``neurona.ops``, so backpropagating the total loss
    adds its gradient to the weight's ``.grad``.
    """

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")


class L1(Regularizer):
    """Lasso penalty ``l1 * sum(|x|)``; its subgradient ``l1 * sign(x)`` drives weights to exactly zero.

    Reference: R. Tibshirani, "Regression Shrinkage and Selection via the Lasso", JRSS B, 1996.

    Args:
        l1: coefficient >= 0. Defaults to 0.01.
    """

    def __init__(self, l1=0.01):
        self.l1 = _coefficient("L1", "l1", l1)

    def __call__(self, x):
        return ops.abs(_as_tensor(x)).sum() * self.l1

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """Ridge / weight-decay penalty ``l2 * sum(x^2)`` (no factor 1/2, as in Keras); gradient ``2 l2 x``.

    Reference: A. E. Hoerl, R. W. Kennard, "Ridge Regression", Technometrics, 1970.

    Args:
        l2: coefficient >= 0. Defaults to 0.01.
    """

    def __init__(self, l2=0.01):
        self.l2 = _coefficient("L2", "l2", l2)

    def __call__(self, x):
        return ops.square(_as_tensor(x)).sum() * self.l2

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """Elastic-net penalty ``l1 * sum(|x|) + l2 * sum(x^2)``.

    Reference: H. Zou, T. Hastie, "Regularization and variable selection via the elastic net", JRSS B, 2005.

    Args:
        l1: L1 coefficient >= 0. Defaults to 0.
        l2: L2 coefficient >= 0. Defaults to 0.
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _coefficient("L1L2", "l1", l1)
        self.l2 = _coefficient("L1L2", "l2", l2)

    def __call__(self, x):
        x = _as_tensor(x)
        terms = []
        if self.l1:
            terms.append(ops.abs(x).sum() * self.l1)
        if self.l2:
            terms.append(ops.square(x).sum() * self.l2)
        if not terms:  # both coefficients zero: a constant 0 of the weight's dtype
            return Tensor(x._xp().zeros((), dtype=x.dtype))
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# Keras's lowercase spellings: regularizers.l2(0.01) is an L2 object.
l1 = L1
l2 = L2
l1_l2 = L1L2
