"""Streaming metrics: the ``Metric`` base, ``Mean``, ``MeanMetricWrapper`` and ``result_value``.

A metric accumulates over batches (``update_state``), reports one number
(``result``) and starts over (``reset_state``). A user metric subclasses
``Metric`` as in Keras 3, keeping its state in ``add_variable`` Variables;
``result_value`` turns whatever its ``result`` returns into the logs' floats.
Every built-in metric is a weighted mean of per-sample values,

    result = sum_i w_i v_i / sum_i w_i        (w_i = 1 without sample weights),

kept as two running sums in float64. Because only sums are kept, the result
over several batches of any sizes equals the result on their concatenation.
On a GPU the sums stay 0-d device arrays (no host sync per batch); ``result``
is where they become a Python float.
"""


import numbers

import numpy

from .. import backend, initializers
from ..arguments import NUMERIC_KINDS, is_int, shown
from ..autograd import Tensor, Variable, no_grad
from ..registry import Configurable, Registry, construct, snake_case

#: Registry of metric classes.
registry = Registry("metric")

#: The ``aggregation`` values ``Metric.add_variable`` accepts (Keras's).
AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")


def to_array(value, like=None):
    """The raw array of a Tensor, array or nested list (on ``like``'s device when given)."""
    data = value.data if isinstance(value, Tensor) else value
    if like is not None:
        return backend.to_device(data, backend.device_of(like))
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return data
    return backend.get_xp().asarray(data)


def match_rank(y_true, y_pred):
    """``y_true`` given ``y_pred``'s rank when they differ by a trailing axis of size 1 (Keras's rule)."""
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        return y_true.reshape(y_true.shape + (1,))
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        return y_true.reshape(y_true.shape[:-1])
    return y_true


def _host_or_device(value):
    """A NumPy scalar becomes a Python float; a CuPy one stays on the device (no sync)."""
    return float(value) if isinstance(value, numpy.ndarray | numpy.generic) else value


def weighted_sums(values, sample_weight=None):
    """``(sum_i w_i v_i, sum_i w_i)`` over the samples (first axis) of ``values``, in float64.

    Values with more than one axis are first averaged per sample over the
    other axes. Weights may be a scalar (the same weight for every sample),
    have shape ``(N,)`` / ``(N, 1)``, or any shape that broadcasts to a leading
    part of ``values.shape`` (e.g. ``(N, T)`` per-timestep weights).
    """
    values = to_array(values)
    _check_numeric(values, "values")
    xp = backend.xp_of(values)
    if values.ndim == 0:
        values = values.reshape(1)
    if sample_weight is None:
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)), dtype=xp.float64)
        return values.sum(dtype=xp.float64), values.shape[0]
    weights = to_array(sample_weight, like=values)
    _check_numeric(weights, "sample_weight")
    weights = weights.astype(xp.float64)
    if weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
        weights = weights.reshape(weights.shape[:-1])
    if weights.ndim == 0:
        weights = weights.reshape(1)
    if weights.ndim > values.ndim:
        raise ValueError(f"sample_weight of shape {weights.shape} has more axes than the values {values.shape}")
    if values.ndim > weights.ndim:
        values = values.mean(axis=tuple(range(weights.ndim, values.ndim)), dtype=xp.float64)
    try:
        weights = xp.broadcast_to(weights, values.shape)
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {tuple(weights.shape)} does not broadcast to the values' leading shape "
            f"{values.shape}; pass one weight per sample"
        ) from None
    weighted = values * weights
    if weighted.ndim > 1:
        trailing = tuple(range(1, weighted.ndim))
        weighted, weights = weighted.mean(axis=trailing), weights.mean(axis=trailing)
    return weighted.sum(dtype=xp.float64), weights.sum(dtype=xp.float64)


def _check_numeric(array, what):
    """Refuse strings and objects, which NumPy would only reject deep inside a reduction."""
    if array.dtype.kind not in "biuf":
        raise TypeError(f"metric {what} must be numeric (bool, int or float), got an array of dtype {array.dtype}"
                        f" and shape {tuple(array.shape)}")


