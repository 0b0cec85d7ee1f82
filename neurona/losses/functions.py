"""Per-sample loss functions ``fn(y_true, y_pred, ...) -> Tensor`` (Keras semantics).

Each returns one loss per sample: the last axis (the class or output axis) is
reduced, so a ``(N, C)`` prediction gives a ``(N,)`` Tensor. ``y_true`` may be
a Tensor, a NumPy/CuPy array or a nested list; it is cast to ``y_pred``'s dtype
and device. When ``y_true`` has one axis fewer than ``y_pred`` and ``y_pred``'s
last axis has size 1 (labels ``(N,)`` for an output ``(N, 1)``), a trailing
axis is added to ``y_true``; any other shape mismatch is an error.

Cross-entropy on probabilities, the way Keras's backends compute it:

- If ``y_pred`` was produced by a recorded softmax over the class axis (or a
  sigmoid for the binary loss), the loss is computed from that op's input
  logits with the fused, stable ``ops.softmax_cross_entropy`` /
  ``ops.sigmoid_cross_entropy``. This is exact (the same math without the
  detour through probabilities), never overflows, and its gradient w.r.t. the
  logits is ``softmax(z) - y``: the hot path of every classifier built as
  ``Dense(C, activation="softmax")`` + ``categorical_crossentropy``.
- Otherwise (probabilities from elsewhere, or a softmax computed under
  ``no_grad`` so no graph was recorded), the probability path: for categorical
  losses ``p`` is renormalized to sum to 1 over the class axis, then clipped to
  ``[EPSILON, 1 - EPSILON]`` and the loss is ``-sum(y log p)``. A probability of
  0 therefore costs ``-log(1e-7) ~ 16.1`` instead of infinity, and clipped
  entries get no gradient.
"""

from .. import backend, ops
from ..autograd import Tensor
from ..ops.activation import Sigmoid, Softmax
from ..ops.convert import as_tensor
from ..ops.losses import SoftmaxCrossEntropy, class_labels
from .base import as_target

#: Clipping bound of the probability path (Keras's ``backend.epsilon()``).
EPSILON = 1e-7


# ---- input preparation --------------------------------------------------------------------------
def _prediction(y_pred, name):
    y_pred = as_tensor(y_pred)
    if y_pred.ndim == 0:
        raise ValueError(f"{name}: y_pred must have at least one axis (samples or outputs), got a scalar")
    if not backend.is_floating(y_pred.dtype):
        y_pred = ops.cast(y_pred, backend.floatx())  # integer predictions: constants, nothing to differentiate
    return y_pred


def _prepare(name, y_true, y_pred):
    """``(y_true, y_pred)`` as Tensors of equal shape, ``y_true`` cast to ``y_pred``'s dtype."""
    y_pred = _prediction(y_pred, name)
    y_true = as_target(y_true, y_pred)
    given = y_true.shape
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = ops.reshape(y_true, y_true.shape + (1,))
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = ops.reshape(y_true, y_true.shape[:-1])
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true has shape {given} but y_pred has shape {y_pred.shape}; they must match")
    return y_true, y_pred


def _class_axis(axis, y_pred, name):
    if not -y_pred.ndim <= axis < y_pred.ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for y_pred of shape {y_pred.shape}")
    return axis % y_pred.ndim


def _axis_last(t, axis):
    """``t`` with ``axis`` moved to the end (a no-op when it is already last)."""
    if axis == t.ndim - 1:
        return t
    return ops.transpose(t, tuple(i for i in range(t.ndim) if i != axis) + (axis,))


def _check_smoothing(label_smoothing, name):
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"{name}: label_smoothing must lie in [0, 1], got {label_smoothing}")


def _fused_logits(y_pred, op_type, axis=None):
    """The logits fed to the recorded ``op_type`` (Softmax/Sigmoid) that produced ``y_pred``, if any.

    For a softmax the normalization axis must be the loss's class axis.
    """
    ctx = y_pred._ctx
    if not isinstance(ctx, op_type):
        return None
    if axis is not None and ctx.axis != (axis,):  # softmax over other (or more) axes than the class axis
        return None
    return ctx.inputs[0]


