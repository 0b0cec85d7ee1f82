"""Fused normalization primitives: batch normalization (training) and standardization over axes.

Both ops normalize ``x`` by the mean and the biased variance over ``axes``,

    x_hat = (x - mean) / sqrt(var + epsilon),    mean, var over ``axes``,

then scale by ``gamma`` and shift by ``beta``. Written as a chain of primitives
this records about ten full-size nodes and temporaries; the fused ops keep one
(``x_hat``) and use the closed-form gradient of Ioffe & Szegedy (2015). With
``M`` the number of elements reduced over and ``dx_hat = g * gamma``:

    dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + epsilon),

means over ``axes``. Layer, group and instance normalization could be composed
from mean, sub, mul, sqrt and div; measured (``python
benchmarks/normalization_fused.py``, float32, forward + backward, one CPU core)
the fused ``standardize`` is 2.0x faster for layer normalization of a
(64, 128, 256) batch and 4.5x faster for group normalization (32 groups) of a
(128, 24, 24, 64) batch, where it also reduces and broadcasts in the orders
NumPy handles well (``kernels.sum_over``, ``sum_product_over``, ``spread``), so they use it.

Batch normalization returns the batch statistics (``return_statistics=True``); the
moving averages are the layer's business (``layers.BatchNormalization`` assigns
``moving = moving * momentum + stat * (1 - momentum)``), and the functional op
updates arrays it is given the same way, outside the differentiable Function.

Reference: S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
Training by Reducing Internal Covariate Shift", ICML 2015.
"""

from ..autograd import Function, Tensor
from ..backend import kernels, xp_of
from .convert import as_tensor, check_real, normalize_axis


class BatchNorm(Function):
    """Training-mode batch normalization with the statistics of this batch.

    ``y = gamma * x_hat + beta``, ``x_hat = (x - mean) * inv_std``, with mean and biased variance over
    ``axes``; ``x_hat`` and ``inv_std`` come from ``kernels.moments`` (taken by ``batch_normalization``, which
    also returns the statistics). ``gamma`` and ``beta`` hold one value per position of the kept axes (shape
    ``x.shape`` without ``axes``).

    Because ``gamma`` is constant along ``axes``, backward needs two reductions,
    ``sum(g)`` (= d beta) and ``sum(g * x_hat)`` (= d gamma), and then
    ``dx = gamma / sqrt(var + eps) * (g - sum(g) / M - x_hat * sum(g * x_hat) / M)``.
    """

    def forward(self, x, gamma, beta, axes=(), x_hat=None, inv_std=None):
        kept = inv_std.shape
        self.axes, self.x_hat, self.param_shape = axes, x_hat, gamma.shape
        self.scale = inv_std * gamma.reshape(kept)  # d y / d x_hat times 1 / std, per kept position
        out = x_hat * gamma.reshape(kept)
        out += beta.reshape(kept)
        return out

    def backward(self, g):
        dx, d_gamma, d_beta = kernels.batch_norm_grad(g, self.x_hat, self.scale, self.axes, self.needs_input_grad[0])
        return dx, d_gamma.reshape(self.param_shape), d_beta.reshape(self.param_shape)


class Standardize(Function):
    """``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, statistics over ``axes``, any broadcast affine.

    ``gamma`` and ``beta`` broadcast against ``x`` (e.g. shape ``(C,)`` for layer
    normalization over the last axis); the engine sums their gradients
    ``g * x_hat`` and ``g`` back to their shapes.
    """

    def forward(self, x, gamma, beta, axes=(), epsilon=1e-3):
        self.count = _prod(x.shape[i] for i in axes)
        x_hat, _, _, inv_std = kernels.moments(x, axes, epsilon)
        self.inv_std = kernels.spread(inv_std, x.shape, axes)
        self.axes, self.x_hat, self.gamma = axes, x_hat, gamma
        out = x_hat * gamma
        out += beta
        return out

    def backward(self, g):
        d_x_hat = g * self.gamma
        dx = None
        if self.needs_input_grad[0]:
            shape = d_x_hat.shape
            mean_g = kernels.spread(kernels.sum_over(d_x_hat, self.axes) / self.count, shape, self.axes)
            mean_gx = kernels.spread(kernels.sum_product_over(d_x_hat, self.x_hat, self.axes) / self.count, shape,
                                     self.axes)
            dx = d_x_hat
            dx -= mean_g
            dx -= self.x_hat * mean_gx
            dx *= self.inv_std
        d_gamma = g * self.x_hat if self.needs_input_grad[1] else None
        return dx, d_gamma, g


def _prod(values):
    result = 1
    for v in values:
        result *= int(v)
    return result


def _update_moving(moving, stat, momentum):
    """``moving = moving * momentum + stat * (1 - momentum)``, in place (a non-trainable weight's array)."""
    moving *= momentum
    moving += (1.0 - momentum) * stat.reshape(moving.shape).astype(moving.dtype, copy=False)


