"""Mean-field signal propagation through plain Dense stacks: the theory printed beside the measured statistics.

For a wide network with weights ``W_ij`` of zero mean and second moment ``sigma_w^2 / fan_in`` and biases of
second moment ``sigma_b^2``, each pre-activation ``h^l_i = sum_j W^l_ij phi(h^{l-1}_j) + b^l_i`` is, over the
random weights, a Gaussian of zero mean whose second moment follows the length map (Poole et al. 2016,
"Exponential expressivity in deep neural networks through transient chaos", eq. 3; Schoenholz et al. 2017,
"Deep information propagation")::

    q^l = sigma_w^2 * E[phi(z)^2] + sigma_b^2,        z ~ N(0, q^{l-1})

and a small perturbation of ``h^{l-1}`` is multiplied, in mean square, by
``chi_1 = sigma_w^2 * E[phi'(z)^2]`` (Poole et al. 2016, eq. 7): ``chi_1 < 1`` (ordered) gradients vanish,
``chi_1 > 1`` (chaotic) they explode, ``chi_1 = 1`` is the edge of chaos (He init for ReLU, ``sigma_w^2 = 2``).

``predict_preactivation_variances`` runs the recursion with ``sigma_w^2`` and ``sigma_b^2`` read from each Dense
layer's current weights; ``measured_preactivation_variances`` computes the same statistics from a real forward
pass, to be printed beside it.
"""

import math

import numpy as np
from numpy.polynomial.legendre import leggauss

from .. import activations
from ..arguments import is_real
from ..autograd import Tensor, enable_grad, no_grad
from ..layers import Activation, Dense, Dropout, Flatten, Identity, InputLayer, Reshape
from ..models.functional import Functional
from ..models.model import Model
from ..models.sequential import Sequential

LEGENDRE_POINTS = 100  # per half-line
LEGENDRE_SPAN = 10.0  # standard deviations: the Gaussian mass beyond is 2 * Phi(-10), about 1.5e-23

# (E[phi(z)^2] / q, E[phi'(z)^2]) for positively homogeneous activations, from symmetry of N(0, q): the positive
# half-line carries half of E[z^2] = q. leaky_relu is the registry's function, with Keras's slope 0.2.
_LEAKY_SLOPE = 0.2
_HOMOGENEOUS = {
    "linear": (1.0, 1.0),
    "relu": (0.5, 0.5),
    "leaky_relu": ((1 + _LEAKY_SLOPE ** 2) / 2, (1 + _LEAKY_SLOPE ** 2) / 2),
}
_PASS_THROUGH = (InputLayer, Flatten, Reshape, Dropout, Identity)  # no change to the statistics at inference


class NotADenseStack(ValueError):
    """The model is not a chain of Dense layers (with Activation, Flatten, Reshape, Dropout, InputLayer between)."""


# ---- activations ------------------------------------------------------------------------------------------
def _name_of(fn):
    """The registry name of a built-in activation, else None (a custom function, a lambda, a partial)."""
    try:
        name = activations.serialize(fn)
    except (TypeError, ValueError):  # lambdas and partials have no name to serialize
        return None
    return name if isinstance(name, str) else None


class _Composed:
    """Activations applied one after the other (a Dense's own, then Activation layers): one elementwise map."""

    def __init__(self, parts):
        self.parts = [p for p in parts if p is not activations.linear]  # the identity changes nothing
        self.name = (_name_of(self.parts[0]) if len(self.parts) == 1 else
                     "linear" if not self.parts else None)

    def __call__(self, x):
        for part in self.parts:
            x = part(x)
        return x


def _resolve(activation):
    if isinstance(activation, _Composed):
        return activation
    if activation is None or isinstance(activation, (str, dict)) or callable(activation):
        return _Composed([activations.get(activation)])
    raise TypeError(f"activation must be a name, a function or None, got {activation!r}")


def _check_q(q):
    if not is_real(q) or not math.isfinite(q) or q < 0:
        raise ValueError(f"q (the variance of the Gaussian input) must be a finite number >= 0, got {q!r}")
    return float(q)


def _rule():
    """(nodes, weights) of a quadrature for E[g(t)], t ~ N(0, 1): Gauss-Legendre on each half-line.

    Not Gauss-Hermite over the whole line: it converges only algebraically across a kink at 0 (elu, selu, custom
    piecewise maps), and slowly for a smooth map that is sharp on the Gaussian's scale (``tanh`` at ``q = 25``:
    1% off with 101 Hermite nodes). Each half-line, cut at 10 standard deviations, is smooth for all of them.
    """
    x, w = leggauss(LEGENDRE_POINTS)
    t = (x + 1) * LEGENDRE_SPAN / 2
    w = w * LEGENDRE_SPAN / 2 * np.exp(-t ** 2 / 2) / math.sqrt(2 * math.pi)
    return np.concatenate([-t[::-1], t]), np.concatenate([w[::-1], w])


