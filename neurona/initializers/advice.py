"""Which initializer suits an activation, and whether a given pair mismatches.

Every rule keeps the variance of the signal constant from layer to layer, for
a weight drawn with ``Var(W) = scale / n``:

- rectifiers (``RECTIFIERS``: relu, relu6, leaky_relu, prelu, elu, celu, gelu, silu or swish, hard_silu,
  mish, softplus): ``he_normal``, scale 2, ``n = fan_in`` (He et al., 2015);
- saturating and linear units (``SATURATING``: tanh, sigmoid, hard_sigmoid, softsign, hard_tanh, softmax,
  log_softmax, linear, log_sigmoid, glu): ``glorot_uniform``, scale 1, ``n = (fan_in + fan_out) / 2``
  (Glorot & Bengio, 2010);
- selu: ``lecun_normal``, scale 1, ``n = fan_in`` (Klambauer et al., 2017).

Sources:

- He, Zhang, Ren & Sun, "Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet
  Classification", ICCV 2015: a rectifier zeroes half of a symmetric input, so ``E[relu(y)^2] = Var(y) / 2``;
  ``Var(W) = 2 / fan_in`` restores the factor 2 in every layer.
- Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural networks", AISTATS 2010:
  for units that are linear around 0, ``Var(W) = 1 / fan_in`` keeps the forward variance and ``1 / fan_out``
  the backward one; ``2 / (fan_in + fan_out)`` is their compromise.
- Klambauer, Unterthiner, Mayr & Hochreiter, "Self-Normalizing Neural Networks", NeurIPS 2017: SELU's fixed
  point (mean 0, variance 1) is the one the layers converge to when the weights of each unit sum to about 0 and
  their squares to about 1, which weights of mean 0 and ``Var(W) = 1 / fan_in`` give; the paper draws them
  from a normal (LeCun normal).

``recommend`` gives the rule's initializer; ``check_initializer`` flags the mismatches the rules make plain
(issue 12): a rectifier with a Glorot or LeCun initializer (about half the needed variance, so the signal
shrinks with depth), tanh or sigmoid with a He initializer (twice the variance, driving units into
saturation), SELU with anything but LeCun normal. Constant initializers are never flagged here (their
symmetry problem is the diagnostics' business), nor are biases.
"""

import dataclasses
import math

from .. import activations
from ..arguments import is_int
from ..custom_objects import is_builtin_module
from .base import normalize_shape
from .constant import Constant, Identity, Ones, Zeros
from .orthogonal import Orthogonal
from .random import RandomNormal, RandomUniform, TruncatedNormal
from .variance_scaling import VarianceScaling

HE, GLOROT, LECUN = "he_normal", "glorot_uniform", "lecun_normal"

RECTIFIERS = ("relu", "relu6", "leaky_relu", "prelu", "elu", "celu", "gelu", "silu", "hard_silu", "mish",
              "softplus")
SATURATING = ("tanh", "sigmoid", "hard_sigmoid", "softsign", "hard_tanh", "softmax", "log_softmax", "linear",
              "exponential", "log_sigmoid", "glu")  # both about linear around 0 (slopes 1/2 and a gate of 1/2)
#: the activations whose pairing with a He initializer is flagged (the issue's rule: only these two)
FLAGGED_WITH_HE = ("tanh", "sigmoid")

# other spellings of the names above (keys without underscores, as the registries compare names)
_ALIASES = {"swish": "silu", "hardswish": "hard_silu", "identity": "linear"}

_FAMILY = {**{name: HE for name in RECTIFIERS}, **{name: GLOROT for name in SATURATING}, "selu": LECUN}

# (scale, mode) of each recommendation: stddev = sqrt(scale / n), n read from the fans as ``mode`` says
_SCALE_MODE = {HE: (2.0, "fan_in"), GLOROT: (1.0, "fan_avg"), LECUN: (1.0, "fan_in")}

# why each rule holds (a Recommendation's reason)
_WHY = {
    HE: "a rectifier passes about half of its input's second moment (E[relu(y)^2] = Var(y) / 2), and "
        "Var(W) = 2 / fan_in restores that factor 2, so the signal's variance stays constant with depth "
        "(He et al., 2015)",
    GLOROT: "the unit is about linear around 0, and Var(W) = 2 / (fan_in + fan_out) keeps the variance of "
            "both the activations (1 / fan_in) and the gradients (1 / fan_out) about constant "
            "(Glorot & Bengio, 2010)",
    LECUN: "SELU self-normalizes to mean 0 and variance 1 only with zero-mean normal weights of "
           "Var(W) = 1 / fan_in (Klambauer et al., 2017)",
}

