"""``Tensor``: an array plus what backpropagation needs (``grad`` and the op that made it).

The arithmetic operators (``+``, ``@``, ``**``, indexing, ``.sum()``, ``.relu()``
...) are differentiable ops defined in ``neurona.ops``; that package installs
them on this class when it is imported (``neurona`` always imports it), so the
autograd layer never imports the layer above it.
"""

from .. import backend
from ..arguments import NUMERIC_KINDS, describe_kind
from . import engine


def check_dtype(dtype, owner="Tensor"):
    """``dtype`` as a dtype object, refused unless it holds booleans, integers or floats.

    The same rule as for a Tensor's data: a Tensor never holds text, Python
    objects, complex numbers or dates, whether they come in as data or as the
    target of a conversion (``Tensor(..., dtype=str)``, ``ops.cast(t, object)``).

    Args:
        dtype: anything ``numpy.dtype`` understands (``"float32"``, ``np.int64``, a dtype object).
        owner: who asks, named first in the error (``"Tensor"``, ``"cast"``).

    Raises:
        TypeError: ``dtype`` is None, names no dtype, or names one of another kind than b/i/u/f.
    """
    try:
        resolved = None if dtype is None else backend.dtypes.as_dtype(dtype)
    except (TypeError, ValueError):
        resolved = None
    if resolved is None:
        raise TypeError(f"{owner}: {dtype!r} is not a dtype (expected e.g. 'float32', 'float64', 'int64')")
    if resolved.kind not in NUMERIC_KINDS and not backend.dtypes.is_bfloat16(resolved):
        raise TypeError(f"{owner}: a Tensor holds booleans, integers or floats; got dtype {dtype!r}, which is "
                        f"{resolved} ({describe_kind(resolved.kind)}): expected a bool, integer "
                        "or float dtype such as 'float32' or 'int64'")
    return resolved


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    Args:
        data: an array (NumPy or CuPy), a Tensor, or nested Python numbers.
        requires_grad: whether backward() should compute a gradient for it.
        dtype: convert to this bool, integer or float dtype; by default arrays
            keep theirs and Python floats become ``backend.floatx()`` (float32).
        name: optional label shown in repr and diagnostics.

    Attributes:
        data: the array.
        grad: the accumulated gradient (same shape as data) or None.
    """

    # _keras_mask: the (batch, time) mask a layer attached to its output (layers.base: Keras's masking)
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "name", "_hooks", "_keras_mask", "__weakref__")
    __array_priority__ = 1000  # so ndarray (op) Tensor dispatches to Tensor's reflected operators

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if dtype is not None:
            dtype = check_dtype(dtype)
        if isinstance(data, Tensor):
            data = data.data
        xp = backend.get_xp()
        if not isinstance(data, xp.ndarray):
            if hasattr(data, "shape") and hasattr(data, "dtype"):  # an array of another device
                data = backend.to_device(data)
            else:
                data = xp.asarray(data)
                if dtype is None and data.dtype.kind == "f":  # Python floats: floatx
                    dtype = backend.floatx()
        if data.dtype.kind not in NUMERIC_KINDS and not backend.dtypes.is_bfloat16(data.dtype):
            raise TypeError(f"a Tensor holds booleans, integers or floats; got an array of dtype {data.dtype} "
                            f"({describe_kind(data.dtype.kind)}): convert it to numbers first")
        if dtype is not None and data.dtype != dtype:
            data = data.astype(dtype)
        if requires_grad and not backend.is_floating(data.dtype):
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {data.dtype}")
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self.name = name
        self._hooks = None  # gradient hooks (``register_hook``, installed by autograd/hooks.py), by handle id

    @classmethod
    def _wrap(cls, data, requires_grad):
        """Fast constructor for op outputs (no conversion or checks)."""
        t = cls.__new__(cls)
        t.data, t.grad, t.requires_grad, t._ctx, t.name, t._hooks = data, None, requires_grad, None, None, None
        return t

    # ---- array facts -------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (weights, inputs)."""
        return self._ctx is None

    def _xp(self):
        return backend.xp_of(self.data)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self):
        extra = ", requires_grad=True" if self.requires_grad else ""
        label = f", name={self.name!r}" if self.name else ""
        return f"Tensor({backend.asnumpy(self.data)!r}{extra}{label})"

    # ---- conversion ----------------------------------------------------------------------------
    def numpy(self):
        """The values as a NumPy array (copied from the GPU if needed)."""
        return backend.asnumpy(self.data)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr.astype(dtype) if dtype is not None else arr

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    def __hash__(self):  # tensors are graph nodes: hash by identity, as in PyTorch
        return id(self)

    # ``==`` and ``!=`` compare elementwise, as NumPy and PyTorch: a boolean Tensor outside the graph. Hashing
    # stays by identity, so sets and dicts of tensors still work; ``t in a_list`` compares values, so code that
    # looks for a tensor in a list must compare identities (``any(t is w for w in weights)``).
    def __eq__(self, other):
        return self._compare(other, "equal")

    def __ne__(self, other):
        return self._compare(other, "not_equal")

    def _compare(self, other, name):
        xp = backend.xp_of(self.data)
        if isinstance(other, Tensor):
            other = other.data
        elif other is None or isinstance(other, (str, bytes)):
            return NotImplemented  # ``t == None`` is False, as in PyTorch, not an array of Falses
        else:
            try:
                other = xp.asarray(other)
            except (TypeError, ValueError):  # ragged lists, objects
                return NotImplemented
            if other.dtype.kind not in NUMERIC_KINDS:
                return NotImplemented
        try:
            result = getattr(xp, name)(self.data, other)
        except ValueError:
            raise ValueError(f"cannot compare a tensor of shape {self.shape} with one of shape {other.shape}: the "
                             "shapes do not broadcast together") from None
        return Tensor._wrap(xp.asarray(result), False)

    def detach(self):
        """A tensor sharing this data, cut from the graph (requires_grad=False)."""
        return Tensor._wrap(self.data, False)

    # ``astype(dtype)`` and ``to(device or dtype)`` are the differentiable ``ops.cast`` / ``ops.to_device``,
    # installed by ``neurona.ops`` with the operators (the autograd layer does not import the ops above it).

    # ---- autograd ------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Backpropagate from this tensor, filling ``.grad`` of the leaves that require it.

        Args:
            grad: gradient of the final objective w.r.t. this tensor; defaults to 1
                for a one-element tensor.
            retain_graph: keep the graph for another backward through it.
        """
        engine.backward(self, grad, retain_graph)

    def zero_grad(self):
        """Forget the accumulated gradient."""
        self.grad = None

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place and return self (PyTorch style)."""
        if flag and not backend.is_floating(self.data.dtype):
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(flag)
        return self
