"""Convolution, channels_last (NHWC) like Keras: im2col plus BLAS matrix products, piece by piece.

For an input ``x`` of shape ``(N, H, W, C_in)`` and a kernel ``w`` of shape
``(k_h, k_w, C_in, C_out)``, the output is

    y[n, i, j, o] = sum_{a, b, c} x[n, s_h i + d_h a, s_w j + d_w b, c] * w[a, b, c, o]

(with ``x`` zero-padded first). The forward pass gathers every receptive field
into one row of a matrix ``cols`` of shape ``(H_out W_out, k_h k_w C_in)`` per
image (a strided view copied into a buffer: "im2col") so that ``y = cols @ w``
is a matrix product. The backward pass is

    dL/dw = sum_n cols_n^T @ dL/dy_n
    dL/dx[fields read by tap (a, b)] += dL/dy @ w[a, b]^T     for each of the k_h k_w taps,

the second being ``k_h k_w`` products added onto strided slices of the input
gradient (which also sums the contributions of overlapping fields).

Both passes run over pieces of a few images (``PIECE_BYTES`` of ``cols``, so a
piece stays near the core from the im2col copy to the product that reads it),
one piece per core at a time with single-threaded BLAS
(``backend.parallel.map_chunks``). Against one batch-sized ``cols`` with
multi-threaded BLAS, the MNIST CNN's second layer (a (128, 26, 26, 32) batch,
3x3x32x64 kernel, ReLU) went from 28.5 to 15.4 ms forward and from 52 to 38 ms
backward (``benchmarks/conv_layer.py`` and the same op timed alone). ``cols``
is rebuilt in the backward pass rather than kept, so memory is a few pieces,
not a batch's ``cols`` (85 MB there). Per-piece partial sums of ``dL/dw`` are
added in piece order, so the result does not depend on the number of threads.

With a bias, ``cols`` carries an extra column of ones and the kernel matrix
the bias as an extra row: the product adds the bias, and the same row of
``cols^T @ dL/dy`` is the bias gradient (no separate passes for either). An
optional ReLU (``activation="relu"``) is applied to each piece while it is in
cache; the backward pass then masks the incoming gradient piece by piece with
``y > 0``, the ReLU derivative.
"""

from ..arguments import is_int, shown
from ..autograd import Function
from ..backend import workspace, xp_of
from ..backend.parallel import map_chunks
from .convert import as_tensor
from .shape import reshape

PIECE_BYTES = 1 << 22  # im2col bytes per piece: 4 MiB, a few images of the MNIST CNN's second layer
# im2col copies each receptive field's rows of kw * C contiguous values; below this many the per-row overhead
# dominates and copying tap by tap is faster (the MNIST CNN's first layer, C = 1: 0.56 against 1.2 ms a batch)
TAPWISE_BELOW = 32
MIN_PIECES = 8  # fixed, not the thread count, so that results do not depend on the number of cores
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
            return ((0, 0), (0, 0))
        if mode == "same":
            return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation))
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return check_padding(padding, "resolve_padding")


def pad_spatial(x, pad, value=0.0):
    """Pad the two spatial axes of an NHWC array (no copy when there is no padding)."""
    if not any(pad[0]) and not any(pad[1]):
        return x
    return xp_of(x).pad(x, ((0, 0), pad[0], pad[1], (0, 0)), constant_values=value)


