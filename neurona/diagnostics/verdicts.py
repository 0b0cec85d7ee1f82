"""Plain-words verdicts from the measured figures, each with the threshold that triggered it.

The thresholds (module constants, so a teacher can show and change them):

- vanishing / exploding gradients: the ratio of the gradient scale (per-example
  norm at the pre-activation, ``gradient_ratio``) of the first layer with weights
  to that of the last is below
  ``VANISHING_RATIO`` or above ``EXPLODING_RATIO`` (a healthy network keeps it
  within about one order of magnitude; Glorot & Bengio 2010, He et al. 2015
  chose their variances so that it stays 1). The forward signal is judged the
  same way, from the pre-activation std of the last layer with weights against
  the first.
- saturated: a layer with more than ``SATURATION_LIMIT`` of its activations in
  a saturating region (see ``statistics``).
- dead units: a ReLU-family layer with more than ``DEAD_LIMIT`` of its units
  at zero on the whole batch (judged on batches of ``DEAD_MIN_EXAMPLES`` or more).
- symmetric units: any hidden layer with identical units (``symmetry``).
"""

import math

from .symmetry import message as symmetry_message

VANISHING_RATIO = 1e-2
EXPLODING_RATIO = 1e2
SATURATION_LIMIT = 0.10
DEAD_LIMIT = 0.10
DEAD_MIN_EXAMPLES = 16  # a unit off on every one of fewer examples than this is not evidence it is dead

KINDS = ("vanishing", "exploding", "saturated", "dead units", "symmetric units")


def _with_weights(records):
    return [r for r in records if r.get("weights")]


def _ratio(first, last):
    if first is None or last is None or not all(map(math.isfinite, (first, last))):
        return None
    if last == 0:
        return math.inf if first > 0 else None
    return first / last


def gradient_ratio(records):
    """Gradient scale at the first layer with weights over that at the last (None when unknown).

    The scale is the per-example norm of the gradient with respect to the layer's pre-activation (its
    output for layers without an activation): taken before the activation, a softmax output does not
    inflate the last layer's figure, and as a norm it compares layers of different widths.
    """
    def scale(r):
        value = r.get("preactivation_grad_norm")
        return r.get("output_grad_norm") if value is None else value

    layers = [r for r in _with_weights(records) if scale(r) is not None]
    if len(layers) < 2:
        return None
    return _ratio(scale(layers[0]), scale(layers[-1]))


def signal_ratio(records):
    """Pre-activation std of the last layer with weights over that of the first (None when unknown)."""
    layers = [r for r in _with_weights(records) if r.get("preactivation_std") is not None]
    if len(layers) < 2 or layers[0]["preactivation_std"] == 0:  # a zero first layer: no signal to compare with
        return None
    return _ratio(layers[-1]["preactivation_std"], layers[0]["preactivation_std"])


def judge(records, symmetric):
    """The list of verdicts ``{"kind", "layers", "message"}`` for a pass's records; empty when healthy."""
    found = []
    grads, signal = gradient_ratio(records), signal_ratio(records)
    names = [r["layer"] for r in _with_weights(records)]
    ends = [names[0], names[-1]] if names else []
    if grads is not None and grads < VANISHING_RATIO:
        found.append({"kind": "vanishing", "layers": ends, "message": (
            f"vanishing gradients: the gradient reaching the first layer is {grads:.2g} times the one at the "
            "last, so the early layers barely learn. Use an initializer scaled to the activation "
            "(he_normal for ReLU, glorot for tanh/sigmoid), a non-saturating activation, or normalization")})
    elif grads is not None and grads > EXPLODING_RATIO:
        found.append({"kind": "exploding", "layers": ends, "message": (
            f"exploding gradients: the gradient reaching the first layer is {grads:.3g} times the one at the "
            "last, so early updates are huge and training diverges. Use smaller initial weights "
            "(he_normal / glorot scale by the fan-in) or gradient clipping")})
    if signal is not None and signal > EXPLODING_RATIO and not any(v["kind"] == "exploding" for v in found):
        found.append({"kind": "exploding", "layers": ends, "message": (
            f"exploding activations: the pre-activations of the last layer are {signal:.3g} times as spread as "
            "those of the first. The weights are too large for the depth: scale them by the fan-in (he_normal, "
            "lecun_normal)")})
    if signal is not None and signal < VANISHING_RATIO and not any(v["kind"] == "vanishing" for v in found):
        found.append({"kind": "vanishing", "layers": ends, "message": (
            f"vanishing signal: the pre-activations of the last layer are {signal:.2g} times as spread as those of "
            "the first, so deep layers see almost constant inputs. The weights are too small for the depth")})
    found += _fraction_verdict(records, "saturated_fraction", SATURATION_LIMIT, "saturated", lambda n, worst: (
        f"saturated units in {n} layer(s) (worst {worst['layer']!r}: {worst['saturated_fraction']:.0%} of "
        f"activations in the flat region of {worst['activation']}), where the derivative is almost zero and no "
        "gradient passes. The pre-activations are too large: use glorot initialization or smaller inputs"))
    examples = min((r["output_shape"][0] for r in records if r.get("output_shape")), default=0)
    dead_records = records if examples >= DEAD_MIN_EXAMPLES else []  # on a few examples any unit may be off
    found += _fraction_verdict(dead_records, "dead_fraction", DEAD_LIMIT, "dead units", lambda n, worst: (
        f"dead units in {n} layer(s) (worst {worst['layer']!r}: {worst['dead_fraction']:.0%} of its units output "
        "0 for every example of the batch), which get no gradient and never recover. Look for a large negative "
        "bias or weights too large; deep plain ReLU stacks also lose units with depth even under he_normal "
        "(Lu et al. 2019), which residual connections and normalization counter"))
    if symmetric:
        found.append({"kind": "symmetric units", "layers": [s["layer"] for s in symmetric],
                      "message": symmetry_message(symmetric)})
    return found


def _fraction_verdict(records, key, limit, kind, text):
    """``[verdict]`` when some layer's ``key`` fraction exceeds ``limit`` (``text(n_layers, worst_record)``)."""
    flagged = [r["layer"] for r in records if (r.get(key) or 0) > limit]
    if not flagged:
        return []
    worst = max(records, key=lambda r: r.get(key) or 0)
    return [{"kind": kind, "layers": flagged, "message": text(len(flagged), worst)}]


def summary(verdicts):
    """One line: ``"healthy"`` or the kinds found (``"vanishing, saturated"``)."""
    return "healthy" if not verdicts else ", ".join(dict.fromkeys(v["kind"] for v in verdicts))
