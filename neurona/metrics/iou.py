"""Mean intersection over union (Keras 3's ``MeanIoU``) from a streamed, weighted confusion matrix.

Over everything seen, ``cm[i, j]`` is the total weight of the elements of true
class ``i`` predicted as ``j``. Per class ``c``,

    IoU_c = TP_c / (TP_c + FP_c + FN_c) = cm[c, c] / (row_c + col_c - cm[c, c]),

and the result is the mean over the classes that occur (a non-zero denominator),
``sum IoU_c / (valid + 1e-7)`` as Keras computes it. Elements whose true or
predicted class lies outside ``[0, num_classes)``, or whose true class is
``ignore_class``, are left out.
"""

import numpy

from .. import backend
from ..arguments import check_bool, check_int
from .base import Metric, registry, to_array

EPSILON = 1e-7


@registry.register(name="mean_io_u", aliases=("mean_iou",))
class MeanIoU(Metric):
    """Mean intersection over union of ``num_classes`` classes (semantic segmentation's usual score).

    Args:
        num_classes: the number of classes (the confusion matrix is ``num_classes x num_classes``).
        name: the metric's name (Keras's default ``"mean_io_u"``).
        dtype: the dtype labels and weights are cast to before counting, ``"int32"`` by default as in Keras
            (so float sample weights are truncated toward zero unless a float dtype is given).
        ignore_class: a true label whose elements are not counted (e.g. a "void" class 255), or None.
        sparse_y_true: whether ``y_true`` holds class indices (else scores whose argmax over ``axis`` is taken).
        sparse_y_pred: the same for ``y_pred``.
        axis: the class axis of non-sparse inputs.
    """

    _additive_state = ("total_cm",)

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        self.num_classes = check_int(num_classes, "MeanIoU", "num_classes", low=1)
        self.ignore_class = None if ignore_class is None else check_int(ignore_class, "MeanIoU", "ignore_class")
        self.sparse_y_true = check_bool(sparse_y_true, "MeanIoU", "sparse_y_true")
        self.sparse_y_pred = check_bool(sparse_y_pred, "MeanIoU", "sparse_y_pred")
        self.axis = check_int(axis, "MeanIoU", "axis")
        super().__init__(name=name, dtype=dtype or "int32")

    def reset_state(self):
        self.total_cm = numpy.zeros((self.num_classes, self.num_classes))

    def _labels(self, values, sparse, like=None):
        values = to_array(values, like=like)
        if not sparse:
            values = values.argmax(axis=self.axis)
        return values.reshape(-1)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch of labels (or scores, when not sparse) to the confusion matrix."""
        y_pred = self._labels(y_pred, self.sparse_y_pred)
        y_true = self._labels(y_true, self.sparse_y_true, like=y_pred)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name}: y_true holds {y_true.size} labels but y_pred {y_pred.size}; expected one "
                             "predicted class per true class")
        xp = backend.xp_of(y_pred)
        # Keras casts labels (and weights) to the metric's dtype before counting: int32 truncates toward zero
        cast = xp.int64 if numpy.dtype(self.dtype).kind in "iub" else xp.float64
        y_true, y_pred = y_true.astype(cast), y_pred.astype(cast)
        weights = xp.ones(y_true.shape, dtype=xp.float64) if sample_weight is None else \
            to_array(sample_weight, like=y_pred).astype(cast).astype(xp.float64)
        try:
            weights = xp.broadcast_to(weights.reshape(-1) if weights.ndim > 1 else weights, y_true.shape)
        except ValueError:
            raise ValueError(f"{self.name}: sample_weight of shape {tuple(weights.shape)} does not broadcast to the "
                             f"{y_true.size} labels") from None
        inside = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            inside &= y_true != self.ignore_class
        cells = (xp.where(inside, y_true, 0) * self.num_classes + xp.where(inside, y_pred, 0)).astype(xp.int64)
        counts = xp.bincount(cells, weights=xp.where(inside, weights, 0.0), minlength=self.num_classes ** 2)
        self.total_cm = backend.to_device(self.total_cm, backend.device_of(counts)) + \
            counts.reshape(self.num_classes, self.num_classes)

    def result(self):
        """The mean IoU over the classes seen, as a Python float (0.0 before any update)."""
        cm = backend.asnumpy(self.total_cm)
        true_positives = numpy.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        valid = denominator > 1e-9
        iou = numpy.where(valid, true_positives / (denominator + EPSILON), 0.0)
        return float(iou.sum() / (valid.sum() + EPSILON))

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
