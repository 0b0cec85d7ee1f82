"""``Variable``: a named, trainable leaf Tensor (a layer weight), like ``keras.Variable``."""

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

    def numpy(self):
        return super().numpy().copy()

    def __repr__(self):
        return f"<Variable {self.name!r} shape={self.shape} dtype={self.dtype} trainable={self.trainable}>"