def check_metric_dtype(dtype, owner):
    """``dtype``'s name (``"float32"``), refused unless it is a bool, integer or float dtype."""
    try:
        resolved = numpy.dtype(dtype)
    except (TypeError, ValueError):
        resolved = None
    if dtype is None or resolved is None or resolved.kind not in NUMERIC_KINDS:
        raise TypeError(f"{owner}: dtype must be a bool, integer or float dtype such as 'float32', "
                        f"got {shown(dtype)}")
    return resolved.name


def _check_shape(shape, owner):
    """``shape`` as a tuple of Python ints, or an error naming what is wrong with it."""
    if not isinstance(shape, tuple | list):
        raise TypeError(f"{owner}: shape must be a tuple or list of non-negative integers (() for a scalar), "
                        f"got {shown(shape)}")
    if not all(is_int(d) for d in shape):
        raise TypeError(f"{owner}: shape must hold integers, got {tuple(shape)!r}")
    if any(d < 0 for d in shape):
        raise ValueError(f"{owner}: shape must hold non-negative integers, got {tuple(int(d) for d in shape)}")
    return tuple(int(d) for d in shape)


def _builtin_reset_state(cls):
    """The ``reset_state`` of the nearest Neurona metric class in ``cls``'s MRO, if it defines one.

    Built-in metrics keep their state in attributes that their ``reset_state``
    creates, so ``Metric.__init__`` runs it; a user subclass's own
    ``reset_state`` (which resets variables made later in its ``__init__``) is
    skipped, as Keras never calls it during construction.
    """
    package = __name__.split(".")[0]
    for klass in cls.__mro__:
        if klass is Metric:
            return None
        if "reset_state" in vars(klass) and klass.__module__.split(".")[0] == package:
            return vars(klass)["reset_state"]
    return None


def result_value(result, name=None):
    """What ``metric.result()`` returned, as the logs hold it: a float, a list of floats, or a dict of those.

    - a Python or NumPy number, a 0-d array (NumPy or CuPy), a one-value
      Tensor or Variable -> a float;
    - an array or Tensor with axes (per-class scores) -> its values as a flat list of floats;
    - a list or tuple of those -> one flat list of floats;
    - a dict (a metric that reports several values) -> a dict of the above,
      whose keys become separate log entries, as in Keras.

    Args:
        result: the value ``result()`` returned.
        name: the metric's name, for error messages.

    Raises:
        TypeError: for None, text, complex numbers, nested dicts or anything else that is not numeric.
    """
    owner = f"metric {name!r}" if name else "metric"
    if isinstance(result, dict):
        values = {}
        for key, value in result.items():
            if isinstance(value, dict):
                raise TypeError(f"{owner}: result() returned a dict whose entry {key!r} is a dict; expected "
                                "a number, an array or a Tensor for each key")
            values[str(key)] = result_value(value, name)
        return values
    if isinstance(result, list | tuple):
        flat = []
        for item in result:
            if isinstance(item, dict):
                raise TypeError(f"{owner}: result() returned a sequence holding a dict; expected numbers")
            value = result_value(item, name)
            flat.extend(value if isinstance(value, list) else [value])
        return flat
    data = result.data if isinstance(result, Tensor) else result
    if isinstance(data, numbers.Real) and not isinstance(data, numpy.generic):
        return float(data)
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        array = backend.asnumpy(data)
        if array.dtype.kind in NUMERIC_KINDS:
            return float(array) if array.ndim == 0 else [float(v) for v in array.ravel()]
    hint = ": does result() end with a return?" if result is None else ""
    raise TypeError(f"{owner}: result() must return a number, an array, a Tensor or a dict of those, "
                    f"got {shown(result)}{hint}")


