"""Convolution, channels_last (NHWC) like Keras, as a matrix product over receptive fields.

For an input ``x`` of shape ``(N, H, W, C_in)`` and a kernel ``w`` of shape
``(k_h, k_w, C_in, C_out)``, the output is

    y[n, i, j, o] = sum_{a, b, c} x[n, s_h i + d_h a, s_w j + d_w b, c] * w[a, b, c, o]  (+ b[o])

(with ``x`` zero-padded first). Gathering every receptive field into one row of
a matrix (``im2col``) makes it the product ``y = im2col(x) @ W`` with ``W`` the
kernel as a ``(k_h k_w C_in, C_out)`` matrix, and the backward pass

    dL/dW = im2col(x)^T @ dL/dy,    dL/dx = col2im(dL/dy @ W^T)

where ``col2im``, the transpose of im2col, adds each field's gradient back onto
the pixels it read (so overlapping fields sum). An optional fused ReLU returns
``max(y, 0)`` and multiplies the incoming gradient by its mask ``[y > 0]``.
The products and the copies run in ``backend.kernels.conv`` (piece by piece
over the batch, on every core); this module holds the op and its arguments.
"""

from ..arguments import is_int, shown
from ..autograd import Function
from ..backend import kernels, xp_of
from ..backend.kernels.conv import ConvGeometry, window_slices  # noqa: F401  (window_slices: used by pooling)
from .convert import as_tensor
from .shape import reshape

FUSED_ACTIVATIONS = (None, "relu")


def _int_entries(value, rank):
    """``value`` as a tuple of ``rank`` ints when it is one int or a tuple/list of ints (Python or NumPy, never
    bool), else None; the length is not checked here, so that the caller can name a wrong one."""
    if is_int(value):
        return (int(value),) * rank
    if isinstance(value, (tuple, list)) and all(is_int(v) for v in value):
        return tuple(int(v) for v in value)
    return None


def int_tuple(value, rank, owner, name):
    """A window size, stride or dilation: one positive int or ``rank`` of them, as a tuple of Python ints.

    Python and NumPy integers are accepted (``np.int64(2)``); bools, floats,
    strings and None are not, as in Keras's ``standardize_tuple``.

    Raises:
        TypeError: ``value`` is not an int or a tuple/list of ints.
        ValueError: it has another length than ``rank``, or an entry below 1.
    """
    values = _int_entries(value, rank)
    expected = f"a positive int or a tuple of {rank} positive ints"
    if values is None:
        raise TypeError(f"{owner}: {name} must be {expected}, got {shown(value)}")
    if len(values) != rank or min(values) < 1:
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    return values


def check_padding(padding, owner, rank=2):
    """``padding`` as ``"valid"``/``"same"`` (any case, as in Keras) or explicit per-axis ``(before, after)`` pairs.

    Explicit padding is, for ``rank`` 2, ``((top, bottom), (left, right))`` (an
    int per axis pads both sides), and for ``rank`` 1, ``(left, right)`` or one
    int; every amount is a non-negative int.

    Returns:
        The lowercase mode, or the pairs: a tuple of two pairs (``rank`` 2) or one pair (``rank`` 1).

    Raises:
        TypeError / ValueError: ``padding`` is none of those.
    """
    expected = ("'valid' or 'same', or explicit ((top, bottom), (left, right)) amounts" if rank == 2 else
                "'valid' or 'same', or an explicit (left, right) amount")
    if isinstance(padding, str):
        if padding.lower() not in ("valid", "same"):
            raise ValueError(f"{owner}: padding must be {expected}, got {padding!r}")
        return padding.lower()
    axes = (padding,) if rank == 1 else tuple(padding) if isinstance(padding, (tuple, list)) else None
    pairs = None if axes is None or len(axes) != rank else tuple(_int_entries(a, 2) for a in axes)
    if pairs is None or None in pairs:
        raise TypeError(f"{owner}: padding must be {expected}, got {shown(padding)}")
    if any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"{owner}: padding must be {expected} (non-negative ints), got {padding!r}")
    return pairs if rank == 2 else pairs[0]


