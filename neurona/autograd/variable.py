"""``Variable``: a named, trainable leaf Tensor (a layer weight), like ``keras.Variable``."""

from .. import backend
from ..arguments import NUMERIC_KINDS, describe_kind
from .tensor import Tensor


class Variable(Tensor):
    """A leaf tensor that optimizers update in place.

    Args:
        data: initial value (an array).
        name: the weight's name, e.g. ``"dense/kernel"``.
        trainable: whether optimizers update it (``requires_grad`` follows it).
        initializer: the initializer that produced ``data``, if any.
    """

    __slots__ = ("_trainable", "initializer")

    def __init__(self, data, name=None, trainable=True, initializer=None):
        super().__init__(data, requires_grad=trainable, name=name)
        self._trainable = bool(trainable)
        self.initializer = initializer  # what drew the initial value (shown by summaries and diagnostics)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, flag):
        self._trainable = bool(flag)
        self.requires_grad = bool(flag)
        if not flag:
            self.grad = None

    def assign(self, value):
        """Copy ``value`` into this variable in place (shapes must match)."""
        value = value.data if isinstance(value, Tensor) else value
        xp = self._xp()
        value = xp.asarray(value)
        if value.shape != self.data.shape:
            raise ValueError(f"cannot assign a value of shape {value.shape} to variable "
                             f"{self.name!r} of shape {self.data.shape}")
        self.data[...] = value

    def assign_add(self, value):
        """``self = self + value`` in place, keeping this variable's dtype and shape (Keras's ``assign_add``).

        ``value`` (a Tensor, array or number) may broadcast to the variable's shape,
        never widen it. The sum is taken first and then stored, so an integer
        variable truncates it as a cast would (``1 + (-0.5)`` stores ``0``).
        """
        self._assign_combined(value, "assign_add", 1)

    def assign_sub(self, value):
        """``self = self - value`` in place, keeping this variable's dtype and shape (see ``assign_add``)."""
        self._assign_combined(value, "assign_sub", -1)

    def _assign_combined(self, value, what, sign):
        data = value.data if isinstance(value, Tensor) else value
        if hasattr(data, "shape") and hasattr(data, "dtype"):
            data = backend.to_device(data, backend.device_of(self.data))
        data = self._xp().asarray(data)
        if data.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"{what}: variable {self.name!r} adds numbers, got a value of dtype {data.dtype} "
                            f"({describe_kind(data.dtype.kind)})")
        shape = self.data.shape
        trailing = shape[len(shape) - data.ndim:] if data.ndim else ()
        if data.ndim > len(shape) or any(d not in (1, s) for d, s in zip(data.shape, trailing)):
            raise ValueError(f"{what}: a value of shape {data.shape} does not fit variable {self.name!r} of "
                             f"shape {self.data.shape}; expected that shape or one that broadcasts to it")
        self.data[...] = self.data + data if sign > 0 else self.data - data

    def numpy(self):
        return super().numpy().copy()

    def __repr__(self):
        return f"<Variable {self.name!r} shape={self.shape} dtype={self.dtype} trainable={self.trainable}>"
