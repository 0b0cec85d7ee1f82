"""``VarianceScaling``: the one core behind the LeCun, Glorot (Xavier) and He (Kaiming) initializers.

Each named initializer fixes ``(scale, mode, distribution)`` and nothing else:

=============  =====  =======  ==================  ===================================
name           scale  mode     distribution        paper
=============  =====  =======  ==================  ===================================
LecunNormal    1      fan_in   truncated_normal    LeCun et al., 1998
LecunUniform   1      fan_in   uniform             LeCun et al., 1998
GlorotNormal   1      fan_avg  truncated_normal    Glorot & Bengio, 2010
GlorotUniform  1      fan_avg  uniform             Glorot & Bengio, 2010
HeNormal       2      fan_in   truncated_normal    He et al., 2015
HeUniform      2      fan_in   uniform             He et al., 2015
=============  =====  =======  ==================  ===================================
"""

import math

from .base import RandomInitializer, check_real, compute_fans
from .random import TRUNCATED_NORMAL_STDDEV, truncated_standard_normal

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """Zero-mean draws whose variance is ``scale / n``, with ``n`` read from the weight shape.

    ``n`` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2`` for ``mode``
    ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` (fans from ``compute_fans``; ``n``
    is taken as at least 1). Then, with ``distribution``:

    - ``"uniform"``: ``W ~ U[-limit, limit]`` with ``limit = sqrt(3 * scale / n)``
      (a uniform of half-width ``a`` has variance ``a^2 / 3``).
    - ``"untruncated_normal"``: ``W ~ N(0, stddev^2)`` with ``stddev = sqrt(scale / n)``.
    - ``"truncated_normal"`` (``"normal"`` is accepted as this, as in Keras 2):
      a normal with ``stddev = sqrt(scale / n) / 0.87962566103423978`` truncated
      (redrawn) beyond ``+-2 stddev``. The constant is the standard deviation of
      a unit normal truncated to ``[-2, 2]``, so the truncated draw has variance
      exactly ``scale / n``.

    Keeping ``Var(W) = scale / fan_in`` keeps the variance of pre-activations
    constant from layer to layer in the forward pass (``fan_out``: of gradients
    in the backward pass; ``fan_avg``: a compromise of the two, Glorot & Bengio,
    2010). ``scale = calculate_gain(nonlinearity) ** 2`` adapts it to an activation.

    Args:
        scale: positive scaling factor (the target variance times ``n``).
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: None or an int; see ``RandomInitializer`` for what each does.

    Example:
        >>> init = VarianceScaling(scale=2.0, mode="fan_in", distribution="untruncated_normal", seed=0)
        >>> w = init((3, 3, 16, 32))       # fan_in = 3 * 3 * 16 = 144, stddev = sqrt(2 / 144)
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        self.scale = check_real(scale, "VarianceScaling scale", minimum=0.0, strict=True)
        self.mode = _choice(mode, MODES, "mode")
        if isinstance(distribution, str) and distribution.lower() == "normal":
            distribution = "truncated_normal"
        self.distribution = _choice(distribution, DISTRIBUTIONS, "distribution")

    def variance(self, shape):
        """The target variance ``scale / n`` for a weight of ``shape``."""
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        return self.scale / max(1.0, n)

    def expected_mean(self, shape):
        """0: every distribution here is symmetric about 0."""
        compute_fans(shape)  # refuse a bad shape, as a call would
        return 0.0

    def expected_std(self, shape):
        """``sqrt(scale / n)`` for all three distributions (the truncated normal is corrected to have it)."""
        return math.sqrt(self.variance(shape))

    def generate(self, shape, dtype):
        variance, rng = self.variance(shape), self.generator()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return math.sqrt(variance) * rng.standard_normal(shape)
        return (math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV) * truncated_standard_normal(rng, shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


def _choice(value, valid, what):
    name = value.lower() if isinstance(value, str) else value
    if name not in valid:
        raise ValueError(f"VarianceScaling {what} must be one of {', '.join(map(repr, valid))}; got {value!r}")
    return name


class _Named(VarianceScaling):
    """A ``VarianceScaling`` with fixed ``(scale, mode, distribution)``: only the seed is configurable."""

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed=None):
        super().__init__(scale=self.SCALE, mode=self.MODE, distribution=self.DISTRIBUTION, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunNormal(_Named):
    """LeCun normal: truncated normal with variance ``1 / fan_in`` (stddev before truncation
    ``sqrt(1 / fan_in) / 0.8796``, cut at 2 of those).

    The initialization for SELU networks (Klambauer et al., 2017). LeCun, Bottou,
    Orr & Mueller, "Efficient BackProp", 1998.

    Args:
        seed: None or an int; see ``RandomInitializer``.
    """


class LecunUniform(_Named):
    """LeCun uniform: ``U[-limit, limit]`` with ``limit = sqrt(3 / fan_in)`` (variance ``1 / fan_in``).

    LeCun, Bottou, Orr & Mueller, "Efficient BackProp", 1998.

    Args:
        seed: None or an int; see ``RandomInitializer``.
    """

    DISTRIBUTION = "uniform"


class GlorotNormal(_Named):
    """Glorot (Xavier) normal: truncated normal with variance ``2 / (fan_in + fan_out)``.

    Stddev before truncation ``sqrt(2 / (fan_in + fan_out)) / 0.8796``, cut at 2
    of those. Glorot & Bengio, "Understanding the difficulty of training deep
    feedforward neural networks", AISTATS 2010.

    Args:
        seed: None or an int; see ``RandomInitializer``.
    """

    MODE = "fan_avg"


class GlorotUniform(_Named):
    """Glorot (Xavier) uniform: ``U[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))``.

    Variance ``2 / (fan_in + fan_out)``; Keras's default kernel initializer.
    Glorot & Bengio, "Understanding the difficulty of training deep feedforward
    neural networks", AISTATS 2010.

    Args:
        seed: None or an int; see ``RandomInitializer``.
    """

    MODE, DISTRIBUTION = "fan_avg", "uniform"


class HeNormal(_Named):
    """He (Kaiming) normal: truncated normal with variance ``2 / fan_in``, for ReLU networks.

    Stddev before truncation ``sqrt(2 / fan_in) / 0.8796``, cut at 2 of those.
    He, Zhang, Ren & Sun, "Delving Deep into Rectifiers", ICCV 2015. (PyTorch's
    ``kaiming_normal_`` uses an untruncated normal with the same variance.)

    Args:
        seed: None or an int; see ``RandomInitializer``.

    Example:
        >>> w = HeNormal(seed=0)((784, 128))   # Var(w) = 2 / 784
    """

    SCALE = 2.0


class HeUniform(_Named):
    """He (Kaiming) uniform: ``U[-limit, limit]`` with ``limit = sqrt(6 / fan_in)`` (variance ``2 / fan_in``).

    He, Zhang, Ren & Sun, "Delving Deep into Rectifiers", ICCV 2015.

    Args:
        seed: None or an int; see ``RandomInitializer``.
    """

    SCALE, DISTRIBUTION = 2.0, "uniform"
