"""The ``Loss`` base class, its reductions and sample weights, and the shared target conversion.

A loss object maps ``(y_true, y_pred, sample_weight)`` to one scalar Tensor to
minimize: it computes per-sample losses with ``call``, multiplies them by the
sample weights, then reduces them. Reductions (as in Keras):

- ``"sum_over_batch_size"`` (default, alias ``"mean"``): ``sum(w * l) / size(l)``;
  the weights scale the terms but the divisor stays the number of values.
- ``"mean_with_sample_weight"``: ``sum(w * l) / sum(w)``, with ``sum(w)`` over the weights as given
  (Keras 3: ``(N, T)`` losses with ``(N,)`` weights are divided by ``sum(w)``, not ``sum(w) * T``).
- ``"sum"``: ``sum(w * l)``.
- ``"none"`` (or ``None``): the weighted per-sample values, unreduced.
"""

import numpy

from .. import backend, ops
from ..autograd import Tensor
from ..registry import Configurable, Registry, snake_case

#: Registry of loss classes (functions are serialized by name, see ``neurona.losses.serialize``).
registry = Registry("loss")

REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", "none")


def standardize_reduction(reduction):
    """``reduction`` checked against ``REDUCTIONS`` (``None`` means ``"none"``)."""
    reduction = "none" if reduction is None else reduction
    if reduction not in REDUCTIONS:
        raise ValueError(f"invalid loss reduction {reduction!r}; expected one of {list(REDUCTIONS)} or None")
    return reduction


def as_target(value, like):
    """``value`` (Tensor, array or nested list) as a Tensor of ``like``'s dtype on ``like``'s device.

    A Tensor is moved and cast with the differentiable ``ops.to_device`` and
    ``ops.cast``, so gradients still flow into it (a learned target, a
    distillation teacher); anything else becomes a constant. Casting to the
    prediction's dtype (as Keras does) keeps a float32 network in float32 when
    the labels arrive as float64 or integer NumPy arrays.
    """
    device = backend.device_of(like.data)
    if isinstance(value, Tensor):
        return ops.cast(ops.to_device(value, device), like.dtype)
    data = backend.to_device(value, device)
    return Tensor._wrap(data.astype(like.dtype, copy=False), False)


def _aligned_weights(sample_weight, values):
    """Sample weights as a Tensor whose shape broadcasts to ``values.shape``.

    Weights of shape ``(N,)`` apply per sample even when the values have more
    axes (``(N, T)`` gets ``(N, 1)``); a trailing axis of size 1 is dropped.
    """
    weights = as_target(sample_weight, values)
    if weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
        weights = ops.reshape(weights, weights.shape[:-1])
    elif 0 < weights.ndim < values.ndim:
        weights = ops.reshape(weights, weights.shape + (1,) * (values.ndim - weights.ndim))
    try:
        broadcast = numpy.broadcast_shapes(weights.shape, values.shape)
    except ValueError:
        broadcast = None
    if broadcast != values.shape:
        raise ValueError(
            f"sample_weight of shape {tuple(numpy.shape(sample_weight))} does not broadcast to the per-sample "
            f"losses of shape {values.shape}; pass one weight per sample"
        )
    return weights


def _mask_weights(mask, values, sample_weight, reduction):
    """``sample_weight`` times the mask (as 0/1, scaled by ``total / valid`` for the mean reductions), when the
    mask fits the per-sample losses' shape; else ``sample_weight`` as it is (an output whose time axis was
    reduced away carries no usable mask)."""
    flags = mask.data if isinstance(mask, Tensor) else mask
    if tuple(flags.shape) != tuple(values.shape):
        return sample_weight
    xp = backend.xp_of(values.data)
    weights = flags.astype(values.dtype)
    if reduction in ("sum_over_batch_size", "mean"):
        valid = float(weights.sum())
        weights = weights * (weights.size / (valid + 1e-7))
    weights = Tensor._wrap(xp.asarray(weights), False)
    if sample_weight is None:
        return weights
    given = _aligned_weights(sample_weight, values)
    return given * weights


def _both_masks(in_mask, out_mask):
    """The prediction's mask and the per-sample losses' mask combined as Keras 3's ``Loss.__call__`` does (both:
    their AND; one: that one)."""
    if in_mask is None or out_mask is None:
        return out_mask if in_mask is None else in_mask
    flags = in_mask.data if isinstance(in_mask, Tensor) else in_mask
    return flags & out_mask if tuple(flags.shape) == tuple(out_mask.shape) else out_mask


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Weight the per-sample ``values`` by ``sample_weight`` and reduce them (see the module doc)."""
    weights = None
    if sample_weight is not None:
        weights = _aligned_weights(sample_weight, values)
        values = values * weights
    if reduction == "none":
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        # Keras 3 divides by the sum of the weights as given, not as broadcast: (N, T) losses with (N,) weights
        # give sum(w l) / sum(w). All-zero weights give 0, not NaN (Keras's divide_no_nan).
        divisor = ops.sum(weights)
        return total / divisor if float(divisor.data) != 0 else total * 0.0
    return total / max(values.size, 1)  # an empty batch has loss 0, not NaN


class Loss(Configurable):
    """Base class of loss objects: ``loss(y_true, y_pred, sample_weight=None) -> scalar Tensor``.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses
    of shape ``y_pred.shape[:-1]``.

    Args:
        name: label of the loss (defaults to the registered snake_case name).
        reduction: one of ``REDUCTIONS`` (see the module doc).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        self.name = name or registry.name_of(self) or snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)

    def call(self, y_true, y_pred):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss: per-sample ``call`` values, times ``sample_weight``, then ``reduction``.

        When ``y_pred`` carries a Keras mask (``layers/masking.py``: a sequence output after
        ``Embedding(mask_zero=True)`` or ``Masking``), masked steps weigh 0 and, for the mean reductions, the
        real ones ``total / valid``, so the loss is the mean over the real steps (Keras 3's ``apply_mask``).
        """
        mask = getattr(y_pred, "_keras_mask", None)
        if isinstance(y_pred, Tensor) and backend.dtypes.is_reduced_float(y_pred.dtype) and \
                not backend.dtypes.is_reduced_float(backend.floatx()):
            # a mixed-precision model's 16-bit outputs: the loss in floatx, as Keras computes it (a float16
            # log of a probability near 0, or a float16 mean over a batch, loses what the loss needs)
            y_pred = ops.cast(y_pred, backend.floatx())
        values = self.call(y_true, y_pred)
        mask = _both_masks(mask, getattr(values, "_keras_mask", None))  # the loss's own (ignore_class) too
        if mask is not None:
            sample_weight = _mask_weights(mask, values, sample_weight, self.reduction)
        return reduce_weighted_values(values, sample_weight, self.reduction)

    def get_config(self):
        """JSON-safe constructor arguments."""
        return {"name": self.name, "reduction": self.reduction}


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs) -> Tensor``.

    Args:
        fn: the per-sample loss function.
        name: label (defaults to ``fn.__name__``).
        reduction: how per-sample values are reduced.
        **kwargs: keyword arguments passed to ``fn`` on every call (and kept in the config).
    """

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper needs a callable fn(y_true, y_pred), got {fn!r}")
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction)

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}
