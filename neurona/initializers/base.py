"""The ``Initializer`` base class, fan computation and gain table shared by every initializer.

An initializer is a callable ``init(shape, dtype=None) -> array`` that returns a
new array of that shape on the current device. Random values are always drawn
on the CPU with a ``numpy.random.Generator`` in float64, then cast to ``dtype``
and moved to the device, so a seed gives the same numbers on every backend and
a float32 draw is the float64 draw rounded.
"""

import math

from .. import arguments
from ..arguments import describe_range, in_range, is_int
from ..backend import floatx, is_floating, make_generator, to_device
from ..backend.dtypes import as_dtype, is_bfloat16
from ..registry import Configurable, construct


def compute_fans(shape):
    """Number of input and output units (``fan_in``, ``fan_out``) of a weight shape.

    Kernel layout (Keras, channels_last), with ``receptive = prod(kernel_size)``:

    - ``()`` (scalar): fan_in = fan_out = 1
    - ``(n,)`` (bias, vector): fan_in = fan_out = n
    - ``(in, out)`` (dense kernel): fan_in = in, fan_out = out
    - ``(*kernel_size, in_channels, out_channels)`` (conv1d/2d/3d kernel):
      fan_in = receptive * in_channels, fan_out = receptive * out_channels

    PyTorch stores conv kernels as ``(out_channels, in_channels, *kernel_size)``
    and dense weights as ``(out, in)``; its fans are the same numbers read from
    other axes, so a PyTorch-layout shape must be transposed to this layout first.

    Args:
        shape: a tuple of non-negative ints.

    Returns:
        ``(fan_in, fan_out)`` as Python ints.

    Example:
        >>> compute_fans((3, 3, 16, 32))   # 3x3 conv, 16 -> 32 channels
        (144, 288)
    """
    shape = normalize_shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return receptive * shape[-2], receptive * shape[-1]