def same_padding(size, kernel, stride, dilation):
    """TensorFlow/Keras 'same' padding along one axis: output ``ceil(size / stride)``, extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def conv_output_size(size, kernel, stride, dilation, pad):
    """Output length along one axis for an input of ``size`` padded by ``pad = (before, after)``."""
    return (size + pad[0] + pad[1] - (kernel - 1) * dilation - 1) // stride + 1


def resolve_padding(padding, spatial, kernel, strides, dilation):
    """Per-axis (before, after) padding for 'valid', 'same' or explicit ``((t, b), (l, r))``."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return tuple((0, 0) for _ in spatial) if len(spatial) != 2 else ((0, 0), (0, 0))
        if mode == "same":
            return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation))
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return check_padding(padding, "resolve_padding")


def pad_spatial(x, pad, value=0.0):
    """Pad the two spatial axes of an NHWC array (no copy when there is no padding)."""
    if not any(pad[0]) and not any(pad[1]):
        return x
    return xp_of(x).pad(x, ((0, 0), pad[0], pad[1], (0, 0)), constant_values=value)


class Conv2D(Function):
    """2-D cross-correlation of NHWC input with an HWIO kernel, plus an optional bias and ReLU.

    ``activation`` is None or ``"relu"``: the output is then ``max(conv + b, 0)``
    (fused: no extra full-size arrays for the bias or the activation), and its
    gradient is masked with ``[y > 0]`` in the backward pass.
    """

    def forward(self, x, w, b=None, strides=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), activation=None):
        self.x_shape, self.pad, self.w, self.has_bias = x.shape, padding, w, b is not None
        out_hw = tuple(conv_output_size(n, k, s, d, p)
                       for n, k, s, d, p in zip(x.shape[1:3], w.shape[:2], strides, dilation, padding))
        self.geometry = ConvGeometry(w.shape[:2], strides, dilation, out_hw)
        self.xpad = pad_spatial(x, padding)
        self.padded_shape = self.xpad.shape
        y = kernels.conv2d_forward(self.xpad, w, b, self.geometry, activation)  # act(im2col(x) @ W + b)
        self.y = y if activation == "relu" else None  # the ReLU's mask [y > 0] for the backward pass
        if not self.needs_input_grad[1]:  # no kernel gradient, so im2col(x) will not be needed: let x go
            self.xpad = None
        return y

    def backward(self, g):
        need_x, need_w, need_b = (tuple(self.needs_input_grad) + (False,))[:3]
        # dL/dW = im2col(x)^T @ G, dL/db = sum of G's rows, dL/dx = col2im(G @ W^T), G = g [y > 0] with the ReLU
        dxpad, dw, db = kernels.conv2d_backward(g, self.xpad, self.w, self.geometry, relu_output=self.y,
                                                need_input=need_x, need_kernel=need_w, need_bias=need_b,
                                                padded_shape=self.padded_shape)
        dx = None if dxpad is None else _unpad(dxpad, self.pad, self.x_shape)
        return (dx, dw) if not self.has_bias else (dx, dw, db)


def _unpad(dxpad, pad, x_shape):
    (pt, _), (pl, _) = pad
    return dxpad[:, pt:pt + x_shape[1], pl:pl + x_shape[2], :]