# what goes wrong with the flagged initializer, by the suggestion made instead (a Mismatch's reason);
# {given} is the flagged initializer's variance rule
_AGAINST = {
    HE: "{given} gives a rectifier about half the variance it needs (it passes about half of its input's "
        "second moment), so the signal shrinks at every layer; Var(W) = 2 / fan_in keeps it constant "
        "(He et al., 2015)",
    GLOROT: "He's Var(W) = 2 / fan_in doubles the variance of a unit that is about linear around 0, pushing it "
            "into saturation where its gradient vanishes; Var(W) = 2 / (fan_in + fan_out) keeps activations "
            "and gradients about constant (Glorot & Bengio, 2010)",
    LECUN: _WHY[LECUN],
}
_GIVEN = {"glorot": "Glorot's Var(W) = 2 / (fan_in + fan_out)", "lecun": "LeCun's Var(W) = 1 / fan_in",
          "lecun_normal": "LeCun's Var(W) = 1 / fan_in"}


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """The initializer an activation calls for.

    Attributes:
        initializer: its registry name (``"he_normal"``, ``"glorot_uniform"``, ``"lecun_normal"``).
        reason: why, with the paper.
        stddev: the weight standard deviation it gives, ``gain / sqrt(n)``, when the fans it needs were given
            (``fan_in`` for He and LeCun, both fans for Glorot); else None.
        gain: ``sqrt(scale)`` of that initializer (sqrt(2) for He, 1 for Glorot and LeCun), the factor on
            ``1 / sqrt(n)``. It is not PyTorch's ``calculate_gain``, which gives tanh 5/3 and selu 3/4 for
            ``Var(W) = gain^2 / fan_in`` rules of its own.
    """

    initializer: str
    reason: str
    stddev: float | None
    gain: float

    def __str__(self):
        std = "" if self.stddev is None else f" (weight std {self.stddev:.4g})"
        return f"Use {self.initializer}{std}: {self.reason}."


@dataclasses.dataclass(frozen=True)
class Mismatch:
    """An activation paired with an initializer its rule advises against.

    Attributes:
        activation: the activation's name (``"relu"``).
        initializer: the initializer's class name (``"GlorotUniform"``, ``"VarianceScaling"``).
        suggested: the registry name to use instead (``"he_normal"``).
        reason: why, with the paper.
    """

    activation: str
    initializer: str
    suggested: str
    reason: str

    def __str__(self):
        return f"{self.activation} with {self.initializer} -> suggest {self.suggested}: {self.reason}"


def known_activations():
    """The activation names ``recommend`` and ``check_initializer`` know, sorted."""
    return sorted(_FAMILY)


def activation_name(activation):
    """The canonical name of an activation given by name, as a function of ``neurona.activations`` or
    ``neurona.ops``, or None (linear); None when it is a callable of the user's, whose shape is unknown.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: neither a name, a callable nor None.
    """
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        key = activation.replace("_", "").lower()
        key = _ALIASES.get(key, key)
        for name in _FAMILY:
            if name.replace("_", "") == key:
                return name
        raise ValueError(f"unknown activation {activation!r}; known activations: {', '.join(known_activations())}")
    if not callable(activation):
        raise TypeError(f"activation must be a name, an activation function or None, got {activation!r} "
                        f"({type(activation).__name__})")
    try:
        saved = activations.serialize(activation)
    except (TypeError, ValueError):  # a lambda or another callable without a name to save
        return None
    if isinstance(saved, dict):  # an unregistered function: Neurona's own ops (silu, relu6 ...) are known by name
        if not (is_builtin_module(saved.get("module")) and isinstance(saved.get("config"), str)):
            return None
        saved = saved["config"]
    try:
        return activation_name(saved)
    except ValueError:  # a built-in this table has no rule for (log_softmax's cousins, ...)
        return None


def recommend(activation, fan_in=None, fan_out=None):
    """The initializer for ``activation`` and why (see the module docstring for the rules and papers).

    Args:
        activation: a name (``"relu"``, ``"tanh"``, ``"selu"``, ``"swish"`` ...), an activation function
            (``neurona.activations.relu``, ``neurona.ops.silu``) or None (linear).
        fan_in, fan_out: the weight's fans (positive ints, e.g. from ``compute_fans``), to compute ``stddev``.

    Returns:
        A ``Recommendation``.

    Raises:
        ValueError: an unknown activation name, a callable that is not a built-in activation, or a fan that is
            not positive.
        TypeError: an activation of another type, or a fan that is not an int.

    Example:
        >>> recommend("relu", fan_in=784).stddev     # sqrt(2 / 784)
        0.050507627227610534
    """
    name = activation_name(activation)
    if name is None:
        raise ValueError(f"cannot tell which activation {activation!r} is; pass its name (known activations: "
                         f"{', '.join(known_activations())})")
    fan_in, fan_out = _check_fan(fan_in, "fan_in"), _check_fan(fan_out, "fan_out")
    initializer = _FAMILY[name]
    scale, mode = _SCALE_MODE[initializer]
    n = {"fan_in": fan_in, "fan_avg": None if fan_in is None or fan_out is None else (fan_in + fan_out) / 2}[mode]
    stddev = None if n is None else math.sqrt(scale / n)
    return Recommendation(initializer, _WHY[initializer], stddev, math.sqrt(scale))


