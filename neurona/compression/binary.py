"""BinaryConnect: Dense and convolution layers that compute with binary weights ``{-H, +H}``.

Courbariaux, Bengio and David 2015 ("BinaryConnect: Training Deep Neural Networks with binary weights during
propagations") keep real-valued weights ``w`` but run the forward and backward passes with ``w_b = H sign(w)``
(or a stochastic sign, ``+H`` with probability ``hard_sigmoid(w / H)``); the gradient with respect to ``w_b``
updates ``w`` (the straight-through estimator, ``ops.quantization.binarize_weights``), and ``w`` is clipped
to ``[-H, H]`` after every update, since a weight beyond ``H`` would not change its sign any more and, under
the hard-tanh estimator, would receive no gradient. Here:

- ``binary_connect(model)`` returns a copy whose Dense/Conv1D/Conv2D kernels are wrapped in ``BinaryWrapper``s,
  their real-valued kernels clipped into ``[-H, H]``; biases stay real-valued, as in the paper.
- The clip after each update is the ``ClipBinaryWeights`` callback (pass it to ``fit``): Neurona has no weight
  constraints (Larq, the Keras library of binarized networks, writes it ``kernel_constraint="weight_clip"``),
  and a callback run after each step is how TF-MOT's ``UpdatePruningStep`` (``pruning.py``) maintains its
  kernels too.
- ``strip_binary(model)`` returns the plain model whose kernels hold ``H sign(w)``, for export and serving;
  ``export_onnx`` of the wrapped model writes the same binarized kernels (``onnx_binary.py``).

``H``, one per layer: ``scale="glorot"`` is the paper code's ``H = "Glorot"``, ``sqrt(1.5 / (fan_in +
fan_out))`` (half the Glorot-uniform bound; ``compute_fans`` reads the same fans as its Lasagne layers),
``scale="glorot_uniform"`` the Glorot-uniform bound ``sqrt(6 / (fan_in + fan_out))`` itself (binary weights
of that magnitude have variance ``6 / (fan_in + fan_out)``), a number is used as it is (the paper's
experiments, which follow every layer by batch normalization, use ``H = 1``). The paper's other trick, a
learning rate scaled by ``1 / H`` for the binarized weights (``W_LR_scale``), is the optimizer's business and
is not reproduced: with Adam the step is about the learning rate whatever the gradient's scale.

At inference a stochastic wrapper binarizes deterministically (the paper evaluates its stochastic networks
with the real-valued weights instead, section 2.6), so that every model this module writes is binary.
"""

import itertools
import math

from .. import backend
from ..arguments import is_int, is_real
from ..autograd import no_grad
from ..callbacks.callback import Callback
from ..initializers.base import compute_fans
from ..ops.quantization import binarize_weights
from .transform import check_model, find_wrappers, stripped_copy, target_layers, wrapped_copy
from .wrapper import KernelWrapper

# the named scales: H as a function of (fan_in, fan_out)
SCALES = {"glorot": lambda fan_in, fan_out: math.sqrt(1.5 / (fan_in + fan_out)),
          "glorot_uniform": lambda fan_in, fan_out: math.sqrt(6.0 / (fan_in + fan_out))}


def _check_scale(scale, what):
    if isinstance(scale, str):
        if scale not in SCALES:
            raise ValueError(f"{what}: scale must be one of {sorted(SCALES)} or a positive number, got {scale!r}")
        return scale
    if not is_real(scale) or not 0.0 < float(scale) < math.inf:
        raise ValueError(f"{what}: scale must be one of {sorted(SCALES)} or a positive finite number, got "
                         f"{scale!r}")
    return float(scale)


