"""``inspect(model, x, y=None, loss=None)``: one forward and one backward pass, measured layer by layer.

It leaves the model as it found it: the weights, the moving statistics of
normalization layers (restored when ``training=True`` changed them), the
random generators of dropout layers and any gradients the weights held before.
"""

import contextlib
import copy

import numpy

from .. import backend, losses, optimizers
from ..autograd import Tensor
from . import jacobian as jacobian_lib
from . import mean_field, symmetry, through_time, weights
from .recorder import Recorder, layer_paths
from .report import InitReport

JACOBIAN_AUTO_SIZE = 250_000  # "auto" computes the Jacobian when out_dim * in_dim is at most this


def _as_input(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple, dict)):
        raise TypeError("inspect: x must be one array (a batch of inputs); models with several inputs are "
                        "not supported yet")
    try:
        array = numpy.asarray(x)
    except Exception as err:  # noqa: BLE001 - anything that is not array-like
        raise TypeError(f"inspect: x must be an array of inputs, got {type(x).__name__}: {err}") from None
    if array.dtype.kind not in "biuf" or array.ndim < 1 or array.shape[0] == 0:
        raise ValueError(f"inspect: x must be a non-empty numeric batch (examples on the first axis), got shape "
                         f"{array.shape} and dtype {array.dtype}")
    if array.dtype.kind == "f" and not numpy.isfinite(array).all():
        raise ValueError("inspect: x holds NaN or infinite values")
    return Tensor(array.astype(backend.floatx()) if array.dtype.kind in "biu" else array)


def _objective(model, y_pred, y, loss, seed):
    """The scalar to differentiate and how it is named: the loss on ``y``, or a random projection of the output."""
    if y is None:
        if loss is not None:
            raise ValueError("inspect: loss= needs targets y")
        # without targets, d(objective)/d(output) is a standard normal draw: each output unit sends back a
        # gradient of unit variance, the backward pass's analogue of a unit-variance input
        rng = numpy.random.default_rng(seed)
        probe = rng.standard_normal(y_pred.shape).astype(y_pred.dtype)
        return (y_pred * Tensor(backend.to_device(probe))).sum(), "random unit-variance output gradient", None
    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError("inspect: y was given but no loss: pass loss= (e.g. 'sparse_categorical_crossentropy') "
                             "or compile the model first")
    fn = losses.get(loss)
    value = fn(Tensor(numpy.asarray(y)), y_pred)
    if value.size != 1:
        value = value.mean()
    name = loss if isinstance(loss, str) else getattr(fn, "name", type(fn).__name__)
    return value, f"loss {name}", float(value.item())


def _mean_field(model, x, records):
    try:
        predicted = mean_field.predict_preactivation_variances(model, x=x)
    except (mean_field.NotADenseStack, TypeError):  # TypeError: a bare layer, not a model
        return False
    by_name = {p["layer"]: p for p in predicted}
    for record in records:
        p = by_name.get(record["layer"].rsplit("/", 1)[-1])
        if p is not None:
            record["predicted_preactivation_variance"] = p["predicted_preactivation_variance"]
            record["chi"] = p.get("chi")
    return True


def _jacobian(model, x, mode):
    if mode is False:
        return None
    max_size = jacobian_lib.DEFAULT_MAX_SIZE if mode is True else JACOBIAN_AUTO_SIZE
    try:
        summary = jacobian_lib.jacobian_singular_values(model, x, n_samples=16, max_size=max_size)
    except (jacobian_lib.JacobianTooLarge, jacobian_lib.NotDifferentiable):  # NotDifferentiable: token ids
        if mode is True:
            raise
        return None
    summary = dict(summary)
    summary.pop("singular_values", None)
    return summary