def conv2d(x, kernel, strides=1, padding="valid", dilation_rate=1, bias=None, activation=None):
    """2-D convolution (cross-correlation), channels_last.

    Args:
        x: input of shape ``(N, H, W, C_in)``.
        kernel: weights of shape ``(k_h, k_w, C_in, C_out)``.
        bias: optional ``(C_out,)`` vector added to every output position.
        strides: a positive int or pair of them (Python or NumPy ints).
        padding: ``"valid"``, ``"same"`` (output ``ceil(H / stride)``, as in Keras; any case) or
            explicit ``((top, bottom), (left, right))`` non-negative ints.
        dilation_rate: a positive int or pair; spacing between kernel taps.
        activation: None, or ``"relu"`` to return ``max(conv + bias, 0)`` fused into the same op (the
            same values and gradients as ``relu(conv2d(...))``, without two full-size passes).
    Returns:
        A Tensor of shape ``(N, H_out, W_out, C_out)``.
    """
    x, kernel = as_tensor(x), as_tensor(kernel)
    if x.ndim != 4 or kernel.ndim != 4:
        raise ValueError(f"conv2d expects a 4-D NHWC input and a 4-D (k_h, k_w, C_in, C_out) kernel, got shapes "
                         f"{x.shape} and {kernel.shape}")
    if x.shape[-1] != kernel.shape[2]:
        raise ValueError(f"conv2d: input has {x.shape[-1]} channels (shape {x.shape}) but the kernel expects "
                         f"{kernel.shape[2]} (kernel shape {kernel.shape})")
    strides = int_tuple(strides, 2, "conv2d", "strides")
    dilation = int_tuple(dilation_rate, 2, "conv2d", "dilation_rate")
    padding = check_padding(padding, "conv2d")
    pad = resolve_padding(padding, x.shape[1:3], kernel.shape[:2], strides, dilation)
    out_hw = [conv_output_size(n, k, s, d, p) for n, k, s, d, p in
              zip(x.shape[1:3], kernel.shape[:2], strides, dilation, pad)]
    if min(out_hw) < 1:
        raise ValueError(f"conv2d: a {kernel.shape[:2]} kernel (dilation {dilation}) does not fit an input of "
                         f"spatial size {x.shape[1:3]} with padding {padding!r}")
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"conv2d: activation must be one of {FUSED_ACTIVATIONS} (others are applied after the "
                         f"convolution), got {activation!r}")
    params = dict(strides=strides, padding=pad, dilation=dilation, activation=activation)
    if bias is None:
        return Conv2D.apply(x, kernel, **params)
    bias = as_tensor(bias, x)
    if bias.shape != (kernel.shape[-1],):
        raise ValueError(f"conv2d: bias must have shape ({kernel.shape[-1]},), got {bias.shape}")
    return Conv2D.apply(x, kernel, bias, **params)


def conv1d(x, kernel, strides=1, padding="valid", dilation_rate=1, bias=None, activation=None):
    """1-D convolution, channels_last: ``x`` of shape ``(N, L, C_in)``, ``kernel`` ``(k, C_in, C_out)``.

    ``strides`` and ``dilation_rate`` are a positive int or a 1-tuple; ``padding`` is ``"valid"``,
    ``"same"`` or explicit ``(left, right)``. Computed as a 2-D convolution over a height-1 image (the same op,
    so the same gradients).
    """
    x, kernel = as_tensor(x), as_tensor(kernel)
    if x.ndim != 3 or kernel.ndim != 3:
        raise ValueError(f"conv1d expects a 3-D (N, L, C) input and a 3-D (k, C_in, C_out) kernel, got shapes "
                         f"{x.shape} and {kernel.shape}")
    padding = check_padding(padding, "conv1d", rank=1)
    pad2d = padding if isinstance(padding, str) else ((0, 0), padding)
    (stride,) = int_tuple(strides, 1, "conv1d", "strides")
    (dilation,) = int_tuple(dilation_rate, 1, "conv1d", "dilation_rate")
    out = conv2d(reshape(x, (x.shape[0], 1) + x.shape[1:]), reshape(kernel, (1,) + kernel.shape),
                 strides=(1, stride), padding=pad2d, dilation_rate=(1, dilation), bias=bias, activation=activation)
    return reshape(out, (out.shape[0],) + out.shape[2:])
