"""Differentiable primitives, one small Function class each, with functional wrappers.

Importing this package also gives ``Tensor`` its operators and methods
(``a + b``, ``a @ b``, ``a[i]``, ``a.sum()``, ``a.relu()`` ...), all of which
call the wrappers below.
"""

from ..autograd import Tensor
from .activation import elu, gelu, leaky_relu, log_softmax, relu, selu, sigmoid, softmax, softplus, tanh
from .cast import cast, is_device, to_device
from .conv import conv1d, conv2d
from .elementwise import abs, add, clip, div, exp, log, mul, neg, pow, sqrt, square, sub, where
from .linalg import matmul
from .losses import sigmoid_cross_entropy, softmax_cross_entropy
from .normalization import batch_normalization, standardize
from .pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .reduction import max, mean, min, sum
from .shape import concatenate, expand_dims, flatten, getitem, reshape, squeeze, stack, transpose

__all__ = [
    "abs", "add", "clip", "div", "exp", "log", "mul", "neg", "pow", "sqrt", "square", "sub", "where",
    "max", "mean", "min", "sum", "concatenate", "expand_dims", "flatten", "getitem", "reshape", "squeeze",
    "stack", "transpose", "matmul", "elu", "gelu", "leaky_relu", "log_softmax", "relu", "selu", "sigmoid",
    "softmax", "softplus", "tanh", "sigmoid_cross_entropy", "softmax_cross_entropy", "conv1d", "conv2d",
    "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d", "batch_normalization", "standardize", "cast",
    "to_device",
]


def _compare(op):
    def method(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, other), False)  # comparisons are not differentiable

    return method


def _install_tensor_methods():
    import operator

    def reshape_method(self, *shape):
        return reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    def to_method(self, target=None, dtype=None, device=None):
        """``t.to("cuda")`` / ``t.to("cpu")`` moves it, ``t.to("float64")`` casts it, and
        ``t.to(device=..., dtype=...)`` does both, as in PyTorch (all differentiable)."""
        if target is not None:
            if device is not None or dtype is not None:
                raise TypeError("Tensor.to: give a device or dtype positionally, or device=/dtype=, not both")
            device, dtype = (target, None) if is_device(target) else (None, target)
        out = self if device is None else to_device(self, device)
        return out if dtype is None else cast(out, dtype)

    def astype_method(self, dtype, copy=True):
        """A tensor of ``dtype``: a new one by default, as NumPy's ``astype`` (differentiable)."""
        return cast(self, dtype, copy=copy)

    def transpose_method(self, *axes):
        return transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None))

    methods = {
        "__add__": add, "__radd__": lambda a, b: add(b, a),
        "__sub__": sub, "__rsub__": lambda a, b: sub(b, a),
        "__mul__": mul, "__rmul__": lambda a, b: mul(b, a),
        "__truediv__": div, "__rtruediv__": lambda a, b: div(b, a),
        "__pow__": pow, "__rpow__": lambda a, b: pow(b, a),
        "__matmul__": matmul, "__rmatmul__": lambda a, b: matmul(b, a),
        "__neg__": neg, "__abs__": abs, "__getitem__": getitem,
        "__lt__": _compare(operator.lt), "__le__": _compare(operator.le),
        "__gt__": _compare(operator.gt), "__ge__": _compare(operator.ge),
        "sum": sum, "mean": mean, "max": max, "min": min,
        "reshape": reshape_method, "transpose": transpose_method, "T": property(lambda t: transpose(t)),
        "flatten": flatten, "squeeze": squeeze, "expand_dims": expand_dims,
        "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "clip": clip, "square": square,
        "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "log_softmax": log_softmax,
        "matmul": matmul, "astype": astype_method, "to": to_method,
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


_install_tensor_methods()