def _values_and_slopes(act, z):
    """``phi(z)`` and ``phi'(z)`` at the points ``z`` (1-D float64), the slope by Neurona's own autograd."""
    row = Tensor(np.asarray(z, dtype=np.float64).reshape(1, -1), requires_grad=True)
    with enable_grad():
        out = act(row)
        if not isinstance(out, Tensor) or tuple(out.shape) != row.shape:
            raise ValueError(f"activation {act.name or act.parts} is not elementwise: on shape {row.shape} it "
                             f"returned {getattr(out, 'shape', type(out).__name__)}")
        column = act(Tensor(row.data.reshape(-1, 1)))
    values = out.numpy().ravel()
    # softmax-like maps (normalizing along an axis) agree with themselves only on one layout
    if not np.allclose(values, column.numpy().ravel(), rtol=1e-6, atol=1e-9, equal_nan=True):
        raise ValueError(f"activation {act.name or act.parts} is not elementwise (its value at a point depends on "
                         "the other entries, as softmax's does): the mean-field recursion needs phi(z) per unit")
    if out.requires_grad:
        out.backward(np.ones(out.shape))
        slopes = row.grad.ravel() if row.grad is not None else np.zeros_like(values)
    else:  # a constant activation
        slopes = np.zeros_like(values)
    return values, np.asarray(slopes, dtype=np.float64)


def _gaussian_moments(act, q):
    """(E[phi(z)^2], E[phi'(z)^2]) for z ~ N(0, q)."""
    if act.name in _HOMOGENEOUS:
        square, slope = _HOMOGENEOUS[act.name]
        return square * q, slope
    nodes, weights = _rule()
    values, slopes = _values_and_slopes(act, math.sqrt(q) * nodes)
    return float(weights @ values ** 2), float(weights @ slopes ** 2)


def expected_square(activation, q):
    """``E[phi(z)^2]`` for ``z ~ N(0, q)``: the length map's integral (Poole et al. 2016, eq. 3).

    Closed forms for the positively homogeneous activations: ``linear`` gives ``q``, ``relu`` ``q / 2``,
    ``leaky_relu`` (slope 0.2) ``(1 + 0.2^2) q / 2``. Every other activation (``tanh``, ``sigmoid``, ``gelu``,
    ``elu``, ``selu``, custom functions) by Gauss-Legendre quadrature on each half-line (100 nodes each, out to
    10 standard deviations), where the integrand is smooth even when ``phi`` has a kink at 0; the tests check it
    against Gauss-Hermite, closed forms and Monte Carlo.

    Args:
        activation: a name (``"tanh"``), an activation function (``nr.activations.tanh`` or any elementwise
            callable on Tensors), or None (linear).
        q: the variance of ``z`` (a number >= 0).

    Returns:
        float.
    """
    return _gaussian_moments(_resolve(activation), _check_q(q))[0]


def chi(activation, q, sigma_w2=1.0):
    """``chi_1 = sigma_w^2 * E[phi'(z)^2]`` for ``z ~ N(0, q)`` (Poole et al. 2016, eq. 7).

    The mean-square factor by which one layer stretches a small perturbation of its input pre-activations:
    below 1 the signal's perturbations (and the gradients) vanish with depth, above 1 they explode. ``phi'``
    comes from Neurona's autograd, integrated with the rule ``expected_square`` uses; ``relu``'s is 1/2,
    ``linear``'s 1, ``leaky_relu``'s ``(1 + 0.2^2) / 2``.

    Args:
        activation: a name, an activation function or None (linear).
        q: the variance of ``z`` (a number >= 0).
        sigma_w2: the weight scale ``fan_in * E[W^2]`` (a number >= 0).
    """
    if not is_real(sigma_w2) or not math.isfinite(sigma_w2) or sigma_w2 < 0:
        raise ValueError(f"sigma_w2 must be a finite number >= 0, got {sigma_w2!r}")
    return float(sigma_w2) * _gaussian_moments(_resolve(activation), _check_q(q))[1]


