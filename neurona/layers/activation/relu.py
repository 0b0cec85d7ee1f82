"""``ReLU``, ``LeakyReLU`` and ``ELU``: parametrized activations as layers, with Keras 3's arguments and defaults."""

from ... import ops
from ...arguments import check_real
from ..base import ShapePreservingLayer


class ReLU(ShapePreservingLayer):
    """Rectified linear unit with Keras 3's options (``keras.layers.ReLU``)::

        f(x) = max_value                            if x >= max_value
        f(x) = x                                    if threshold < x < max_value
        f(x) = negative_slope * (x - threshold)     otherwise

    (``ops.relu``'s formula). E.g. ``ReLU(max_value=6.0)`` is ``relu6``.

    Args:
        max_value: float >= 0, or None (unbounded, the default).
        negative_slope: float >= 0 (default 0).
        threshold: float >= 0 (default 0).
        **kwargs: base Layer arguments.
    """

    supports_masking = True  # elementwise: the input's mask passes on

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = check_real(max_value, "ReLU", "max_value", low=0, optional=True)
        self.negative_slope = check_real(negative_slope, "ReLU", "negative_slope", low=0)
        self.threshold = check_real(threshold, "ReLU", "threshold", low=0)

    def call(self, inputs):
        return ops.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                        threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(ShapePreservingLayer):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (Maas et al., 2013; ``keras.layers.LeakyReLU``).

    Args:
        negative_slope: float >= 0; Keras 3's default is 0.3 (its ``activations.leaky_relu``'s is 0.2).
        **kwargs: base Layer arguments; Keras 2's ``alpha=`` is accepted as the slope.
    """

    supports_masking = True

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name, which Keras 3 still reads (with a deprecation warning)
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = check_real(negative_slope, "LeakyReLU", "negative_slope", low=0)

    def call(self, inputs):
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(ShapePreservingLayer):
    """Exponential linear unit (Clevert et al., 2015; ``keras.layers.ELU``): ``x`` for ``x > 0``, else
    ``alpha * (exp(x) - 1)``.

    Args:
        alpha: the negative saturation value's magnitude (a real number, default 1.0).
        **kwargs: base Layer arguments.
    """

    supports_masking = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_real(alpha, "ELU", "alpha")

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def get_config(self):
        # Keras 3.15's ELU writes no alpha (its config forgets it); Neurona writes it, and Keras reads it back
        return {**super().get_config(), "alpha": self.alpha}