def window_slices(kernel, strides, dilation, out_hw):
    """For every kernel offset ``(a, b)``, the strided slices of the padded input it reads."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, strides, dilation, out_hw
    for a in range(kh):
        for b in range(kw):
            yield a, b, (slice(None), slice(a * dh, a * dh + sh * (ho - 1) + 1, sh),
                         slice(b * dw, b * dw + sw * (wo - 1) + 1, sw), slice(None))


class Conv2D(Function):
    """2-D cross-correlation of NHWC input with an HWIO kernel, plus an optional bias and ReLU.

    ``activation`` is None or ``"relu"``: the output is then ``max(conv + b, 0)``
    computed in place on each piece (no extra full-size arrays for the bias or
    the activation), and its gradient is masked in the backward pass.
    """

    def forward(self, x, w, b=None, strides=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), activation=None):
        xp = xp_of(x, w)
        n, h, wd, c = x.shape
        kh, kw, _, cout = w.shape
        self.x_shape, self.pad, self.strides, self.dilation, self.w = x.shape, padding, strides, dilation, w
        self.relu = activation == "relu"
        self.xpad = pad_spatial(x, padding)
        self.out_hw = (conv_output_size(h, kh, strides[0], dilation[0], padding[0]),
                       conv_output_size(wd, kw, strides[1], dilation[1], padding[1]))
        rows = self.out_hw[0] * self.out_hw[1]  # output rows per image
        out = xp.empty((n * rows, cout), dtype=xp.result_type(x, w))
        self.has_bias = b is not None
        wmat = w.reshape(kh * kw * c, cout)
        if self.has_bias:  # cols carries a column of ones, so the product adds the bias
            wmat = xp.concatenate([wmat, b.reshape(1, cout).astype(wmat.dtype)])

        def forward_pieces(pieces):
            cols = self._take_cols(xp)
            for piece in self._images(pieces):
                o = out[piece.start * rows:piece.stop * rows]
                xp.matmul(self._im2col(piece, cols), wmat, out=o)
                if self.relu:
                    xp.maximum(o, 0, out=o)
            workspace.give(cols)

        map_chunks(self._num_pieces(xp), forward_pieces, out, blas_work=True)
        out = out.reshape(n, *self.out_hw, cout)
        self.out = out if self.relu else None  # the ReLU mask of the backward pass
        if not self.needs_input_grad[1]:  # no kernel gradient, so nothing will rebuild cols: let x go
            self.xpad = None
        return out

    def backward(self, g):
        xp = xp_of(g)
        n, cout = self.x_shape[0], self.w.shape[-1]
        rows = self.out_hw[0] * self.out_hw[1]
        g2 = g.reshape(n * rows, cout)
        y2 = self.out.reshape(n * rows, cout) if self.relu else None
        need_x, need_w, need_b = (tuple(self.needs_input_grad) + (False,))[:3]
        dxpad = xp.empty(self.xpad_shape, dtype=g.dtype) if need_x else None
        w_taps = xp.ascontiguousarray(self.w.transpose(0, 1, 3, 2)) if need_x else None  # (k_h, k_w, C_out, C_in)

        k = self.w.shape[0] * self.w.shape[1] * self.w.shape[2]

        def backward_pieces(pieces):
            cols = self._take_cols(xp) if need_w else None
            masked = workspace.take((self.piece_images * rows, cout), g.dtype, xp) if self.relu else None
            tap = workspace.take((self.piece_images * rows, self.x_shape[-1]), g.dtype, xp) if need_x else None
            partials = []
            for piece in self._images(pieces):
                gp = g2[piece.start * rows:piece.stop * rows]
                if self.relu:
                    gp = xp.multiply(gp, y2[piece.start * rows:piece.stop * rows] > 0, out=masked[:len(gp)])
                if need_w:  # with a bias, the last row of cols^T @ gp (from the ones column) is its gradient
                    dwb = self._im2col(piece, cols).T @ gp
                    partials.append((dwb[:k], dwb[k] if need_b else None))
                else:
                    partials.append((None, gp.sum(axis=0) if need_b else None))
                if need_x:
                    self._scatter_input_grad(gp, w_taps, dxpad[piece], tap[:len(gp)])
            for buffer in (cols, masked, tap):
                if buffer is not None:
                    workspace.give(buffer)
            return partials

        partials = [p for part in map_chunks(self._num_pieces(xp), backward_pieces, g2, blas_work=True)
                    for p in part]
        dw = _sum_in_order([p[0] for p in partials]).reshape(self.w.shape) if need_w else None
        db = _sum_in_order([p[1] for p in partials]) if need_b else None
        dx = self._unpad(dxpad) if need_x else None
        return (dx, dw) if len(self.needs_input_grad) == 2 else (dx, dw, db)

    @property
    def xpad_shape(self):
        n, h, w, c = self.x_shape
        (pt, pb), (pl, pr) = self.pad
        return (n, h + pt + pb, w + pl + pr, c)

    def _num_pieces(self, xp):
        """Sets ``piece_images``: as many images as fit ``PIECE_BYTES`` of cols (at least one); the whole
        batch on a GPU, which runs one batch-sized product fastest. Returns the number of pieces."""
        kh, kw, c, _ = self.w.shape
        n = self.x_shape[0]
        cols_bytes = self.out_hw[0] * self.out_hw[1] * kh * kw * c * self.w.dtype.itemsize
        if xp.__name__ == "numpy":  # at least MIN_PIECES pieces, to share among the cores
            self.piece_images = max(1, min(-(-n // MIN_PIECES), PIECE_BYTES // cols_bytes))
        else:
            self.piece_images = max(n, 1)
        return -(-n // self.piece_images)

    def _images(self, pieces):
        """The image slices of the pieces in ``pieces`` (a slice of piece indices)."""
        size, n = self.piece_images, self.x_shape[0]
        for k in range(pieces.start, pieces.stop):
            yield slice(k * size, min((k + 1) * size, n))

    def _take_cols(self, xp):
        """A piece's cols buffer, ``(rows, k_h k_w C_in)``, plus a last column of ones when there is a bias."""
        kh, kw, c, _ = self.w.shape
        rows, k = self.piece_images * self.out_hw[0] * self.out_hw[1], kh * kw * c
        cols = workspace.take((rows, k + self.has_bias), self.xpad.dtype, xp)
        if self.has_bias:
            cols[:, k] = 1
        return cols

    def _im2col(self, piece, cols):
        """Copy the receptive fields of the images in ``piece`` into ``cols``; returns the rows it filled."""
        xp = xp_of(self.xpad)
        x = self.xpad[piece]
        kh, kw, c, _ = self.w.shape
        (ho, wo), (sh, sw), (dh, dw) = self.out_hw, self.strides, self.dilation
        sn, sh_, sw_, sc = x.strides
        windows = xp.lib.stride_tricks.as_strided(x, shape=(len(x), ho, wo, kh, kw, c),
                                                  strides=(sn, sh_ * sh, sw_ * sw, sh_ * dh, sw_ * dw, sc),
                                                  writeable=False)
        filled = cols[:len(x) * ho * wo]
        fields = filled[:, :kh * kw * c]
        fields.shape = windows.shape  # assigning .shape raises rather than copy: the copy must land in cols
        if kw * c >= TAPWISE_BELOW:
            xp.copyto(fields, windows)
        else:  # few channels: one strided copy per tap beats copies of kw * c contiguous values per field
            for a in range(kh):
                for b in range(kw):
                    fields[:, :, :, a, b, :] = windows[:, :, :, a, b, :]
        return filled

    def _scatter_input_grad(self, gp, w_taps, dx, tap):
        """dx (one piece of the padded input gradient) = sum over taps of gp @ w[a, b]^T on the fields they read."""
        matmul = xp_of(gp).matmul
        dx[...] = 0
        for a, b, region in window_slices(self.w.shape[:2], self.strides, self.dilation, self.out_hw):
            field = dx[region]  # a view: adding into it adds into dx
            field += matmul(gp, w_taps[a, b], out=tap).reshape(field.shape)

    def _unpad(self, dxpad):
        (pt, _), (pl, _) = self.pad
        return dxpad[:, pt:pt + self.x_shape[1], pl:pl + self.x_shape[2], :]


def _sum_in_order(arrays):
    total = arrays[0].copy()
    for array in arrays[1:]:
        total += array
    return total


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