def inspect(model, x, y=None, loss=None, optimizer=None, training=False, jacobian="auto", seed=0):
    """Measure a model's initialization on a batch: statistics per layer, network figures and verdicts.

    Per layer (Dense, Conv, normalization, Activation, at any depth of nesting): the kernel's
    initializer and its theoretical std beside the measured one; mean and std of the pre-activation
    (the argument of the activation) and of the activation; the fraction of saturated activations and
    of dead ReLU units; the std of the gradient of the objective with respect to the layer's output and
    to each weight; and ``||step|| / ||w||`` of one optimizer step (about 1e-3 is healthy). For a plain
    Dense stack, the pre-activation variance the mean-field recursion predicts (Poole et al. 2016)
    beside the measured one; for small models the singular values of the input-output Jacobian
    (Pennington et al. 2017). Network level: the ratio of the output-gradient scale of the first and
    the last layer with weights, and the verdicts (``verdicts``).

    Args:
        model: any built or unbuilt layer or model (Sequential, functional, subclassed, nested).
        x: a batch of inputs (array or Tensor, examples first).
        y: targets for ``loss``; without them the backward pass starts from a random standard-normal
            gradient at the output.
        loss: a loss name, object or function; default the compiled loss.
        optimizer: whose first step the update ratios show; default the compiled optimizer, else
            ``SGD(learning_rate=0.01)``. Taken on copies: the weights do not change.
        training: run the layers in training mode (dropout, batch statistics); the moving statistics
            this changes are restored afterwards.
        jacobian: ``"auto"`` (when ``out_dim * in_dim <= 250,000``), True (up to the Jacobian module's
            limit) or False.
        seed: the seed of the random output gradient used when ``y`` is None.

    Returns:
        An ``InitReport``: ``print(report)`` shows the table; ``report.layers``, ``report.network``,
        ``report.verdicts`` hold the data; ``report.to_json()``, ``report.plot(path)``.
    """
    if not hasattr(model, "register_forward_hook"):
        raise TypeError(f"inspect: model must be a neurona Layer or Model, got {type(model).__name__}")
    if jacobian not in ("auto", True, False):
        raise ValueError(f"inspect: jacobian must be 'auto', True or False, got {jacobian!r}")
    inputs = _as_input(x)
    if not model.built:
        model(inputs[:1], training=False)
    # the objective's gradient reaching each time step of every recurrent layer's input (masks respected)
    tap = through_time.SequenceTap(model) if _has_recurrent_layer(model) else None
    all_weights = model.weights
    saved_grads = [w.grad for w in all_weights]
    saved_fixed = [(w, w.data.copy()) for w in all_weights if not w.trainable] if training else []
    # dropout layers draw their masks from a generator of their own: a later fit draws the same masks as without
    saved_rngs = [(layer._rng, copy.deepcopy(layer._rng.bit_generator.state)) for _, layer in layer_paths(model)
                  if hasattr(getattr(layer, "_rng", None), "bit_generator")]
    try:
        for w in all_weights:
            w.grad = None
        with Recorder(model) as recorder, (tap if tap is not None else contextlib.nullcontext()):
            y_pred = model(inputs, training=bool(training))
            if not isinstance(y_pred, Tensor):
                raise TypeError("inspect: the model must return one tensor (models with several outputs are not "
                                "supported yet)")
            objective, objective_name, loss_value = _objective(model, y_pred, y, loss, seed)
            if objective.requires_grad:
                objective.backward()
        records = recorder.records()
        opt = optimizer if optimizer is not None else getattr(model, "optimizer", None)
        if isinstance(opt, (str, dict)):  # a name or config, as compile() takes them
            opt = optimizers.get(opt)
        # the gradients here are the loss's own (inspect does not scale it): the update of the inner optimizer
        opt = getattr(opt, "inner_optimizer", opt)
        ratios = weights.update_ratios(all_weights, opt)
        layer_of = dict(recorder.layers)
        for record in records:
            layer = layer_of[record["layer"]]
            record["weights"] = [weights.weight_record(w, layer, ratios.get(id(w))) for w in layer.weights]
            kernel = weights.kernel_of(layer)
            record["kernel"] = next((r for r, w in zip(record["weights"], layer.weights) if w is kernel), None)
        with_mean_field = _mean_field(model, backend.asnumpy(inputs.data), records)
        jac = _jacobian(model, backend.asnumpy(inputs.data), jacobian)
    finally:
        for w, g in zip(all_weights, saved_grads):
            w.grad = g
        for w, data in saved_fixed:
            w.data[...] = data
        for rng, state in saved_rngs:
            rng.bit_generator.state = state
    network = {"examples": int(inputs.shape[0]), "objective": objective_name, "loss": loss_value,
               "optimizer": type(opt).__name__ if opt is not None else "SGD(learning_rate=0.01)",
               "mean_field": with_mean_field, "jacobian": jac}
    from .verdicts import gradient_ratio, signal_ratio

    network["gradient_ratio"], network["signal_ratio"] = gradient_ratio(records), signal_ratio(records)
    by_layer = tap.recorded() if tap is not None else {}
    network["through_time_layers"] = by_layer
    network["through_time"] = next(iter(by_layer.values()), None)
    return InitReport(model.name, records, network, symmetry.symmetric_units(model))


def _has_recurrent_layer(model):
    from ..layers.rnn import RNN

    return any(isinstance(layer, RNN) for _, layer in layer_paths(model)) or isinstance(model, RNN)