def fixed_point(activation, sigma_w2, sigma_b2=0.0, q0=1.0, max_iter=2000, tol=1e-10):
    """The fixed point ``q*`` of the length map ``q -> sigma_w^2 E[phi(z)^2] + sigma_b^2`` (Poole et al. 2016).

    Iterated from ``q0`` until the relative change is below ``tol``. Returns ``(q*, converged)``; ``q*`` is
    ``inf`` when the map grows without bound (ReLU with ``sigma_w^2 > 2``). ``chi(activation, q*, sigma_w2)``
    then tells the ordered (< 1) from the chaotic (> 1) phase.
    """
    act = _resolve(activation)
    for name, value in (("sigma_w2", sigma_w2), ("sigma_b2", sigma_b2), ("q0", q0)):
        if not is_real(value) or not math.isfinite(value) or value < 0:
            raise ValueError(f"fixed_point: {name} must be a finite number >= 0, got {value!r}")
    q = float(q0)
    for _ in range(int(max_iter)):
        new = float(sigma_w2) * _gaussian_moments(act, q)[0] + float(sigma_b2)
        if not math.isfinite(new) or new > 1e100:  # far past any float32 activation: unbounded growth
            return math.inf, False
        if abs(new - q) <= tol * max(new, q, 1e-300):
            return new, True
        q = new
    return q, False


# ---- the model as a chain ---------------------------------------------------------------------------------
def _functional_chain(model):
    """The layers of a single-input, single-output graph in which every node reads the previous node's output."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise NotADenseStack(f"model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} "
                             "outputs; a plain Dense stack has one of each")
    chain, tensor = [], model.outputs[0]
    while tensor is not model.inputs[0]:
        node = tensor.node
        if len(node.inputs) != 1:
            raise NotADenseStack(f"layer {node.layer.name!r} ({type(node.layer).__name__}) of model "
                                 f"{model.name!r} reads {len(node.inputs)} tensors; a plain Dense stack is a chain")
        chain.append(node.layer)
        tensor = node.inputs[0]
    return chain[::-1]


def dense_chain(model):
    """The model's layers in the order they run, nested Sequential/functional chains flattened.

    Raises:
        NotADenseStack: naming the first layer that is not a Dense, an Activation or a layer that leaves the
            statistics unchanged at inference (InputLayer, Flatten, Reshape, Dropout, Identity).
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a neurona Model (Sequential or functional), got {type(model).__name__}")
    if isinstance(model, Sequential):
        if not model.built:
            raise ValueError(f"model {model.name!r} is not built: give it an Input or call it on data first")
        layers = model.layers
    elif isinstance(model, Functional):
        layers = _functional_chain(model)
    else:
        raise NotADenseStack(f"model {model.name!r} is a subclassed Model ({type(model).__name__}): its call() is "
                             "arbitrary Python, not a chain of Dense layers")
    out = []
    for layer in layers:
        if isinstance(layer, Model):
            out.extend(dense_chain(layer))
        elif isinstance(layer, (Dense, Activation, *_PASS_THROUGH)):
            out.append(layer)
        else:
            raise NotADenseStack(f"layer {layer.name!r} ({type(layer).__name__}) of model {model.name!r} is not "
                                 "a Dense, Activation, Flatten, Reshape, Dropout or InputLayer: the mean-field "
                                 "recursion is for plain Dense stacks")
    if not any(isinstance(layer, Dense) for layer in out):
        raise NotADenseStack(f"model {model.name!r} has no Dense layer")
    return out


def _as_array(x, what="x"):
    data = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind not in "biuf" or data.ndim < 2 or data.shape[0] == 0:
        raise ValueError(f"{what} must be a numeric batch (batch, features...), got dtype {data.dtype} and shape "
                         f"{data.shape}")
    return data.astype(np.float64)


def _weight_scales(layer):
    if layer.kernel is None:
        raise ValueError(f"layer {layer.name!r} (Dense) is not built: build or call the model first")
    kernel = layer.kernel.numpy().astype(np.float64)
    # second moments, not variances: E[h_i^2] over units needs fan_in * E[W^2] + E[b^2] (equal to the variances
    # for zero-mean weights; a bias of constant 0.1 still adds 0.01 to every q)
    sigma_w2 = kernel.shape[0] * float(np.mean(kernel ** 2))
    sigma_b2 = float(np.mean(layer.bias.numpy().astype(np.float64) ** 2)) if layer.bias is not None else 0.0
    return sigma_w2, sigma_b2


