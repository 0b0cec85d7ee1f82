"""Random tensors under the names of ``keras.random``: ``normal``, ``uniform``, ``dropout``, ``SeedGenerator`` ...

Every function takes ``seed=``, which is one of

- ``None``: a draw from Neurona's library-wide generator, so ``nr.seed(n)`` (or
  ``nr.utils.set_random_seed(n)``) makes a whole program repeatable;
- a non-negative int: the same numbers on every call with that seed (as in Keras);
- a ``SeedGenerator``: new numbers on every call, in a sequence fixed by the
  generator's own seed.

Numbers are drawn on the CPU with ``numpy.random.Generator`` (in float64, then
rounded to the requested dtype) and moved to the current device, so a seed gives
the same values on every backend and in every float dtype up to rounding. The
results are Tensors that do not require gradients; ``dropout`` and ``shuffle``
are differentiable in their input.
"""

import numpy

from . import backend, naming, ops
from .arguments import is_int, is_real, shown
from .autograd import Tensor
from .autograd.tensor import check_dtype
from .ops.convert import as_tensor

__all__ = [
    "SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle",
    "truncated_normal", "uniform",
]


class SeedGenerator:
    """A seed that moves on at every draw: each function given it draws new numbers, in a repeatable sequence.

    Its state is the pair ``(seed, counter)``. A draw uses the stream of
    ``numpy.random.SeedSequence([seed, counter])`` and then adds one to the counter,
    so two generators made with the same seed give the same sequence, and the first
    draw equals a draw with the plain int ``seed``, as in Keras.

    Args:
        seed: a non-negative int, or None for one drawn from Neurona's library-wide
            generator (itself set by ``nr.seed``).
        name: a label; default ``"seed_generator"``, ``"seed_generator_1"`` ...

    Example:
        >>> gen = SeedGenerator(42)
        >>> a = normal((2, 3), seed=gen)   # the same as normal((2, 3), seed=42)
        >>> b = normal((2, 3), seed=gen)   # different from a
    """

    def __init__(self, seed=None, name=None):
        if seed is not None and not (is_int(seed) and seed >= 0):
            raise ValueError(f"SeedGenerator: seed must be None or a non-negative integer, got {shown(seed)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"SeedGenerator: name must be a string or None, got {shown(name)}")
        self._initial_seed = None if seed is None else int(seed)
        self._seed = int(backend.get_generator().integers(1, 10**9)) if seed is None else int(seed)
        self._counter = 0
        self.name = naming.unique_name("seed_generator") if name is None else name

    @property
    def state(self):
        """The state ``[seed, counter]`` of the next draw, as a NumPy ``uint64`` array (a copy)."""
        return numpy.array([self._seed, self._counter], dtype=numpy.uint64)

    def next(self):
        """Return the state of this draw and advance the counter."""
        state = self.state
        self._counter += 1
        return state

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"SeedGenerator(seed={self._seed}, counter={self._counter}, name={self.name!r})"


def _rng(seed, owner):
    """The ``numpy.random.Generator`` of one draw for ``seed`` (None, an int or a SeedGenerator)."""
    if isinstance(seed, SeedGenerator):
        return numpy.random.default_rng([int(s) for s in seed.next()])
    if seed is None:
        return backend.make_generator(None)
    if is_int(seed) and seed >= 0:
        return numpy.random.default_rng([int(seed), 0])
    raise ValueError(f"{owner}: seed must be None, a non-negative integer or a SeedGenerator, got {shown(seed)}")


def _shape(shape, owner):
    if is_int(shape):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(is_int(s) and s >= 0 for s in shape):
        raise ValueError(f"{owner}: shape must be a non-negative integer or a tuple of them, got {shown(shape)}")
    return tuple(int(s) for s in shape)


def _dtype(dtype, owner, kinds, default):
    resolved = check_dtype(default if dtype is None else dtype, owner)
    if resolved.kind not in kinds:
        wanted = "a floating-point dtype such as 'float32'" if kinds == "f" else "an integer dtype such as 'int32'"
        raise ValueError(f"{owner}: dtype must be {wanted}, got {dtype!r}")
    return resolved


def _float_dtype(dtype, owner):
    return _dtype(dtype, owner, "f", backend.floatx())


def _param(value, owner, name, shape, low=None, low_open=False, high=None, integer=False):
    """A distribution parameter, checked: a number, or an array broadcastable to ``shape``.

    Returns a float (an int with ``integer``) for a scalar, else a float64 (int64) array.
    """
    if isinstance(value, Tensor):
        value = value.numpy()
    array = numpy.asarray(value)
    if array.dtype.kind not in ("iu" if integer else "iuf"):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{owner}: {name} must be {what} or an array of them, got {shown(value)}")
    checked = array.astype(numpy.float64)
    if not numpy.isfinite(checked).all():
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")
    if (low is not None and ((checked <= low) if low_open else (checked < low)).any()) or (
            high is not None and (checked > high).any()):
        expected = f"{'>' if low_open else '>='} {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    try:
        broadcast = numpy.broadcast_shapes(array.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(f"{owner}: {name} of shape {array.shape} does not broadcast to the shape {shape}")
    if integer:
        return int(array) if array.ndim == 0 else array.astype(numpy.int64)
    return float(checked) if array.ndim == 0 else checked


def _tensor(values, dtype):
    return Tensor(backend.to_device(numpy.asarray(values).astype(dtype, copy=False)))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of the normal distribution ``N(mean, stddev**2)``: ``mean + stddev * z`` with ``z ~ N(0, 1)``.

    Args:
        shape: int or tuple of ints, the shape of the result.
        mean, stddev: numbers (``stddev >= 0``), or arrays broadcastable to ``shape``.
        dtype: a float dtype; default ``backend.floatx()``.
        seed: None, a non-negative int or a ``SeedGenerator`` (see the module's docstring).

    Returns:
        A Tensor of ``shape`` and ``dtype`` on the current device.
    """
    shape, dtype = _shape(shape, "normal"), _float_dtype(dtype, "normal")
    mean = _param(mean, "normal", "mean", shape)
    stddev = _param(stddev, "normal", "stddev", shape, low=0)
    return _tensor(mean + stddev * _rng(seed, "normal").standard_normal(shape), dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of the uniform distribution on ``[minval, maxval)``: ``minval + (maxval - minval) * u``.

    ``maxval`` stays excluded after rounding to ``dtype``: a value that rounds up
    to it is replaced by the largest number of ``dtype`` below it.

    Args:
        shape: int or tuple of ints.
        minval, maxval: numbers with ``minval < maxval``, or arrays broadcastable to ``shape``.
        dtype: a float dtype; default ``backend.floatx()``.
        seed: None, a non-negative int or a ``SeedGenerator``.

    Returns:
        A Tensor of ``shape`` and ``dtype``.
    """
    shape, dtype = _shape(shape, "uniform"), _float_dtype(dtype, "uniform")
    minval = _param(minval, "uniform", "minval", shape)
    maxval = _param(maxval, "uniform", "maxval", shape)
    if not numpy.all(numpy.less(minval, maxval)):
        raise ValueError(f"uniform: minval must be less than maxval, got minval={minval!r}, maxval={maxval!r}")
    values = (minval + (maxval - minval) * _rng(seed, "uniform").random(shape)).astype(dtype)
    top = numpy.broadcast_to(numpy.asarray(maxval, dtype=dtype), shape)
    values = numpy.where(values >= top, numpy.nextafter(top, dtype.type(-numpy.inf)), values)
    return _tensor(values, dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from ``[minval, maxval)``.

    Args:
        shape: int or tuple of ints.
        minval, maxval: integers with ``minval < maxval`` (or integer arrays broadcastable to ``shape``),
            both representable in ``dtype``.
        dtype: an integer dtype; default ``"int32"``.
        seed: None, a non-negative int or a ``SeedGenerator``.

    Returns:
        A Tensor of ``shape`` and ``dtype``.
    """
    shape, dtype = _shape(shape, "randint"), _dtype(dtype, "randint", "iu", "int32")
    low = _param(minval, "randint", "minval", shape, integer=True)
    high = _param(maxval, "randint", "maxval", shape, integer=True)
    info = numpy.iinfo(dtype)
    if not numpy.all(numpy.less(low, high)):
        raise ValueError(f"randint: minval must be less than maxval, got minval={minval!r}, maxval={maxval!r}")
    if numpy.min(low) < info.min or numpy.max(high) - 1 > info.max:
        raise ValueError(f"randint: [minval, maxval) = [{minval!r}, {maxval!r}) does not fit dtype {dtype} "
                         f"(expected values in [{info.min}, {info.max}])")
    rng = _rng(seed, "randint")
    values = rng.integers(low, high, size=shape, dtype=dtype)
    return _tensor(values, dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of ``N(mean, stddev**2)`` restricted to ``[mean - 2 stddev, mean + 2 stddev]``.

    Values outside the interval are redrawn (not clipped), so the result follows
    the normal density truncated there: its standard deviation is about
    ``0.8796 * stddev``.

    Args:
        shape: int or tuple of ints.
        mean, stddev: numbers (``stddev >= 0``), or arrays broadcastable to ``shape``.
        dtype: a float dtype; default ``backend.floatx()``.
        seed: None, a non-negative int or a ``SeedGenerator``.

    Returns:
        A Tensor of ``shape`` and ``dtype``.
    """
    shape, dtype = _shape(shape, "truncated_normal"), _float_dtype(dtype, "truncated_normal")
    mean = _param(mean, "truncated_normal", "mean", shape)
    stddev = _param(stddev, "truncated_normal", "stddev", shape, low=0)
    rng = _rng(seed, "truncated_normal")
    z = rng.standard_normal(shape)
    outside = numpy.abs(z) > 2
    while outside.any():  # about 4.6% of the values each round
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = numpy.abs(z) > 2
    return _tensor(mean + stddev * z, dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class indices drawn from the distributions ``softmax(logits[b])``, ``num_samples`` per row.

    Class ``c`` of row ``b`` is drawn with probability ``exp(logits[b, c]) / sum_k exp(logits[b, k])``;
    a logit of ``-inf`` is a class never drawn.

    Args:
        logits: 2-D array or Tensor ``(batch_size, num_classes)`` of unnormalized log-probabilities.
        num_samples: non-negative int, the number of independent draws per row.
        dtype: an integer dtype for the result; default ``"int32"``.
        seed: None, a non-negative int or a ``SeedGenerator``.

    Returns:
        A Tensor ``(batch_size, num_samples)`` of indices in ``[0, num_classes)``.
    """
    dtype = _dtype(dtype, "categorical", "iu", "int32")
    if not (is_int(num_samples) and num_samples >= 0):
        raise ValueError(f"categorical: num_samples must be a non-negative integer, got {shown(num_samples)}")
    values = logits.numpy() if isinstance(logits, Tensor) else numpy.asarray(logits)
    if values.dtype.kind not in "biuf" or values.ndim != 2 or values.shape[1] == 0:
        raise ValueError(f"categorical: logits must be a 2-D numeric array (batch_size, num_classes) with at least "
                         f"one class, got dtype {values.dtype} and shape {values.shape}")
    values = values.astype(numpy.float64)
    if numpy.isnan(values).any() or (values == numpy.inf).any() or (values == -numpy.inf).all(axis=1).any():
        raise ValueError("categorical: logits must be finite or -inf, with at least one finite logit per row")
    weights = numpy.exp(values - values.max(axis=1, keepdims=True))
    cdf = numpy.cumsum(weights, axis=1)
    u = _rng(seed, "categorical").random((values.shape[0], int(num_samples)))
    # the first class whose cumulated weight exceeds u * total: a class of weight 0 never is
    samples = numpy.stack([numpy.searchsorted(row, draw * row[-1], side="right") for row, draw in zip(cdf, u)]) \
        if len(cdf) else numpy.zeros((0, int(num_samples)), dtype=numpy.int64)
    return _tensor(numpy.minimum(samples, values.shape[1] - 1), dtype)


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a uniformly random order; differentiable in ``x``.

    Args:
        x: array or Tensor with at least one axis.
        axis: the axis whose slices are permuted.
        seed: None, a non-negative int or a ``SeedGenerator``.

    Returns:
        A Tensor of ``x``'s shape and dtype (requiring a gradient if ``x`` does).
    """
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("shuffle: x must have at least one axis, got a 0-d tensor")
    if not (is_int(axis) and -x.ndim <= axis < x.ndim):
        raise ValueError(f"shuffle: axis must be an integer in [{-x.ndim}, {x.ndim - 1}] for x of shape {x.shape}, "
                         f"got {shown(axis)}")
    axis = int(axis) % x.ndim
    order = backend.to_device(_rng(seed, "shuffle").permutation(x.shape[axis]), x.device)
    return ops.getitem(x, (slice(None),) * axis + (order,))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout: ``inputs * mask / (1 - rate)`` with ``mask ~ Bernoulli(1 - rate)``; differentiable.

    Each entry is kept with probability ``1 - rate`` and scaled by ``1 / (1 - rate)``,
    which keeps its expected value; the gradient is the same mask. ``rate = 1`` gives
    zeros (and a zero gradient). Srivastava et al., "Dropout", JMLR 2014.

    Args:
        inputs: array or Tensor.
        rate: the probability of dropping an entry, in ``[0, 1]``.
        noise_shape: the shape of the mask, broadcast against ``inputs``: one entry per
            axis, each None (the input's size), 1 (shared along that axis) or the input's size.
        seed: None, a non-negative int or a ``SeedGenerator``.

    Returns:
        A Tensor of ``inputs``'s shape, recorded for backpropagation through ``ops.mul``.
    """
    inputs = as_tensor(inputs)
    if not (is_real(rate) and 0 <= rate <= 1):
        raise ValueError(f"dropout: rate must be a number in [0, 1], got {shown(rate)}")
    shape = inputs.shape if noise_shape is None else _noise_shape(noise_shape, inputs.shape)
    if rate == 0:
        return inputs
    dtype = inputs.dtype if backend.is_floating(inputs.dtype) else numpy.dtype(backend.floatx())
    keep = 1.0 - float(rate)
    kept = _rng(seed, "dropout").random(shape) < keep
    mask = kept.astype(dtype) * dtype.type(1.0 / keep) if keep > 0 else numpy.zeros(shape, dtype)
    return ops.mul(inputs, Tensor(backend.to_device(mask, inputs.device)))


def _noise_shape(noise_shape, shape):
    entries = tuple(noise_shape) if isinstance(noise_shape, (tuple, list)) else None
    mask = None if entries is None or len(entries) != len(shape) else tuple(
        s if n is None else n for n, s in zip(entries, shape))
    if mask is None or not all(is_int(m) and m in (1, s) for m, s in zip(mask, shape)):
        raise ValueError(f"dropout: noise_shape {noise_shape!r} does not fit inputs of shape {shape}; expected "
                         f"{len(shape)} entries, each None, 1 or the input's size")
    return tuple(int(m) for m in mask)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of the Gamma distribution of shape ``alpha`` and scale 1 (density ``x**(alpha-1) e**-x / G(alpha)``).

    Args:
        shape: int or tuple of ints.
        alpha: number > 0, or an array broadcastable to ``shape``.
        dtype: a float dtype; default ``backend.floatx()``.
        seed: None, a non-negative int or a ``SeedGenerator``.
    """
    shape, dtype = _shape(shape, "gamma"), _float_dtype(dtype, "gamma")
    alpha = _param(alpha, "gamma", "alpha", shape, low=0, low_open=True)
    return _tensor(_rng(seed, "gamma").standard_gamma(alpha, size=shape), dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of the Beta distribution (density proportional to ``x**(alpha-1) (1-x)**(beta-1)`` on [0, 1]).

    Args:
        shape: int or tuple of ints.
        alpha, beta: numbers > 0, or arrays broadcastable to ``shape``.
        dtype: a float dtype; default ``backend.floatx()``.
        seed: None, a non-negative int or a ``SeedGenerator``.
    """
    shape, dtype = _shape(shape, "beta"), _float_dtype(dtype, "beta")
    a = _param(alpha, "beta", "alpha", shape, low=0, low_open=True)
    b = _param(beta, "beta", "beta", shape, low=0, low_open=True)
    return _tensor(_rng(seed, "beta").beta(a, b, size=shape), dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of the Binomial distribution: successes in ``counts`` trials of probability ``probabilities``.

    Args:
        shape: int or tuple of ints.
        counts: non-negative integer(s), broadcastable to ``shape``.
        probabilities: number(s) in [0, 1], broadcastable to ``shape``.
        dtype: a float dtype for the counts drawn; default ``backend.floatx()`` (as in Keras).
        seed: None, a non-negative int or a ``SeedGenerator``.
    """
    shape, dtype = _shape(shape, "binomial"), _float_dtype(dtype, "binomial")
    n = _param(counts, "binomial", "counts", shape, low=0, integer=True)
    p = _param(probabilities, "binomial", "probabilities", shape, low=0, high=1)
    return _tensor(_rng(seed, "binomial").binomial(n, p, size=shape), dtype)
