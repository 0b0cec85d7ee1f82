"""Reverse-mode automatic differentiation: Tensor, Function, engine, gradcheck."""

from .engine import backward, enable_grad, grad_enabled, no_grad, unbroadcast
from .function import Function
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .hooks import RemovableHandle
from .tensor import Tensor
from .variable import Variable

__all__ = [
    "Tensor", "Variable", "Function", "backward", "no_grad", "enable_grad", "grad_enabled", "unbroadcast",
    "gradcheck", "numerical_grad", "GradcheckError", "RemovableHandle",
]
