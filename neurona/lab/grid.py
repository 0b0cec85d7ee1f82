"""The grid of a comparison: one ``RunSpec`` per (initializer, seed), and the models the runs train.

A run is fully described by its spec: the initializer, the seed, the architecture, the training settings, the
data and the thread count. Everything a run computes depends on the spec alone (see ``runner``), so a grid can
run in any order, in any number of processes, and be resumed: ``spec.config()`` is the JSON-safe record of a
spec that ``results.json`` keeps and that ``--resume`` compares.

Built-in architectures (``ModelConfig``):

- ``dense``: ``Flatten`` then ``depth`` hidden ``Dense(width, activation)`` layers (with ``normalization``:
  ``Dense(width, use_bias=False)``, ``BatchNormalization``, ``Activation``), then ``Dense(classes, softmax)``;
- ``conv``: ``depth`` ``Conv2D(width, 3, padding="same", activation)`` layers (with ``normalization``: linear,
  then batch norm, then the activation),
  a ``MaxPooling2D(2)`` after every second one while the feature map is at least 8 pixels wide, then
  ``Flatten`` and ``Dense(classes, softmax)``.

Every kernel, the output layer's included, is drawn by the run's initializer; biases start at zero. Layers get
fixed names (``dense_1`` ...) so that the diagnostics of a run do not depend on what the process built before.
A Python callable can build the model instead: ``builder(input_shape, num_classes, kernel_initializer)``
returning an uncompiled model.
"""

import dataclasses

from .. import activations, initializers
from ..arguments import is_int

MODEL_KINDS = ("dense", "conv")
LSUV = "lsuv"  # the data-dependent initializer, applied after building (neurona.initializers.lsuv)


def callable_name(fn):
    """``module:qualname`` of a function, the name a spec records for a user callable."""
    module = getattr(fn, "__module__", None) or "?"
    qualname = getattr(fn, "__qualname__", None) or type(fn).__name__
    return f"{module}:{qualname}"