def check_initializer(activation, initializer, kind="kernel"):
    """The mismatch between ``activation`` and the ``initializer`` of a weight feeding it, or None.

    Flagged (and nothing else): a rectifier (``RECTIFIERS``) with a Glorot or LeCun initializer, suggesting
    he_normal; tanh or sigmoid with a He initializer, suggesting glorot_uniform; selu with any initializer but
    LeCun normal, suggesting lecun_normal. Variance-scaling initializers are told apart by their
    ``(scale, mode)``, not their class: ``VarianceScaling(2.0, "fan_in")`` is a He initializer. Constant ones
    (zeros, ones, constant, identity), user initializers other than ``VarianceScaling`` subclasses (their
    distribution is unknown), biases (``kind="bias"``) and an activation that is a user's callable are never
    flagged.

    Args:
        activation: as for ``recommend``.
        initializer: a name, config, class or object, as ``initializers.get`` takes.
        kind: ``"kernel"`` or ``"bias"``.

    Returns:
        A ``Mismatch`` or None.

    Raises:
        ValueError: an unknown activation or initializer name, or another ``kind``.
    """
    if kind not in ("kernel", "bias"):
        raise ValueError(f"check_initializer kind must be 'kernel' or 'bias', got {kind!r}")
    name = activation_name(activation)
    init = _resolve(initializer)
    if kind == "bias" or name is None or init is None:
        return None
    family = _family_of(init)
    suggested = None
    if name in RECTIFIERS and family in ("glorot", "lecun", "lecun_normal"):
        suggested = HE
    elif name in FLAGGED_WITH_HE and family == "he":
        suggested = GLOROT
    elif name == "selu" and family not in ("lecun_normal", "constant", None):
        suggested = LECUN
    if suggested is None:
        return None
    return Mismatch(name, type(init).__name__, suggested,
                    _AGAINST[suggested].format(given=_GIVEN.get(family)))


RECURRENT_REASON = ("a recurrent kernel multiplies the state at every time step, so the state's gradient is "
                    "multiplied by its transpose once per step: an orthogonal kernel (all singular values 1) keeps "
                    "its norm through time, a random one shrinks or grows it geometrically over the sequence "
                    "(Saxe et al. 2014; Le et al. 2015 initialize ReLU RNNs with the identity)")


def check_recurrent_initializer(activation, initializer):
    """The mismatch of a recurrent kernel's initializer, or None: a random draw (variance scaling, normal,
    uniform) is flagged, suggesting ``orthogonal``; orthogonal, identity (the IRNN of Le et al. 2015, for
    ReLU), other constants and a user's initializers are not."""
    init = _resolve(initializer)
    if init is None or isinstance(init, (Orthogonal, Zeros, Ones, Constant, Identity)):
        return None
    if not isinstance(init, (VarianceScaling, RandomNormal, RandomUniform, TruncatedNormal)):
        return None
    return Mismatch(activation_name(activation) or "recurrent", type(init).__name__, "orthogonal", RECURRENT_REASON)


def expected_std(initializer, shape):
    """The standard deviation ``initializer`` gives a weight of ``shape``, from its formula (no draw).

    Args:
        initializer: a name, config, class or object, as ``initializers.get`` takes, or None.
        shape: the weight's shape.

    Returns:
        A float, or None for None, a plain callable ``(shape, dtype) -> array`` and an ``Initializer`` subclass
        that does not implement ``expected_std``.
    """
    shape = normalize_shape(shape)
    init = _resolve(initializer)
    method = getattr(init, "expected_std", None)
    if method is None:
        return None
    try:
        return float(method(shape))
    except NotImplementedError:
        return None


def _resolve(initializer):
    # The package imports this module, so its registry (``get``) is reached at call time, not at import.
    from . import get

    return get(initializer)


def _family_of(init):
    """``"he"``, ``"glorot"``, ``"lecun_normal"``, ``"lecun"`` (uniform), ``"constant"``, ``"other"`` (another
    built-in distribution), or None for a user's initializer, whose distribution is unknown."""
    if isinstance(init, (Zeros, Ones, Constant, Identity)):
        return "constant"
    if isinstance(init, VarianceScaling):
        for family, scale, mode in (("he", 2.0, "fan_in"), ("glorot", 1.0, "fan_avg"), ("lecun", 1.0, "fan_in")):
            if init.mode == mode and math.isclose(init.scale, scale, rel_tol=1e-6):
                return "lecun_normal" if family == "lecun" and init.distribution != "uniform" else family
        return "other"
    return "other" if isinstance(init, (RandomNormal, RandomUniform, TruncatedNormal, Orthogonal)) else None


def _check_fan(value, what):
    if value is None:
        return None
    if not is_int(value):
        raise TypeError(f"recommend {what} must be a positive int or None, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"recommend {what} must be a positive int or None, got {value!r}")
    return int(value)