class Metric(Configurable):
    """Base class of streaming metrics, Keras 3's ``keras.metrics.Metric``.

    A subclass implements ``update_state(y_true, y_pred, sample_weight=None)``
    (accumulate a batch) and ``result()`` (the value so far); calling the
    metric updates it and returns the new result. Its state lives in variables
    created in ``__init__`` with ``add_variable`` (or ``add_weight``), after
    ``super().__init__(name=name, **kwargs)``::

        class TruePositiveCount(nr.metrics.Metric):
            def __init__(self, name="tp_count", **kwargs):
                super().__init__(name=name, **kwargs)
                self.count = self.add_variable(shape=(), initializer="zeros", name="count")

            def update_state(self, y_true, y_pred, sample_weight=None):
                self.count.assign_add(numpy.sum((numpy.asarray(y_pred) > 0.5) & (numpy.asarray(y_true) == 1)))

            def result(self):
                return self.count        # a Variable: the logs show its float value (``result_value``)

    The default ``reset_state`` sets every tracked variable to zeros, as
    Keras's does; ``__init__`` never calls a subclass's own ``reset_state``
    (its variables do not exist yet). The built-in metrics keep their state in
    plain running sums that their ``reset_state`` creates, and that one runs
    in ``__init__``.

    Args:
        name: label of the metric, the key in ``History`` and progress bars
            (defaults to the registered name, else the snake_case class name).
        dtype: the metric's float dtype, ``metric.dtype`` (default ``backend.floatx()``).
    """

    # the attributes holding this metric's running sums, which data-parallel training adds up across processes
    # (neurona/distributed/metric_sync.py); state made with add_variable is found by its aggregation instead
    _additive_state = ()

    def __init__(self, name=None, dtype=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string or None, got {shown(name)}")
        self.name = name or registry.name_of(self) or snake_case(type(self).__name__)
        self._dtype = check_metric_dtype(dtype, type(self).__name__) if dtype is not None else backend.floatx()
        self._variables = []
        builtin_reset = _builtin_reset_state(type(self))
        if builtin_reset is not None:  # a built-in metric's state is made by its reset_state
            builtin_reset(self)

    @property
    def dtype(self):
        """The metric's dtype, by name (``"float32"``)."""
        return self._dtype

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Create a state variable of this metric and track it in ``variables``.

        Args:
            shape: a tuple or list of non-negative integers (``()`` for a scalar).
            initializer: a name (``"zeros"``), an Initializer or a callable ``(shape, dtype) -> array``.
            dtype: the variable's dtype (default ``backend.floatx()``, as in Keras).
            aggregation: how replicas combine it, one of ``AGGREGATIONS`` (kept for Keras code; one
                device here).
            name: the variable's name (no ``"/"``); the Variable is named ``"<metric>/<name>"``.

        Returns:
            A non-trainable ``Variable`` holding the initial value.
        """
        owner = f"{type(self).__name__}.add_variable"
        if "_variables" not in vars(self):
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() in __init__ before add_variable")
        shape = _check_shape(shape, owner)
        if name is None:
            name = "variable"
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"{owner}: name must be a non-empty string without '/', got {shown(name)}")
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"{owner}: aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
        dtype = backend.floatx() if dtype is None else check_metric_dtype(dtype, owner)
        if initializer is None:
            raise ValueError(f"{owner}: variable {name!r} needs an initializer (a name such as 'zeros', an "
                             "Initializer or a callable (shape, dtype) -> array), got None")
        try:
            init = initializers.get(initializer)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{owner}: variable {name!r}: {err}") from None
        value = backend.to_device(to_array(init(shape, dtype=dtype)))
        if tuple(value.shape) != shape:
            raise ValueError(f"{owner}: initializer {init!r} returned shape {tuple(value.shape)} for variable "
                             f"{name!r}, expected {shape}")
        variable = Variable(value.astype(dtype, copy=False), name=f"{self.name}/{name}", trainable=False,
                            initializer=init)
        self._variables.append(variable)
        vars(self).setdefault("_aggregations", {})[variable.name] = aggregation  # read by neurona.distributed
        return variable

    def add_weight(self, *args, **kwargs):
        """``add_variable`` under its older name; Keras 2's order (``name`` first) is accepted too.

        ``add_weight(shape=(), initializer="zeros", dtype=None, name=None)`` as in
        Keras 3, or ``add_weight("total", shape=(), initializer="zeros")`` as in Keras 2.
        """
        if args and isinstance(args[0], str):  # Keras 2: add_weight(name, shape=(), ...)
            if "name" in kwargs:
                raise TypeError(f"{type(self).__name__}.add_weight got the name twice: {args[0]!r} and "
                                f"name={kwargs['name']!r}")
            kwargs["name"], args = args[0], args[1:]
        if len(args) > 4:
            raise TypeError(f"{type(self).__name__}.add_weight takes at most 4 positional arguments (shape, "
                            f"initializer, dtype, aggregation), got {len(args)}")
        kwargs.update(zip(("shape", "initializer", "dtype", "aggregation"), args))
        kwargs.setdefault("shape", ())
        return self.add_variable(**kwargs)

    @property
    def variables(self):
        """The state variables: those of ``add_variable``, then those of metrics held as attributes."""
        found, seen = [], {id(self)}
        self._collect_variables(found, seen)
        return found

    def _collect_variables(self, found, seen):
        for variable in vars(self).get("_variables", ()):
            if not any(variable is known for known in found):
                found.append(variable)
        for value in vars(self).values():
            if isinstance(value, Metric) and id(value) not in seen:
                seen.add(id(value))
                value._collect_variables(found, seen)

    def update_state(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self):
        """Set every tracked variable to zeros (Keras's default; override it for another start value)."""
        for variable in self.variables:
            variable.assign(variable._xp().zeros(variable.shape, dtype=variable.dtype))

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """JSON-safe constructor arguments: ``{"name", "dtype"}`` (subclasses add theirs)."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """Rebuild the metric from ``get_config()``'s output, naming what does not fit the constructor."""
        return construct(cls, config, "metric")


@registry.register
class Mean(Metric):
    """The (weighted) mean of the values passed to ``update_state``: ``sum w v / sum w``."""

    _additive_state = ("total", "count")

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        """Add a batch of values (one per sample, see ``weighted_sums`` for shapes and weights)."""
        total, count = weighted_sums(values, sample_weight)
        self.total = self.total + _host_or_device(total)
        self.count = self.count + _host_or_device(count)

    def result(self):
        """The mean so far as a Python float (0.0 before any update, as in Keras)."""
        count = float(self.count)
        return float(self.total) / count if count else 0.0


def _masked(mask, values, sample_weight):
    """``sample_weight`` times the 0/1 mask when the mask has the per-sample values' shape (Keras's
    ``apply_mask`` with the "sum" reduction: the mean then runs over the real steps)."""
    flags = backend.asnumpy(mask.data if isinstance(mask, Tensor) else mask)
    shape = tuple(values.shape)
    if flags.shape != shape:
        return sample_weight
    weights = flags.astype(numpy.float64)
    if sample_weight is not None:
        given = backend.asnumpy(sample_weight.data if isinstance(sample_weight, Tensor) else
                                numpy.asarray(sample_weight, dtype=numpy.float64))
        given = given.reshape(given.shape + (1,) * (weights.ndim - given.ndim)) if given.ndim < weights.ndim else given
        weights = weights * given
    return weights


class MeanMetricWrapper(Mean):
    """The mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` over everything seen.

    ``fn`` may return an array or a Tensor; it runs under ``no_grad`` so
    metrics never extend the training graph.

    Args:
        fn: per-sample function.
        name: label (defaults to ``fn.__name__``).
        dtype: the metric's dtype (``metric.dtype``; the sums are float64 whatever it is).
        **kwargs: keyword arguments of ``fn``, kept in the config.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper needs a callable fn(y_true, y_pred), got {fn!r}")
        self.fn, self.fn_kwargs = fn, kwargs
        self._dtype_given = dtype is not None
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Evaluate ``fn`` on the batch and add its per-sample values (only the real steps' when ``y_pred``
        carries a Keras mask, as Keras 3's ``MeanMetricWrapper``)."""
        with no_grad():
            values = self.fn(y_true, y_pred, **self.fn_kwargs)
        mask = getattr(y_pred, "_keras_mask", None)
        if mask is not None:
            sample_weight = _masked(mask, values, sample_weight)
        super().update_state(values, sample_weight)

    def get_config(self):
        dtype = {"dtype": self.dtype} if self._dtype_given else {}  # the subclasses' __init__ take no dtype
        return {"name": self.name, **dtype, **self.fn_kwargs}