# Linear-like ops keep the variance of their input, hence gain 1 (PyTorch's table).
_UNIT_GAIN = (
    "linear", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
)
_GAIN_NAMES = (*_UNIT_GAIN, "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity, param=None):
    """Recommended gain (the factor on the weight standard deviation) for a nonlinearity.

    PyTorch's table (``torch.nn.init.calculate_gain``):

    - linear, conv1d/2d/3d, conv_transpose1d/2d/3d, sigmoid: 1
    - tanh: 5/3
    - relu: sqrt(2) (He et al., 2015)
    - leaky_relu: sqrt(2 / (1 + slope^2)), slope = ``param``, default 0.01
    - selu: 3/4

    For variance scaling, ``scale = gain ** 2``: ``VarianceScaling(scale=calculate_gain("relu") ** 2)``
    is ``HeNormal``. ``param`` is used only by ``leaky_relu`` (ignored otherwise, as in PyTorch).

    Args:
        nonlinearity: one of the names above (case-insensitive).
        param: negative slope for ``leaky_relu``.

    Returns:
        The gain as a Python float.
    """
    name = nonlinearity.lower() if isinstance(nonlinearity, str) else nonlinearity
    if name in _UNIT_GAIN:
        return 1.0
    if name == "tanh":
        return 5.0 / 3.0
    if name == "relu":
        return math.sqrt(2.0)
    if name == "leaky_relu":
        slope = 0.01 if param is None else check_real(param, "leaky_relu negative slope (param)")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if name == "selu":
        return 0.75
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; valid names: {', '.join(_GAIN_NAMES)}")


def normalize_shape(shape):
    """``shape`` as a tuple of Python ints (an int is read as a 1-D shape)."""
    if is_int(shape):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of non-negative ints, got {shape!r}") from None
    for d in dims:
        if not is_int(d) or d < 0:
            raise ValueError(f"shape must be a tuple of non-negative ints, got {shape!r}")
    return tuple(int(d) for d in dims)


def resolve_dtype(dtype):
    """The dtype name to build, ``backend.floatx()`` when ``dtype`` is None."""
    if dtype is None:
        return floatx()
    try:
        resolved = as_dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy dtype or its name (e.g. 'float32'), got {dtype!r}") from None
    if is_bfloat16(resolved):
        return resolved.name
    if resolved.kind not in "biufc":  # a weight of strings, objects or dates is no weight
        raise TypeError(f"dtype must be numeric (bool, int, float or complex), got {dtype!r}")
    return resolved.name


def check_real(value, what, minimum=None, strict=False):
    """``value`` as a Python float, after checking it is a finite real (and >= or > ``minimum``).

    ``arguments.check_real`` with the initializers' words for the bound: ``"stddev must be >= 0.0"``.

    Args:
        value: the argument received.
        what: the argument's owner and name for the error, e.g. ``"RandomNormal stddev"``.
        minimum: the lowest value allowed, or None.
        strict: whether ``minimum`` itself is refused.
    """
    value = arguments.check_real(value, None, what)
    if not in_range(value, minimum, low_open=strict):
        raise ValueError(f"{what} must be {describe_range(minimum, low_open=strict)}, got {value!r}")
    return value


def check_seed(seed):
    """``seed`` as None or a Python int, after checking it is one of those."""
    if seed is None:
        return None
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    return int(seed)


class Initializer(Configurable):
    """Base class: a callable ``init(shape, dtype=None)`` that returns a new array.

    Subclasses implement ``generate(shape, dtype)`` (shape already a tuple of ints,
    dtype a name) and ``get_config()``; the base turns the call arguments into
    those and puts the result on the current device.
    """

    #: random draws only make sense for floating dtypes; constants accept any numeric one
    floating_only = False

    @classmethod
    def from_config(cls, config):
        """Rebuild the initializer from ``get_config()``'s output, naming what does not fit the constructor."""
        return construct(cls, config, "initializer")

    def __call__(self, shape, dtype=None):
        """A new array of ``shape`` and ``dtype`` (default ``backend.floatx()``) on the current device."""
        shape, dtype = normalize_shape(shape), resolve_dtype(dtype)
        if self.floating_only and not is_floating(dtype):
            raise ValueError(f"{type(self).__name__} draws floating-point values; got dtype {dtype!r}, "
                             "expected float16, float32 or float64")
        try:
            # bfloat16 is drawn in float32 (NumPy's generators know no bfloat16) and rounded once
            values = self.generate(shape, "float32" if is_bfloat16(dtype) else dtype)
            return to_device(values.astype(as_dtype(dtype), copy=False))
        except MemoryError:
            # NumPy's message comes from its C allocator and names neither the initializer nor a way out
            gib = math.prod(shape) * as_dtype(dtype).itemsize / 2**30
            raise MemoryError(f"{type(self).__name__}: not enough memory for a weight of shape {shape} and dtype "
                              f"{dtype} ({gib:.3g} GiB); expected a smaller shape") from None

    def generate(self, shape, dtype):
        """The values, as a NumPy or device array of ``shape`` (cast to ``dtype`` afterwards)."""
        raise NotImplementedError(f"{type(self).__name__} must implement generate(shape, dtype)")

    # The theoretical moments below are what diagnostics print beside the measured ones. They are population
    # figures over the entries of one weight (``numpy.std`` with ``ddof=0``), computed without drawing.

    def expected_mean(self, shape):
        """The mean of the entries this initializer gives a weight of ``shape``, from its formula (no draw).

        Raises:
            NotImplementedError: the subclass does not state it (``initializers.expected_std`` then says None).
        """
        raise NotImplementedError(f"{type(self).__name__} does not state the mean of its values; implement "
                                  "expected_mean(shape) so diagnostics can show it beside the measured one")

    def expected_std(self, shape):
        """The standard deviation of the entries this initializer gives a weight of ``shape`` (no draw).

        Raises:
            NotImplementedError: the subclass does not state it (``initializers.expected_std`` then says None).
        """
        raise NotImplementedError(f"{type(self).__name__} does not state the standard deviation of its values; "
                                  "implement expected_std(shape) so diagnostics can show it beside the measured one")


class RandomInitializer(Initializer):
    """Base of the random initializers: owns the seed.

    Seeding (Keras 3's stateless behaviour for integer seeds):

    - ``seed=int``: every call builds ``numpy.random.default_rng(seed)`` afresh, so
      the same object returns the *same* values on every call. Two layers given
      one seeded object therefore get identical weights; give each its own seed.
    - ``seed=None``: every call draws from a fresh child of the library-wide
      generator (``backend.make_generator(None)``), so calls differ from each
      other, and ``neurona.seed(n)`` makes a whole program reproducible. (Keras 3
      instead fixes a random seed per unseeded object.)

    Args:
        seed: None or a non-negative int.
    """

    floating_only = True

    def __init__(self, seed=None):
        self.seed = check_seed(seed)

    def generator(self):
        """The ``numpy.random.Generator`` for one call (see the class docstring)."""
        return make_generator(self.seed)

    def get_config(self):
        return {"seed": self.seed}