class BinaryWrapper(KernelWrapper):
    """A Dense, Conv1D or Conv2D layer computing with its kernel binarized to ``{-H, +H}`` (BinaryConnect).

    Args:
        layer: the layer to binarize (or a serialized one).
        scale: ``H``: ``"glorot"`` (``sqrt(1.5 / (fan_in + fan_out))``, the paper code's), ``"glorot_uniform"``
            (``sqrt(6 / (fan_in + fan_out))``) or a positive number.
        stochastic: training calls draw each sign with ``P(+H) = hard_sigmoid(w / H)`` (stochastic
            BinaryConnect); inference is always deterministic, ``H sign(w)``.
        seed: a non-negative int seeding the stochastic draws (else drawn from ``neurona.seed``).
        **kwargs: base Layer arguments (the name defaults to ``binary_<layer name>``).
    """

    prefix = "binary"
    onnx_converter_module = "neurona.compression.onnx_binary"

    def __init__(self, layer, scale="glorot", stochastic=False, seed=None, **kwargs):
        super().__init__(layer, **kwargs)
        self.scale = _check_scale(scale, "BinaryWrapper")
        if not isinstance(stochastic, bool):
            raise TypeError(f"BinaryWrapper stochastic must be a bool, got {stochastic!r}")
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ValueError(f"BinaryWrapper seed must be None or a non-negative int, got {seed!r}")
        self.stochastic, self.seed = stochastic, None if seed is None else int(seed)
        self._rng = backend.make_generator(self.seed) if stochastic else None

    @property
    def H(self):  # noqa: N802 (the paper's name)
        """The magnitude of the binary weights (the layer must be built for a named scale)."""
        if isinstance(self.scale, float):
            return self.scale
        if self.layer.kernel is None:
            raise ValueError(f"layer {self.name!r} (BinaryWrapper): scale {self.scale!r} depends on the kernel's "
                             "shape; build the layer first")
        return SCALES[self.scale](*compute_fans(self.layer.kernel.shape))

    def binary_kernel(self, training=False):
        """The kernel the layer computes with: ``H sign(w)``, or the stochastic draw in training."""
        rng = self._rng if training and self.stochastic else None
        return binarize_weights(self.layer.kernel, self.H, rng)

    def call(self, inputs, training=None):
        return self.call_inner(inputs, training, kernel=self.binary_kernel(bool(training)))

    def clip_kernel(self):
        """Clip the real-valued kernel to ``[-H, H]`` in place (the paper's clip after each update)."""
        h = self.H
        with no_grad():
            self.layer.kernel.assign(backend.xp_of(self.layer.kernel.data).clip(self.layer.kernel.data, -h, h))

    def binarized_weights(self):
        """The inner layer's weights (``get_weights`` order) with the kernel replaced by ``H sign(w)``."""
        with no_grad():
            kernel = self.binary_kernel()
        return [backend.asnumpy(kernel.data) if v is self.layer.kernel else v.numpy() for v in self.layer.weights]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "stochastic": self.stochastic, "seed": self.seed}


def binary_wrappers(model):
    """The ``BinaryWrapper`` layers of ``model`` (nested models included), in model order."""
    return find_wrappers(model, BinaryWrapper)


class ClipBinaryWeights(Callback):
    """Clips the real-valued kernel of every ``BinaryWrapper`` to ``[-H, H]`` after each training step (and once
    before the first), BinaryConnect's clip: pass it to ``fit`` when training a ``binary_connect`` model."""

    def on_train_begin(self, logs=None):
        self._wrappers = binary_wrappers(self.model)
        if not self._wrappers:
            raise ValueError(f"ClipBinaryWeights: model {self.model.name!r} has no BinaryWrapper layers; "
                             "binarize it first with neurona.compression.binary_connect")
        self.on_train_batch_end(None)

    def on_train_batch_end(self, batch, logs=None):
        for wrapper in self._wrappers:
            wrapper.clip_kernel()


def binary_connect(model, scale="glorot", stochastic=False, seed=None, layers=None):
    """A copy of ``model`` whose Dense and convolution layers compute with binary kernels (BinaryConnect).

    Train it with ``fit(..., callbacks=[ClipBinaryWeights()])``.

    Args:
        model: a built Sequential or functional model (compiled models give a compiled copy).
        scale: ``H`` of every wrapped layer: ``"glorot"`` (per layer, ``sqrt(1.5 / (fan_in + fan_out))``),
            ``"glorot_uniform"`` (``sqrt(6 / (fan_in + fan_out))``) or a positive number.
        stochastic: binarize stochastically in training (deterministically at inference).
        seed: seeds the stochastic draws (layer ``i`` gets ``seed + i``); None draws from ``neurona.seed``.
        layers: names of the Dense/Conv1D/Conv2D layers to binarize (default all of them).

    Returns:
        A new model with those layers wrapped in ``BinaryWrapper``s, their real-valued kernels clipped to
        ``[-H, H]`` (which changes no sign, so the binary network is that of ``model``'s kernels' signs).
    """
    check_model(model, "binary_connect")
    scale = _check_scale(scale, "binary_connect")
    if seed is not None and (not is_int(seed) or seed < 0):
        raise ValueError(f"binary_connect: seed must be None or a non-negative int, got {seed!r}")
    targets = target_layers(model, layers)
    seeds = None if seed is None else itertools.count(seed)
    copy, wrappers = wrapped_copy(model, targets, lambda layer: BinaryWrapper(
        layer, scale=scale, stochastic=stochastic, seed=None if seeds is None else next(seeds)))
    for wrapper in wrappers.values():
        wrapper.clip_kernel()
    return copy


def strip_binary(model):
    """A copy of ``model`` with every ``BinaryWrapper`` replaced by its layer holding ``H sign(w)`` (the model
    given keeps its real-valued kernels, to train on)."""
    check_model(model, "strip_binary")
    return stripped_copy(model, lambda wrapper: wrapper.layer, weights=lambda wrapper: (
        wrapper.binarized_weights() if isinstance(wrapper, BinaryWrapper) else wrapper.layer.get_weights()))
