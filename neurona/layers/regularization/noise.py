"""Noise layers, active only in training (identity at inference), each with its own seeded generator:
``SpatialDropout1D``/``SpatialDropout2D`` (whole channels dropped), ``GaussianNoise`` (additive),
``GaussianDropout`` (multiplicative) and ``AlphaDropout`` (SELU-preserving), with Keras's formulas."""

import math

import numpy

from ... import backend, ops
from ...arguments import check_real, is_int, shown
from ...autograd import Tensor
from ...ops.image import check_data_format
from ..base import ShapePreservingLayer, normalize_shape
from ..reshaping.spatial import check_rank
from .dropout import Dropout

ALPHA = 1.6732632423543772848170429916717  # SELU's alpha and scale, as Keras's AlphaDropout writes them
SCALE = 1.0507009873554804934193349852946


def _draw_dtype(dtype):
    """Draws in float32 for float32 and smaller dtypes (half the cost of float64 ones), else in ``dtype``."""
    return "float32" if numpy.dtype(dtype).itemsize <= 4 else dtype


def _constant(array, like):
    """``array`` as a constant Tensor on ``like``'s device, in its dtype."""
    return Tensor._wrap(backend.to_device(array.astype(like.dtype, copy=False), like.device), False)


class _SpatialDropout(Dropout):
    """Dropout with one keep/drop decision per sample and channel, shared by all the steps (pixels)."""

    rank = 1

    def __init__(self, rate, seed=None, data_format="channels_last", **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        check_rank(self, input_shape, self.rank + 2)

    def _mask_shape(self, shape):
        if self.data_format == "channels_first":
            return shape[:2] + (1,) * self.rank
        return (shape[0],) + (1,) * self.rank + (shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        return config


class SpatialDropout1D(_SpatialDropout):
    """Whole feature channels of ``(batch, steps, channels)`` inputs zeroed with probability ``rate`` in training,
    the others scaled by ``1 / (1 - rate)``. Reference: Tompson et al., "Efficient object localization using
    convolutional networks", CVPR 2015.

    Args:
        rate: the fraction of channels dropped, in [0, 1).
        seed: a non-negative int seeding the layer's generator (else drawn from ``neurona.seed``).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Whole feature maps of ``(batch, rows, cols, channels)`` images zeroed with probability ``rate`` in training,
    the others scaled by ``1 / (1 - rate)`` (Tompson et al., CVPR 2015).

    Args:
        rate: the fraction of feature maps dropped, in [0, 1).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: a non-negative int seeding the layer's generator.
    """

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, data_format=data_format, **kwargs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class _Noise(ShapePreservingLayer):
    """A layer that changes its inputs with random numbers in training only (``active``), the identity otherwise."""

    supports_masking = True

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be None or a non-negative int, got {shown(seed)}")
        self.seed = None if seed is None else int(seed)
        self._rng = backend.make_generator(self.seed)

    def call(self, inputs, training=None):
        return self._noisy(inputs) if training and self.active else inputs

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class GaussianNoise(_Noise):
    """``x + noise`` in training, with noise drawn from ``N(0, stddev^2)`` for every value; the identity at inference.

    Args:
        stddev: the noise's standard deviation, in [0, 1] (Keras's bounds).
        seed: a non-negative int seeding the layer's generator.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.stddev = check_real(stddev, "GaussianNoise", "stddev", low=0, high=1)
        self.active = self.stddev > 0

    def _noisy(self, inputs):
        noise = self._rng.standard_normal(inputs.shape, dtype=_draw_dtype(inputs.dtype)) * self.stddev
        return ops.add(inputs, _constant(noise, inputs))

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class _RateNoise(_Noise):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.rate = check_real(rate, type(self).__name__, "rate", low=0, high=1, high_open=True)
        self.active = self.rate > 0

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class GaussianDropout(_RateNoise):
    """``x * noise`` in training, noise from ``N(1, rate / (1 - rate))`` (the variance of dropout at ``rate``);
    the identity at inference. Reference: Srivastava et al., JMLR 2014, section 10.

    Args:
        rate: the drop probability it mimics, in [0, 1).
        seed: a non-negative int seeding the layer's generator.
    """

    def _noisy(self, inputs):
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self._rng.standard_normal(inputs.shape, dtype=_draw_dtype(inputs.dtype)) * stddev + 1.0
        return ops.mul(inputs, _constant(noise, inputs))


class AlphaDropout(_RateNoise):
    """Dropout that keeps SELU activations' mean and variance: in training, dropped values are set to SELU's
    negative saturation ``alpha' = -scale * alpha``, then ``a * x + b`` with ``a = ((1 - rate)(1 + rate
    alpha'^2))^-1/2`` and ``b = -a alpha' rate``; the identity at inference. Reference: Klambauer et al.,
    "Self-normalizing neural networks", NeurIPS 2017.

    Args:
        rate: the fraction of values dropped, in [0, 1).
        noise_shape: the shape of the keep mask, broadcast against the input (None entries take the input's size).
        seed: a non-negative int seeding the layer's generator.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, seed, **kwargs)
        self.noise_shape = None if noise_shape is None else normalize_shape(noise_shape, "AlphaDropout noise_shape")

    _mask_shape = Dropout._mask_shape  # the same broadcasting of noise_shape against the input

    def _noisy(self, inputs):
        alpha_p = -ALPHA * SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        kept = self._rng.random(self._mask_shape(inputs.shape), dtype=_draw_dtype(inputs.dtype)) >= self.rate
        # a * (x * kept + alpha_p * (1 - kept)) + b = x * (a * kept) + (a * alpha_p * (1 - kept) + b)
        scale = _constant(a * kept, inputs)
        return ops.add(ops.mul(inputs, scale), _constant(a * alpha_p * (1 - kept) + b, inputs))

    def get_config(self):
        return {**super().get_config(), "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}
