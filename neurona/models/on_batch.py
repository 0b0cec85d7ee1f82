"""``train_on_batch``, ``test_on_batch`` and ``predict_on_batch``: one step on exactly the batch given (Keras 3).

As in Keras, the metrics are reset before each call, so the results are those of
that batch alone.
"""

from ..arguments import check_bool
from ..autograd import no_grad
from . import data_adapter, data_arrays
from .step_logs import logs_in_order, pack, pythonify_logs
from .training import io_counts, to_numpy


def _one_batch(model, caller, x, y, sample_weight, class_weight=None, finite=False):
    model._require_compiled(caller)
    class_weight = data_arrays.check_class_weight(class_weight, caller)
    x, y, sample_weight = data_adapter.prepare_arrays(x, y, sample_weight, caller=caller, counts=io_counts(model),
                                                      finite=finite, require_y=model._compile_loss is not None)
    if class_weight is not None:
        sample_weight = data_adapter.class_weights_for(y, sample_weight, class_weight, caller)
    model.reset_metrics()
    return pack(x, y, sample_weight)


def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    """One gradient step on exactly this batch; the batch's loss and metrics (see ``Model.train_on_batch``)."""
    return_dict = check_bool(return_dict, "train_on_batch", "return_dict")
    data = _one_batch(model, "train_on_batch", x, y, sample_weight, class_weight)
    logs = pythonify_logs(model.train_step(data))
    return logs if return_dict else logs_in_order(model, logs)


def test_on_batch(model, x, y=None, sample_weight=None, return_dict=False):
    """The loss and metrics of this batch, without training (see ``Model.test_on_batch``)."""
    return_dict = check_bool(return_dict, "test_on_batch", "return_dict")
    data = _one_batch(model, "test_on_batch", x, y, sample_weight, finite=True)
    logs = pythonify_logs(model.test_step(data))
    return logs if return_dict else logs_in_order(model, logs)


def predict_on_batch(model, x):
    """The model's outputs for this batch as NumPy arrays (see ``Model.predict_on_batch``)."""
    x = data_arrays.prepare(x, "x", "predict_on_batch", "x", io_counts(model)[0], finite=True)
    with no_grad():
        return to_numpy(model.predict_step(pack(x)))
