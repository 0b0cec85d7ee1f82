"""Differentiable primitives, one small Function class each, with functional wrappers: ``keras.ops`` by name.

``import neurona as keras; keras.ops.einsum("ij,jk->ik", a, b)`` works for the
functions of ``keras.ops`` that programs commonly use, with Keras's signatures:
they take Tensors, NumPy arrays, Python numbers and lists, and return Tensors.
``__all__`` lists the differentiable ones (every one is gradient-checked by the
op harness); ``NON_DIFFERENTIABLE`` the others: creation, facts (``shape``,
``size``, ``ndim``, Python values), comparisons, indices and counts, whose
results have ``requires_grad=False``. Every public function goes through
``dispatch.public_op``, the hook through which the functional-model code
records calls on symbolic inputs.

Importing this package also gives ``Tensor`` its operators and methods
(``a + b``, ``a @ b``, ``a[i]``, ``a.sum()``, ``a.relu()`` ...), all of which
call the wrappers below directly (a Tensor is never symbolic).
"""

from ..autograd import Tensor
from . import dispatch
from .activation import elu, gelu, leaky_relu, log_softmax, selu, sigmoid, softmax, softplus, tanh
from .activation_extra import celu, glu, log_sigmoid, relu
from .cast import cast, is_device, to_device
from .comparison import (
    equal,
    greater,
    greater_equal,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    not_equal,
)
from .convolution import conv1d, conv2d
from .core import array, convert_to_numpy, convert_to_tensor, copy, ndim, shape, size, stop_gradient
from .creation import arange, eye, full, full_like, identity, linspace, ones, ones_like, zeros, zeros_like
from .dilation import dilate
from .einsum import einsum
from .elementwise import abs, add, clip, div, exp, log, maximum, minimum, mul, neg, pow, sqrt, square, sub, where
from .indexing import diag, one_hot, take, take_along_axis, tril, triu
from .keras_nn import average_pool, conv, max_pool
from .linalg import dense, dot, matmul, norm, outer, tensordot
from .losses import sigmoid_cross_entropy, softmax_cross_entropy
from .math_extra import (
    absolute,
    arctan,
    ceil,
    cos,
    cosh,
    divide,
    erf,
    expm1,
    floor,
    floor_divide,
    log1p,
    log2,
    log10,
    mod,
    multiply,
    negative,
    power,
    reciprocal,
    round,
    rsqrt,
    sign,
    sin,
    sinh,
    subtract,
    tan,
    true_divide,
)
from .nn import (
    binary_crossentropy,
    categorical_crossentropy,
    hard_sigmoid,
    hard_silu,
    mish,
    moments,
    normalize,
    relu6,
    silu,
    softsign,
    sparse_categorical_crossentropy,
    swish,
)
from .normalization import batch_normalization, standardize
from .pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .reduction import max, mean, min, sum
from .reduction_extra import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    count_nonzero,
    cumprod,
    cumsum,
    logsumexp,
    prod,
    sort,
    std,
    top_k,
    var,
)
from .shape import concatenate, expand_dims, flatten, getitem, reshape, squeeze, stack, transpose
from .shape_extra import broadcast_to, flip, moveaxis, pad, ravel, repeat, slice, split, swapaxes, tile
from .volumetric import avg_pool3d, conv3d, max_pool3d

__all__ = [
    "abs", "add", "clip", "div", "exp", "log", "mul", "neg", "pow", "sqrt", "square", "sub", "where",
    "max", "mean", "min", "sum", "concatenate", "expand_dims", "flatten", "getitem", "reshape", "squeeze",
    "stack", "transpose", "matmul", "dense", "elu", "gelu", "leaky_relu", "log_softmax", "relu", "selu", "sigmoid",
    "softmax", "softplus", "tanh", "sigmoid_cross_entropy", "softmax_cross_entropy", "conv1d", "conv2d",
    "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d", "batch_normalization", "standardize", "cast",
    "to_device",
    # keras.ops names (differentiable; sign, floor, ceil, round and floor_divide with gradient 0)
    "subtract", "multiply", "divide", "true_divide", "negative", "power", "absolute", "maximum", "minimum",
    "expm1", "log1p", "log2", "log10", "rsqrt", "reciprocal", "sin", "cos", "tan", "sinh", "cosh", "arctan",
    "erf", "sign", "floor", "ceil", "round", "floor_divide", "mod",
    "prod", "var", "std", "amax", "amin", "logsumexp", "cumsum", "cumprod", "sort", "top_k", "norm",
    "einsum", "tensordot", "dot", "outer",
    "broadcast_to", "tile", "repeat", "flip", "pad", "swapaxes", "moveaxis", "ravel", "split", "slice",
    "dilate", "conv3d", "max_pool3d", "avg_pool3d",
    "take", "take_along_axis", "diag", "tril", "triu", "copy", "convert_to_tensor", "array",
    "relu6", "hard_sigmoid", "softsign", "silu", "swish", "hard_silu", "mish", "normalize", "moments",
    "celu", "glu", "log_sigmoid",
    "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "conv", "max_pool", "average_pool",
]

# keras.ops names whose results carry no gradient (requires_grad=False), or that are Python values
NON_DIFFERENTIABLE = [fn.__name__ for fn in (
    ones, zeros, full, ones_like, zeros_like, full_like, eye, identity, arange, linspace, convert_to_numpy, shape,
    size, ndim, stop_gradient, one_hot, equal, not_equal, greater, greater_equal, less, less_equal, logical_and,
    logical_or, logical_not, isnan, isinf, isfinite, argmax, argmin, argsort, all, any, count_nonzero,
)]


def _compare(op):
    def method(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, other), False)  # comparisons are not differentiable

    return method


def _install_tensor_methods():
    import operator

    def reshape_method(self, *sizes):
        return reshape(self, sizes[0] if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes)

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


def _publish():
    """Every public function behind ``dispatch.public_op`` (after the Tensor methods took the plain ones)."""
    namespace = globals()
    for name in __all__ + NON_DIFFERENTIABLE:
        namespace[name] = dispatch.public_op(namespace[name])


_install_tensor_methods()
_publish()
