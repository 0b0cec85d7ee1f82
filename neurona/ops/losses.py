"""Fused, numerically stable loss primitives on logits.

Computing softmax and then log would overflow or lose precision for large
logits; these ops go through log-sum-exp instead, and have the simple fused
gradients ``softmax(z) - y`` and ``sigmoid(z) - y``.
"""

from ..autograd import Function, Tensor
from ..backend import xp_of
from .convert import as_tensor, check_bool


class SoftmaxCrossEntropy(Function):
    """Per-sample ``-sum_c y_c log softmax(z)_c`` over the last axis.

    With ``sparse=True`` the target holds integer class indices (shape
    ``z.shape[:-1]``) instead of probabilities. Gradients: d/dz = softmax(z) - y;
    d/dy = -log softmax(z) (dense targets only).
    """

    def forward(self, logits, target, sparse=False):
        xp = xp_of(logits)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        exp = xp.exp(shifted)
        total = exp.sum(axis=-1, keepdims=True)
        self.log_probs = shifted - xp.log(total)
        self.target, self.sparse = target, sparse
        if sparse:
            self.probs = exp / total
            picked = xp.take_along_axis(self.log_probs, target[..., None], axis=-1)
            return -picked[..., 0]
        return -(target * self.log_probs).sum(axis=-1)

    def backward(self, g):
        xp = xp_of(g)
        g = g[..., None]
        dz = dy = None
        if self.needs_input_grad[0]:
            if self.sparse:
                # (softmax - onehot) * g, the one-hot part subtracted through an index of the output's own shape:
                # a reshape of a non-contiguous array is a copy, and an edit of that copy would be lost
                dz = self.probs * g
                dz[_label_index(self.target)] -= g[..., 0]
            else:
                # softmax - y, scaled by sum_c y_c (1 for proper distributions)
                dz = (xp.exp(self.log_probs) * self.target.sum(axis=-1, keepdims=True) - self.target) * g
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            dy = -self.log_probs * g
        return dz, dy


def _label_index(labels):
    """The index of ``labels``' entries along a trailing class axis: ``a[_label_index(l)]`` is ``a[..., l]`` row-wise.

    One broadcasting ``arange`` per leading axis, then the labels themselves, so
    ``a[index]`` picks one element per row of an array of any memory layout.
    """
    xp = xp_of(labels)
    ndim = labels.ndim
    rows = tuple(xp.arange(n).reshape((n,) + (1,) * (ndim - 1 - i)) for i, n in enumerate(labels.shape))
    return rows + (labels,)


class SigmoidCrossEntropy(Function):
    """Elementwise ``-(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z)))``.

    Computed as ``max(z, 0) - z y + log(1 + exp(-|z|))``; d/dz = sigmoid(z) - y,
    d/dy = -z.
    """

    def forward(self, logits, target):
        xp = xp_of(logits)
        self.logits, self.target = logits, target
        return xp.maximum(logits, 0) - logits * target + xp.log1p(xp.exp(-xp.abs(logits)))

    def backward(self, g):
        xp = xp_of(g)
        dz = dy = None
        if self.needs_input_grad[0]:
            z = xp.exp(-xp.abs(self.logits))
            sig = xp.where(self.logits >= 0, 1 / (1 + z), z / (1 + z))
            dz = g * (sig - self.target)
        if self.needs_input_grad[1]:
            dy = -g * self.logits
        return dz, dy


def class_labels(name, labels, scores_shape, one_hot_hint="", scores="y_pred"):
    """Integer class indices for scores of ``scores_shape`` (classes last), validated; an int64 array.

    Accepted: labels of shape ``scores_shape[:-1]`` or with a trailing 1, of an
    integer dtype or floats holding whole finite numbers, in ``[0, C - 1]``. The
    sparse losses and the sparse metrics share this, so a label 7 of 4 classes
    (or 0.5, or NaN) is refused alike everywhere, never silently scored.

    Args:
        name: the caller, for messages.
        labels: the array of labels (NumPy or CuPy).
        scores_shape: the shape of the scores, ``(..., C)``.
        one_hot_hint: appended when ``labels`` has the scores' own shape (one-hot labels given by mistake).
        scores: what the scores are called in messages.
    """
    xp = xp_of(labels)
    scores_shape = tuple(scores_shape)
    expected, classes = scores_shape[:-1], scores_shape[-1]
    if labels.shape == expected + (1,):
        labels = labels.reshape(expected)
    if labels.shape != expected:
        hint = one_hot_hint if labels.shape == scores_shape else ""
        raise ValueError(f"{name}: y_true has shape {labels.shape} but {scores} has shape {scores_shape}; expected "
                         f"integer class labels of shape {expected} or {expected + (1,)}{hint}")
    kind = labels.dtype.kind
    if kind == "f" and bool((xp.isfinite(labels) & (labels == labels.round())).all()):
        labels = labels.astype("int64")
    elif kind not in "iu":
        what = "non-integral (or non-finite) values of dtype" if kind == "f" else "dtype"
        raise ValueError(f"{name}: labels must be integer class indices, got {what} {labels.dtype}")
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= classes:
            raise ValueError(f"{name}: labels must lie in [0, {classes - 1}] for {scores} with {classes} classes, "
                             f"got values in [{low}, {high}]")
    return labels.astype("int64", copy=False)


def softmax_cross_entropy(logits, target, sparse=False):
    """Per-sample cross-entropy between ``softmax(logits)`` and ``target`` (last axis = classes).

    Args:
        logits: unnormalized scores, shape ``(..., C)``.
        target: probabilities/one-hot of the same shape, or (``sparse=True``)
            integer class indices of shape ``(...)``.
        sparse: True or False (a truthy string such as ``"yes"`` raises TypeError).
    Returns:
        A Tensor of shape ``logits.shape[:-1]``.
    """
    logits = as_tensor(logits)
    sparse = check_bool(sparse, "softmax_cross_entropy", "sparse")
    if sparse:
        target = target.data if isinstance(target, Tensor) else xp_of(logits.data).asarray(target)
        labels = class_labels("softmax_cross_entropy", target, logits.shape, scores="logits")
        return SoftmaxCrossEntropy.apply(logits, Tensor._wrap(labels, False), sparse=True)
    target = as_tensor(target, logits)
    if target.shape != logits.shape:
        raise ValueError(f"cross-entropy: target shape {target.shape} does not match logits shape {logits.shape}")
    return SoftmaxCrossEntropy.apply(logits, target)


def sigmoid_cross_entropy(logits, target):
    """Elementwise binary cross-entropy between ``sigmoid(logits)`` and ``target`` in [0, 1]."""
    logits = as_tensor(logits)
    target = as_tensor(target, logits)
    if target.shape != logits.shape:
        raise ValueError(f"binary cross-entropy: target shape {target.shape} does not match logits {logits.shape}")
    return SigmoidCrossEntropy.apply(logits, target)