# ---- regression ---------------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """Mean squared error over the last axis: ``mean((y_true - y_pred)^2, axis=-1)``.

    Args:
        y_true: targets, shape ``(..., D)`` (or ``(...)`` when ``D = 1``).
        y_pred: predictions, shape ``(..., D)``.
    Returns:
        A Tensor of shape ``y_pred.shape[:-1]``.
    """
    y_true, y_pred = _prepare("mean_squared_error", y_true, y_pred)
    return ops.mean(ops.square(ops.sub(y_pred, y_true)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean absolute error over the last axis: ``mean(|y_true - y_pred|, axis=-1)``; shapes as for MSE."""
    y_true, y_pred = _prepare("mean_absolute_error", y_true, y_pred)
    return ops.mean(ops.abs(ops.sub(y_pred, y_true)), axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# ---- binary cross-entropy -----------------------------------------------------------------------
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy averaged over ``axis``: ``mean(-(y log p + (1 - y) log(1 - p)))``.

    Args:
        y_true: targets in [0, 1], same shape as ``y_pred`` (or without its trailing 1).
        y_pred: probabilities, or logits when ``from_logits=True``. A ``y_pred``
            made by a recorded sigmoid is handled through its logits (module doc).
        from_logits: whether ``y_pred`` holds logits ``z`` with ``p = sigmoid(z)``.
        label_smoothing: ``s`` in [0, 1]; targets become ``y (1 - s) + s / 2``.
        axis: the axis averaged over.
    Returns:
        A Tensor of shape ``y_pred.shape`` without ``axis``.
    """
    name = "binary_crossentropy"
    _check_smoothing(label_smoothing, name)
    y_true, y_pred = _prepare(name, y_true, y_pred)
    axis = _class_axis(axis, y_pred, name)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = y_pred if from_logits else _fused_logits(y_pred, Sigmoid)
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(logits, y_true), axis=axis)
    p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    log_likelihood = y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p)
    return ops.neg(ops.mean(log_likelihood, axis=axis))


# ---- categorical cross-entropy ------------------------------------------------------------------
def _check_categorical(name, y_true, y_pred, axis):
    if y_true.shape == y_pred.shape:
        return
    classes = y_pred.shape[axis]
    batch = y_pred.shape[:axis] + y_pred.shape[axis + 1 :]
    message = f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must be equal"
    if classes == 1:
        message += (
            " (and a single-class softmax is constant: for binary targets use one sigmoid unit with "
            "binary_crossentropy)"
        )
    elif y_true.shape in (batch, batch + (1,)):
        message += (
            f". y_true looks like integer class labels: use sparse_categorical_crossentropy with labels of "
            f"shape {batch}, or one-hot encode them to shape {y_pred.shape}"
        )
    raise ValueError(message)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy ``-sum_c y_c log p_c`` over the class axis, for one-hot or probability targets.

    Args:
        y_true: target distributions (one-hot rows), same shape as ``y_pred``.
        y_pred: class probabilities, or logits when ``from_logits=True`` (then
            ``p = softmax(z)``). A ``y_pred`` made by a recorded softmax over
            ``axis`` is handled through its logits (module doc).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: ``s`` in [0, 1]; targets become ``y (1 - s) + s / C`` with
            ``C`` classes (Szegedy et al., "Rethinking the Inception Architecture", 2016).
        axis: the class axis.
    Returns:
        A Tensor of shape ``y_pred.shape`` without ``axis``.
    """
    name = "categorical_crossentropy"
    _check_smoothing(label_smoothing, name)
    y_pred = _prediction(y_pred, name)
    axis = _class_axis(axis, y_pred, name)
    y_true = as_target(y_true, y_pred)
    _check_categorical(name, y_true, y_pred, axis)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    logits = y_pred if from_logits else _fused_logits(y_pred, Softmax, axis)
    if logits is not None:
        return ops.softmax_cross_entropy(_axis_last(logits, axis), _axis_last(y_true, axis))
    p = ops.clip(y_pred / ops.sum(y_pred, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    return ops.neg(ops.sum(y_true * ops.log(p), axis=axis))


def _sparse_labels(name, y_true, y_pred):
    """Integer labels of shape ``y_pred.shape[:-1]`` (class axis last), validated (``ops.losses.class_labels``)."""
    labels = backend.to_device(y_true.data if isinstance(y_true, Tensor) else y_true, backend.device_of(y_pred.data))
    return class_labels(name, labels, y_pred.shape, ". y_true looks one-hot encoded: use categorical_crossentropy")


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Categorical cross-entropy with integer labels: ``-log p[label]`` per sample.

    Equal to ``categorical_crossentropy(one_hot(y_true), y_pred)``, without
    building the one-hot array on the fused path.

    Args:
        y_true: integer class indices (integer or integral float dtype), of
            shape ``y_pred.shape`` without the class axis, or with a trailing 1.
        y_pred: class probabilities, or logits when ``from_logits=True``; a
            recorded softmax is handled through its logits (module doc).
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label (e.g. -1 or 255, a "void" class) whose samples get loss 0 and no gradient, as in
            Keras 3; the result then carries them as a mask (``_keras_mask``), so the loss objects' mean runs
            over the other samples only.
        axis: the class axis of ``y_pred``.
    Returns:
        A Tensor of shape ``y_pred.shape`` without ``axis``.
    Raises:
        ValueError: labels of the wrong shape, non-integral, or outside ``[0, C - 1]``.
    """
    name = "sparse_categorical_crossentropy"
    y_pred = _prediction(y_pred, name)
    axis = _class_axis(axis, y_pred, name)
    if ignore_class is not None:
        return _ignoring(ignore_class, y_true, y_pred, from_logits, axis)
    logits = y_pred if from_logits else _fused_logits(y_pred, Softmax, axis)
    y_pred = _axis_last(y_pred, axis)
    labels = _sparse_labels(name, y_true, y_pred)
    if logits is not None:
        return SoftmaxCrossEntropy.apply(_axis_last(logits, axis), Tensor._wrap(labels, False), sparse=True)
    xp = backend.xp_of(y_pred.data)
    one_hot = (labels[..., None] == xp.arange(y_pred.shape[-1])).astype(y_pred.dtype)
    p = ops.clip(y_pred / ops.sum(y_pred, axis=-1, keepdims=True), EPSILON, 1.0 - EPSILON)
    return ops.neg(ops.sum(ops.log(p) * one_hot, axis=-1))


def _ignoring(ignore_class, y_true, y_pred, from_logits, axis):
    """Sparse cross-entropy with the samples labelled ``ignore_class`` set to 0 and masked (Keras 3's rule)."""
    labels = backend.to_device(y_true.data if isinstance(y_true, Tensor) else y_true, backend.device_of(y_pred.data))
    xp = backend.xp_of(y_pred.data)
    labels = xp.asarray(labels)
    valid = labels != ignore_class
    values = sparse_categorical_crossentropy(xp.where(valid, labels, 0), y_pred, from_logits=from_logits, axis=axis)
    valid = valid.reshape(values.shape)
    values = ops.where(valid, values, 0.0)
    values._keras_mask = valid
    return values