def _reduction_axes(axes, x):
    axes = normalize_axis(axes, x.ndim)
    if not axes:
        raise ValueError(f"normalization needs at least one axis to reduce over, got axes={axes!r}")
    return axes


def _param(value, fill, shape, x):
    """``gamma``/``beta`` as a Tensor; None means the constant ``fill`` (no gradient)."""
    if value is None:
        return Tensor._wrap(xp_of(x.data).full(shape, fill, dtype=x.dtype), False)
    return as_tensor(value, x)


def _array(value):
    return value.data if isinstance(value, Tensor) else value


def batch_normalization(x, gamma=None, beta=None, axes=None, epsilon=1e-3, moving_mean=None, moving_variance=None,
                        momentum=0.99, return_statistics=False):
    """Batch normalization with the statistics of the batch (training mode), fused forward and backward.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, where ``mean`` and the
    biased ``var`` are taken over ``axes`` (Ioffe & Szegedy, 2015).

    Args:
        x: input Tensor, e.g. ``(N, C)`` after a dense layer or ``(N, H, W, C)``.
        gamma, beta: scale and offset with the shape of ``x`` without ``axes``
            (``(C,)`` for channels-last inputs); None means 1 and 0.
        axes: axes to reduce over; default all but the last (channels-last).
        epsilon: added to the variance; a finite number >= 0 (a negative one would
            make ``sqrt(var + epsilon)`` NaN for small variances).
        moving_mean, moving_variance: optional arrays (or Variables) of the same
            shape as ``gamma``, updated in place as
            ``moving = moving * momentum + batch_stat * (1 - momentum)``
            (the variance is the biased one, as in Keras).
        momentum: decay of the moving averages, in [0, 1].
        return_statistics: also return the batch's ``mean`` and biased ``var``.

    Returns:
        A Tensor of ``x``'s shape, differentiable in ``x``, ``gamma`` and ``beta``; with
        ``return_statistics``, the tuple ``(y, mean, var)``, the statistics Tensors of ``gamma``'s
        shape that carry no gradient (``layers.BatchNormalization`` assigns its moving averages from them).

    Raises:
        TypeError: ``epsilon`` or ``momentum`` is not a real number.
        ValueError: a shape does not match, ``epsilon < 0`` or ``momentum`` outside [0, 1].
    """
    x = as_tensor(x)
    epsilon = check_real(epsilon, "batch_normalization", "epsilon", low=0)
    momentum = check_real(momentum, "batch_normalization", "momentum", low=0, high=1)
    axes = tuple(range(x.ndim - 1)) if axes is None else axes
    axes = _reduction_axes(axes, x)
    shape = tuple(s for i, s in enumerate(x.shape) if i not in axes)
    gamma, beta = _param(gamma, 1.0, shape, x), _param(beta, 0.0, shape, x)
    for name, value in (("gamma", gamma), ("beta", beta), ("moving_mean", moving_mean),
                        ("moving_variance", moving_variance)):
        if value is not None and tuple(value.shape) != shape:
            raise ValueError(f"batch_normalization: {name} must have shape {shape} (x of shape {x.shape} without "
                             f"axes {axes}), got {tuple(value.shape)}")
    if (moving_mean is None) != (moving_variance is None):
        raise ValueError("batch_normalization: pass both moving_mean and moving_variance, or neither")
    x_hat, mean, var, inv_std = kernels.moments(x.data, axes, epsilon)
    y = BatchNorm.apply(x, gamma, beta, axes=axes, x_hat=x_hat, inv_std=inv_std)
    if moving_mean is not None:
        _update_moving(_array(moving_mean), mean, momentum)
        _update_moving(_array(moving_variance), var, momentum)
    if not return_statistics:
        return y
    return y, Tensor._wrap(mean.reshape(shape), False), Tensor._wrap(var.reshape(shape), False)


def standardize(x, axes=-1, gamma=None, beta=None, epsilon=1e-3):
    """Zero mean and unit variance over ``axes``, then ``gamma * x_hat + beta`` (fused forward and backward).

    The core of layer, group and instance normalization:
    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` with mean and biased
    variance over ``axes`` (Ba et al., 2016; Wu & He, 2018; Ulyanov et al., 2016).

    Args:
        x: input Tensor.
        axes: axis or axes to reduce over (default: the last).
        gamma, beta: Tensors broadcastable to ``x`` (e.g. ``(C,)`` for the last
            axis); None means 1 and 0.
        epsilon: added to the variance; a finite number >= 0.

    Returns:
        A Tensor of ``x``'s shape.
    """
    x = as_tensor(x)
    epsilon = check_real(epsilon, "standardize", "epsilon", low=0)
    axes = _reduction_axes(axes, x)
    gamma, beta = _param(gamma, 1.0, (), x), _param(beta, 0.0, (), x)
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.ndim > x.ndim or any(p not in (1, s) for p, s in zip(value.shape[::-1], x.shape[::-1])):
            raise ValueError(f"standardize: {name} of shape {value.shape} does not broadcast to x of shape {x.shape}")
    return Standardize.apply(x, gamma, beta, axes=axes, epsilon=epsilon)