# ---- prediction and measurement ---------------------------------------------------------------------------
def predict_preactivation_variances(model, input_variance=None, x=None):
    """The mean-field second moment ``q^l`` of every Dense layer's pre-activation, from its current weights.

    ``q^l = sigma_w^2 * s^{l-1} + sigma_b^2`` with ``sigma_w^2 = fan_in * mean(W^2)`` and
    ``sigma_b^2 = mean(b^2)`` (``Var(b) + mean(b)^2``) of layer ``l``, and ``s^{l-1}`` the second moment of the
    layer's input: ``E[phi(z)^2]``, ``z ~ N(0, q^{l-1})``, for a hidden layer (``phi`` the previous Dense's
    activation followed by any Activation layers); for the first layer ``mean(x^2)`` over the samples and features
    of ``x`` (after any Activation layers before it), else ``input_variance`` for an input of that variance
    (Gaussian when an activation is applied to it). Each entry's ``chi`` is ``sigma_w^2 * E[phi'(z)^2]`` of the
    map from the previous pre-activation (from the input for the first layer). Poole et al. 2016; Schoenholz et
    al. 2017.

    Compare ``q^l`` with the pooled second moment of the measured pre-activations (over units and samples,
    ``measured_preactivation_variances``); it equals their variance when the pre-activations have zero mean.

    Args:
        model: a Sequential or functional chain of Dense layers (with Activation, Flatten, Reshape, Dropout,
            InputLayer between; nested chains allowed).
        input_variance: the input's second moment when ``x`` is not given (default 1.0).
        x: a batch of inputs; its second moment starts the recursion.

    Returns:
        A list, one dict per Dense layer: ``layer``, ``fan_in``, ``units``, ``sigma_w2``, ``sigma_b2``,
        ``input_second_moment``, ``predicted_preactivation_variance``, ``chi`` (plain floats).

    Raises:
        NotADenseStack: the model is not such a chain (the message names the first layer that does not fit).
    """
    if x is not None and input_variance is not None:
        raise ValueError("give x or input_variance, not both")
    chain = dense_chain(model)
    if x is None:
        q_in = 1.0 if input_variance is None else input_variance
        if not is_real(q_in) or not math.isfinite(q_in) or q_in < 0:
            raise ValueError(f"input_variance must be a finite number >= 0, got {input_variance!r}")
        data, q_prev = None, float(q_in)
    else:
        data, q_prev = _as_array(x), None
    pending, owners, results = [], [], []  # activations waiting for the next Dense, and the layers they belong to
    for layer in chain:
        if isinstance(layer, Activation):
            pending.append(layer.activation)
            owners.append(layer.name)
        elif isinstance(layer, Dense):
            act = _Composed(pending)
            try:
                if data is not None:  # the first layer, on real inputs
                    values, slopes = _values_and_slopes(act, data.ravel()) if act.parts else (data.ravel(), None)
                    second, slope = float(np.mean(values ** 2)), 1.0 if slopes is None else float(np.mean(slopes ** 2))
                    data = None
                else:
                    second, slope = _gaussian_moments(act, q_prev)
            except ValueError as error:  # softmax (or another non-elementwise map) feeding a Dense layer
                raise NotADenseStack(f"the activation of layer(s) {owners} of model {model.name!r}, feeding Dense "
                                     f"layer {layer.name!r}: {error}") from None
            sigma_w2, sigma_b2 = _weight_scales(layer)
            q_prev = sigma_w2 * second + sigma_b2
            results.append({"layer": layer.name, "fan_in": int(layer.kernel.shape[0]), "units": layer.units,
                            "sigma_w2": sigma_w2, "sigma_b2": sigma_b2, "input_second_moment": second,
                            "predicted_preactivation_variance": float(q_prev), "chi": sigma_w2 * slope})
            pending, owners = [layer.activation], [layer.name]
    return results


def measured_preactivation_variances(model, x):
    """Every Dense layer's pre-activation (``inputs @ kernel + bias``) measured on ``x``, in inference mode.

    Returns:
        A list, one dict per Dense layer: ``layer``, ``measured_preactivation_variance`` (the variance pooled over
        units and samples) and ``measured_preactivation_second_moment`` (the mean square, what
        ``predict_preactivation_variances`` predicts).

    Raises:
        NotADenseStack: as ``predict_preactivation_variances``.
    """
    chain = dense_chain(model)
    h = Tensor(_as_array(x))  # float64 here; each Dense casts it to its kernel's dtype
    results = []
    with no_grad():
        for layer in chain:
            if isinstance(layer, InputLayer):
                continue
            if isinstance(layer, Dense):
                _weight_scales(layer)  # refuses an unbuilt layer with its name
                pre = h.astype(layer.kernel.dtype) @ layer.kernel
                if layer.bias is not None:
                    pre = pre + layer.bias
                values = pre.numpy().astype(np.float64)
                results.append({"layer": layer.name, "measured_preactivation_variance": float(np.var(values)),
                                "measured_preactivation_second_moment": float(np.mean(values ** 2))})
                h = layer.activation(pre)
            else:
                h = layer(h, training=False)
    return results


__all__ = [
    "NotADenseStack", "expected_square", "chi", "fixed_point", "dense_chain", "predict_preactivation_variances",
    "measured_preactivation_variances",
]
