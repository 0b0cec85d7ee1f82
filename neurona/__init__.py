"""Neurona: deep learning from first principles.

Its own backpropagation engine over NumPy (CPU) and CuPy (GPU), a
Keras-compatible model API, and weight initialization made visible.
"""

from . import backend, ops
from .autograd import Function, GradcheckError, Tensor, Variable, enable_grad, gradcheck, no_grad
from .backend import floatx, get_device, seed, set_device, set_floatx

__version__ = "0.1.0"
