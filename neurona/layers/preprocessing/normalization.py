"""``Normalization``: standardize features with a mean and variance learned from data by ``adapt``."""

import itertools

import numpy

from ... import backend, ops
from ...arguments import is_int
from ...autograd import Tensor
from ..base import ShapePreservingLayer, check_bool

EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by
ADAPT_CHUNK_ELEMENTS = 1 << 22  # adapt() reads large arrays in chunks of about this many values


class Normalization(ShapePreservingLayer):
    """Shift and scale inputs to zero mean and unit variance per feature (Keras 3 preprocessing layer).

    ``y = (x - mean) / max(sqrt(variance), 1e-7)``, or with ``invert=True`` the
    inverse ``x = mean + y * max(sqrt(variance), 1e-7)``. ``mean`` and ``variance``
    hold one value per position of the kept ``axis`` (e.g. shape ``(C,)`` for
    ``axis=-1``) and are reduced over every other axis. They are either given to
    the constructor or computed from training data by ``adapt(data)``; in both
    cases they are stored as the non-trainable weights ``mean`` and ``variance``, so
    ``get_weights`` and saved models carry them. (Keras 3 keeps given values as
    constants and adds a legacy ``count`` weight; here both cases have the same
    two weights.)

    Args:
        axis: int, tuple of ints or None: the axes with a separate mean and
            variance for each index (-1: the last, the features). None: one scalar
            mean and variance over everything. The batch axis 0 cannot be kept.
        mean, variance: optional values (numbers or nested lists broadcastable to
            the kept shape); give both or neither.
        invert: apply the inverse transformation (turn normalized values back).
        **kwargs: base Layer arguments.

    Example:
        >>> import numpy as np
        >>> from neurona import layers
        >>> norm = layers.Normalization()
        >>> norm.adapt(np.array([[0.0, 7.0], [2.0, 9.0]]))
        >>> norm(np.array([[2.0, 7.0]])).numpy().tolist()
        [[1.0, -1.0]]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None or is_int(axis):
            self.axis = None if axis is None else int(axis)
        elif isinstance(axis, (list, tuple)) and all(is_int(a) for a in axis):
            self.axis = [int(a) for a in axis]  # a list: JSON-safe in the config
        else:
            raise TypeError(f"Normalization: axis must be an int, a tuple of ints or None, got {axis!r}")
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: give both mean and variance, or neither; got mean={mean!r}, "
                             f"variance={variance!r}")
        self.input_mean = None if mean is None else numpy.asarray(mean, dtype="float64").tolist()
        self.input_variance = None if variance is None else numpy.asarray(variance, dtype="float64").tolist()
        if variance is not None and numpy.any(numpy.asarray(variance) < 0):
            raise ValueError(f"Normalization: variance must be >= 0, got {variance!r}")
        self.invert = check_bool(invert, "Normalization invert")
        self.mean = self.variance = None

    def build(self, input_shape):
        rank = len(input_shape)
        kept = [] if self.axis is None else [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -rank <= a < rank for a in kept):
            raise ValueError(f"layer {self.name!r} (Normalization): axis {self.axis!r} is out of range for inputs "
                             f"of rank {rank}")
        self._kept = tuple(sorted({int(a) % rank for a in kept}))
        if 0 in self._kept:
            raise ValueError(f"layer {self.name!r} (Normalization): axis {self.axis!r} keeps the batch axis 0; "
                             "use axis=None for a single mean and variance over inputs of rank 1")
        shape = tuple(input_shape[a] for a in self._kept)
        if any(s is None for s in shape):
            raise ValueError(f"layer {self.name!r} (Normalization) needs known sizes along axis {self.axis!r}, got "
                             f"input shape {tuple(input_shape)}")
        self._reduced = tuple(i for i in range(rank) if i not in self._kept)
        self._broadcast = tuple(input_shape[i] if i in self._kept else 1 for i in range(rank))
        self.mean = self.add_weight(name="mean", shape=shape, initializer=self._initial(self.input_mean, 0.0, shape),
                                    trainable=False)
        self.variance = self.add_weight(name="variance", shape=shape,
                                        initializer=self._initial(self.input_variance, 1.0, shape),
                                        trainable=False)

    def _initial(self, value, default, shape):
        value = default if value is None else value
        try:
            array = numpy.broadcast_to(numpy.asarray(value, dtype="float64"), shape)
        except ValueError:
            raise ValueError(f"layer {self.name!r} (Normalization): mean/variance of shape "
                             f"{numpy.shape(value)} do not broadcast to the kept shape {shape}") from None
        return lambda shape, dtype=None: array.astype(dtype or "float64")

    def adapt(self, data, batch_size=None):
        """Set ``mean`` and ``variance`` to the statistics of ``data`` (NumPy's mean and biased var).

        Args:
            data: an array (NumPy, CuPy, or a Tensor) with the batch axis first, or
                an iterable of such batches (or of ``(x, y)`` tuples). Arrays are
                read ``batch_size`` samples at a time (default: chunks of about
                4M values), so memory-mapped arrays larger than memory work.
            batch_size: samples per chunk for array data.

        The chunks' statistics are merged exactly, in float64, with the pairwise
        update of Chan, Golub & LeVeque (1979): for two parts of sizes ``n_a``,
        ``n_b`` with means ``m_a``, ``m_b`` and sums of squared deviations
        ``S_a``, ``S_b``: ``m = m_a + (m_b - m_a) n_b / n`` and
        ``S = S_a + S_b + (m_b - m_a)^2 n_a n_b / n``.
        """
        batches = iter(_chunks(data, batch_size, f"layer {self.name!r} (Normalization): adapt()"))
        first = next(batches, None)
        if first is None:
            raise ValueError(f"layer {self.name!r} (Normalization): adapt() received no data")
        if not self.built:
            self.build_for(first.shape)
        count, mean, m2 = 0, 0.0, 0.0
        for batch in itertools.chain([first], batches):
            self._check_batch(batch)
            self._check_values(batch)
            if batch.size == 0:
                continue  # an empty batch adds nothing (and its moments would divide by a zero count)
            n, batch_mean, batch_m2 = _batch_moments(batch, self._reduced)
            total = count + n
            delta = batch_mean - mean
            mean = mean + delta * (n / total)
            m2 = m2 + batch_m2 + delta * delta * (count * n / total)
            count = total
        if count == 0:
            raise ValueError(f"layer {self.name!r} (Normalization): adapt() received no samples (every batch "
                             f"is empty, e.g. shape {tuple(first.shape)}); expected at least one")
        self.mean.assign(numpy.reshape(mean, self.mean.shape).astype(self.mean.dtype))
        self.variance.assign(numpy.reshape(m2 / count, self.variance.shape).astype(self.variance.dtype))

    def _check_batch(self, batch):
        rank = len(self._broadcast)
        if batch.ndim != rank or any(batch.shape[a] != self._broadcast[a] for a in self._kept):
            raise ValueError(f"layer {self.name!r} (Normalization) was built for inputs of shape "
                             f"{self.input_shape}, got data of shape {tuple(batch.shape)}")

    def _check_values(self, batch):
        """Refuse data whose statistics would be meaningless: non-numeric or non-finite values."""
        if batch.dtype.kind not in "biuf":
            raise TypeError(f"layer {self.name!r} (Normalization): adapt() needs numeric data, got an array of "
                            f"dtype {batch.dtype}")
        # one NaN or inf makes every mean and variance of its features NaN, and then every output
        if batch.dtype.kind == "f" and not bool(backend.xp_of(batch).isfinite(batch).all()):
            raise ValueError(f"layer {self.name!r} (Normalization): adapt() received non-finite values (NaN or "
                             f"inf) in data of shape {tuple(batch.shape)}; expected finite numbers")

    def call(self, inputs, training=None):
        self._check_batch(inputs)
        xp = backend.xp_of(inputs.data)
        mean = xp.reshape(self.mean.data, self._broadcast)
        std = xp.maximum(xp.sqrt(xp.reshape(self.variance.data, self._broadcast)), EPSILON)
        # the statistics are constants (not trained): only the inputs take part in the graph
        if self.invert:
            return ops.add(ops.mul(inputs, Tensor._wrap(std, False)), Tensor._wrap(mean, False))
        return ops.mul(ops.sub(inputs, Tensor._wrap(mean, False)), Tensor._wrap(1.0 / std, False))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "mean": self.input_mean, "variance": self.input_variance,
                "invert": self.invert}


def _batch_moments(batch, axes):
    """Count, mean and sum of squared deviations of one batch over ``axes`` (float64, returned on the CPU)."""
    batch = batch.astype("float64")
    mean = batch.mean(axis=axes, keepdims=True)
    m2 = ((batch - mean) ** 2).sum(axis=axes)
    return int(numpy.prod([batch.shape[a] for a in axes])), backend.asnumpy(mean.reshape(m2.shape)), \
        backend.asnumpy(m2)


def _chunks(data, batch_size, owner):
    """Yield arrays: the batches of an iterable, or consecutive slices of one array (``owner`` names errors)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (str, bytes)):  # iterable, but its characters are no batches
        raise TypeError(f"{owner} needs an array or an iterable of batches, got {data!r}")
    if not hasattr(data, "shape"):
        for batch in data:
            batch = batch[0] if isinstance(batch, tuple) else batch  # (x, y) pairs: only x is normalized
            if isinstance(batch, Tensor):
                batch = batch.data
            yield batch if hasattr(batch, "shape") else numpy.asarray(batch)
        return
    if data.ndim == 0 or len(data) == 0:
        raise ValueError(f"{owner} needs data with a batch axis and at least one sample, got an array of "
                         f"shape {data.shape}")
    if batch_size is None:
        per_sample = max(1, int(numpy.prod(data.shape[1:])))
        batch_size = max(1, ADAPT_CHUNK_ELEMENTS // per_sample)
    for start in range(0, len(data), batch_size):
        yield data[start:start + batch_size]