def check_picklable(fn, what):
    """Refuse a callable that worker processes cannot receive (a lambda, a nested function) for ``jobs > 1``.

    The check is the one the pipe to the workers applies (multiprocessing's own serializer); nothing is ever
    written to a file this way: results.json is plain JSON.
    """
    from multiprocessing.reduction import ForkingPickler

    try:
        ForkingPickler.dumps(fn)
    except Exception as error:  # PicklingError, AttributeError, TypeError: whatever makes it unsendable
        raise ValueError(f"lab.compare: the {what} {callable_name(fn)} cannot be sent to worker processes "
                         f"({error}); with jobs > 1 use a module-level function (importable by name), or "
                         "run with jobs=1") from None


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """A built-in architecture: ``kind`` ("dense" or "conv"), ``depth`` hidden layers of ``width`` units or
    channels, the hidden ``activation`` and whether batch normalization follows each hidden layer."""

    kind: str = "dense"
    depth: int = 3
    width: int = 128
    activation: str = "relu"
    normalization: bool = False

    def __post_init__(self):
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"lab.compare: unknown model {self.kind!r}; expected one of {', '.join(MODEL_KINDS)} "
                             "or a callable builder(input_shape, num_classes, kernel_initializer)")
        for name, value, low in (("depth", self.depth, 1), ("width", self.width, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"lab.compare: {name} must be an integer >= {low}, got {value!r}")
        if not isinstance(self.activation, str) or self.activation not in activations.names():
            raise ValueError(f"lab.compare: unknown activation {self.activation!r}; expected one of "
                             f"{', '.join(activations.names())}")
        if not isinstance(self.normalization, bool):
            raise ValueError(f"lab.compare: normalization must be True or False, got {self.normalization!r}")

    def describe(self):
        """One line, e.g. ``dense, 6 x 128, relu, no normalization``."""
        norm = "batch norm" if self.normalization else "no normalization"
        return f"{self.kind}, {self.depth} x {self.width}, {self.activation}, {norm}"


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything one run depends on; ``config()`` is its JSON-safe record.

    ``initializer`` is a registry name, ``"lsuv"`` or a callable ``(shape, dtype) -> array``; ``model`` a
    ``ModelConfig`` or a callable builder; ``data`` the label of the data (``"embedded"``, ``"full"`` or
    ``"arrays:<digest>"``), the arrays themselves travel separately (``runner.Data``).
    """

    initializer: object
    seed: int
    model: object
    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: object  # float or None (the optimizer's default)
    target: float
    data: str
    threads: int = 1
    probe_size: int = 256

    @property
    def init_label(self):
        """The initializer as the report names it: its name, or for an initializer object its class and
        configuration (``VarianceScaling(distribution='normal', mode='fan_in', scale=2.0, seed=None)``: two
        configurations are two runs), or for a function its ``module:qualname``."""
        return initializer_label(self.initializer)

    @property
    def run_id(self):
        """A stable key, unique in a grid: ``<initializer>/seed<seed>``."""
        return f"{self.init_label}/seed{self.seed}"

    def config(self):
        """The spec as JSON-safe values (callables by their ``module:qualname``)."""
        model = (dataclasses.asdict(self.model) if isinstance(self.model, ModelConfig)
                 else {"builder": callable_name(self.model)})
        return {"initializer": self.init_label, "seed": self.seed, "model": model, "epochs": self.epochs,
                "batch_size": self.batch_size, "optimizer": self.optimizer, "learning_rate": self.learning_rate,
                "target": self.target, "data": self.data, "threads": self.threads, "probe_size": self.probe_size}


def initializer_label(init):
    """See ``RunSpec.init_label``."""
    if isinstance(init, str):
        return init
    get_config = getattr(init, "get_config", None)
    if isinstance(init, initializers.Initializer) and callable(get_config):
        entries = ", ".join(f"{key}={value!r}" for key, value in sorted(get_config().items()))
        return f"{type(init).__name__}({entries})"
    return callable_name(init)


def check_initializer(init):
    """Validate one initializer of the grid: a registry name, ``"lsuv"`` or a callable."""
    if callable(init) and not isinstance(init, str):
        return init
    if not isinstance(init, str) or not init:
        raise ValueError(f"lab.compare: an initializer must be a name or a callable (shape, dtype) -> array, "
                         f"got {init!r}")
    if init.lower() == LSUV:
        return LSUV
    try:
        initializers.get(init)
    except ValueError as error:
        raise ValueError(f"lab.compare: unknown initializer {init!r}: {error}") from None
    return init


def make_grid(inits, seeds, model, **settings):
    """One ``RunSpec`` per (initializer, seed), initializers outermost, in the order given.

    Raises:
        ValueError: no initializer or seed, a duplicate, a negative or non-integer seed, or an unknown name.
    """
    if isinstance(inits, str) or callable(inits):  # one initializer, not a sequence of them (nor its characters)
        inits = [inits]
    if is_int(seeds):
        seeds = [seeds]
    inits = [check_initializer(i) for i in inits]
    seeds = list(seeds)
    if not inits or not seeds:
        raise ValueError("lab.compare: expected at least one initializer and one seed")
    for seed in seeds:
        if not is_int(seed) or seed < 0:
            raise ValueError(f"lab.compare: seeds must be non-negative integers, got {seed!r}")
    seeds = [int(seed) for seed in seeds]  # NumPy integers too; the record keeps plain ints
    specs = [RunSpec(initializer=i, seed=s, model=model, **settings) for i in inits for s in seeds]
    ids = [s.run_id for s in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"lab.compare: duplicate runs {duplicates}: list each initializer and seed once")
    return specs


# ---- models ------------------------------------------------------------------------------------------------
def kernel_initializer(spec):
    """What the layers' ``kernel_initializer`` gets: the named initializer (unseeded: ``nr.seed`` fixes its
    draws), the callable, or for LSUV the orthonormal draw that ``runner`` then rescales on data."""
    if spec.initializer == LSUV:
        return initializers.get("orthogonal")
    return initializers.get(spec.initializer)


def _hidden(layers, kind, index, config, init, shape):
    """The layers of hidden block ``index`` (1-based) and the spatial size after it."""
    name = f"{kind}_{index}"
    # without normalization the activation is the layer's own (as Keras users write it; the diagnostics' mean-field
    # prediction and LSUV read it there); with it, the layer is linear and batch norm comes before the activation
    act, bias = (None, False) if config.normalization else (config.activation, True)
    if kind == "dense":
        out = [layers.Dense(config.width, activation=act, kernel_initializer=init, use_bias=bias, name=name)]
    else:
        out = [layers.Conv2D(config.width, 3, padding="same", activation=act, kernel_initializer=init,
                             use_bias=bias, name=name)]
    if config.normalization:
        out.append(layers.BatchNormalization(name=f"batch_normalization_{index}"))
        out.append(layers.Activation(config.activation, name=f"activation_{index}"))
    if kind == "conv" and index % 2 == 0 and min(shape) >= 8:
        out.append(layers.MaxPooling2D(2, name=f"max_pooling2d_{index // 2}"))
        shape = tuple(s // 2 for s in shape)
    return out, shape


def build_model(spec, input_shape, num_classes):
    """The uncompiled model of ``spec`` for inputs of ``input_shape`` (one example) and ``num_classes``."""
    init = kernel_initializer(spec)
    if not isinstance(spec.model, ModelConfig):
        model = spec.model(tuple(input_shape), num_classes, init)
        if not hasattr(model, "fit"):
            raise TypeError(f"lab.compare: the model builder {callable_name(spec.model)} returned "
                            f"{type(model).__name__}, expected a neurona model")
        return model
    from .. import layers, models

    config = spec.model
    stack = [layers.Input(tuple(input_shape), name="input")]
    shape = tuple(input_shape[:2])
    if config.kind == "conv":
        if len(input_shape) != 3:
            raise ValueError(f"lab.compare: model 'conv' needs image inputs (height, width, channels), got "
                             f"examples of shape {tuple(input_shape)}")
    else:
        stack.append(layers.Flatten(name="flatten"))
    for index in range(1, config.depth + 1):
        block, shape = _hidden(layers, config.kind, index, config, init, shape)
        stack.extend(block)
    if config.kind == "conv":
        stack.append(layers.Flatten(name="flatten"))
    stack.append(layers.Dense(num_classes, activation="softmax", kernel_initializer=init, name="output"))
    return models.Sequential(stack, name=f"lab_{config.kind}")
