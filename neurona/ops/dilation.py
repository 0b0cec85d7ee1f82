"""``dilate``: zeros inserted between the elements of chosen axes (the "fractionally strided" input of a
transposed convolution; Dumoulin & Visin, 2016, "A guide to convolution arithmetic for deep learning").

``dilate(x, {1: 2, 2: 3})`` puts 1 zero between neighbours along axis 1 and 2 zeros along axis 2, so an axis of
``n`` elements becomes ``(n - 1) * rate + 1``. The gradient is the upstream gradient at the original positions.
"""

from ..arguments import is_int
from ..autograd import Function
from ..backend import xp_of
from .convert import as_tensor


class Dilate(Function):
    """Zeros between the elements of ``axes`` (``{axis: rate}``); backward gathers the original positions."""

    def forward(self, a, rates=None):
        self.index = tuple(slice(None, None, rates.get(axis, 1)) for axis in range(a.ndim))
        shape = tuple((n - 1) * rates.get(axis, 1) + 1 if n else 0 for axis, n in enumerate(a.shape))
        out = xp_of(a).zeros(shape, dtype=a.dtype)
        out[self.index] = a
        return out

    def backward(self, g):
        return g[self.index].copy()


def dilate(x, rates):
    """``x`` with ``rate - 1`` zeros between neighbours along each axis of ``rates`` (``{axis: rate}``).

    Raises:
        ValueError: an axis out of range, or a rate that is not a positive integer.
    """
    x = as_tensor(x)
    if not isinstance(rates, dict):
        raise ValueError(f"dilate: rates must be a dict {{axis: rate}}, got {rates!r}")
    checked = {}
    for axis, rate in rates.items():
        if not is_int(rate) or rate < 1:
            raise ValueError(f"dilate: the rate of axis {axis} must be a positive integer, got {rate!r}")
        if not is_int(axis) or not -x.ndim <= axis < x.ndim:
            raise ValueError(f"dilate: axis {axis!r} is out of range for an input of rank {x.ndim}")
        checked[int(axis) % x.ndim] = int(rate)
    if all(rate == 1 for rate in checked.values()):
        return x
    return Dilate.apply(x, rates=checked)
