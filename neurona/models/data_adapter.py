"""Data for ``fit``, ``evaluate`` and ``predict`` as batches of ``(x, y, sample_weight)``.

Three sources, as in Keras 3:

- arrays (NumPy, CuPy, Tensors, nested lists), or lists/tuples/dicts of them for
  models with several inputs or outputs (``ArrayAdapter``): cut into batches of
  ``batch_size``, reshuffled at every pass over the data when ``shuffle``;
- a Python generator or iterator yielding ``x``, ``(x,)``, ``(x, y)`` or
  ``(x, y, sample_weight)`` (``GeneratorAdapter``): read as it comes, it cannot
  be read twice;
- any other object that can be iterated again and again, such as a PyTorch
  ``DataLoader`` (``IterableAdapter``): each pass is a fresh ``iter()`` over it,
  its batches read like a generator's (PyTorch tensors become NumPy arrays);
- a ``neurona.utils.PyDataset`` (``PyDatasetAdapter``): batch ``i`` is
  ``dataset[i]``; with ``shuffle`` the batch order is drawn anew at each pass, and
  its ``on_epoch_begin``/``on_epoch_end`` run around every epoch.

``EpochIterator`` turns a source into epochs with Keras's rules for
``steps_per_epoch``: without it an epoch is one pass (a generator's epoch ends
when it is exhausted); with it an epoch is that many batches, a pass continuing
into the next epoch, and an epoch ends early (with a warning) when a pass ends
before its steps are done.
"""

import itertools
import math
import warnings

from ..arguments import shown
from ..utils.py_dataset import PyDataset
from . import data_arrays

DEFAULT_BATCH_SIZE = 32  # Keras's default


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (a list as a tuple).

    Keras's ``keras.utils.unpack_x_y_sample_weight``, for ``train_step`` overrides.

    Raises:
        ValueError: a tuple of more than three items.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(f"data must be x, (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(data)} items")
    return data + (None,) * (3 - len(data))


def is_iterator(value):
    """Whether ``value`` is a generator or another iterator (something ``next()`` reads batches from)."""
    return hasattr(value, "__next__") and hasattr(value, "__iter__") and not hasattr(value, "shape")


def is_reiterable(value):
    """Whether ``value`` is a batch source read anew at each pass (a PyTorch ``DataLoader``, any iterable).

    Arrays (anything with a ``shape`` or NumPy's array protocol), Python containers of arrays (lists, tuples,
    dicts) and strings are data, not sources of batches; iterators are read once (``is_iterator``).
    """
    if isinstance(value, (list, tuple, dict, str, bytes, PyDataset)) or is_iterator(value):
        return False
    if hasattr(value, "shape") or hasattr(value, "__array__") or hasattr(value, "__array_interface__"):
        return False
    return hasattr(value, "__iter__")


def is_batch_source(value):
    """Whether ``value`` hands out batches itself (a PyDataset, a generator or another iterable of batches)."""
    return isinstance(value, PyDataset) or is_iterator(value) or is_reiterable(value)


def source_kind(value):
    """What a batch source is, for messages: ``"PyDataset"``, ``"generator"`` or its type's name."""
    if isinstance(value, PyDataset):
        return "PyDataset"
    return "generator" if is_iterator(value) else type(value).__name__


class ArrayAdapter:
    """Batches of arrays already in memory (``x``, ``y``, ``sample_weight`` checked by ``data_arrays.prepare``)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, rng=None):
        self.data = (x, y, sample_weight)
        self.num_samples = data_arrays.num_samples([("x", x), ("y", y), ("sample_weight", sample_weight)])
        if batch_size is None:  # Keras: batches that make `steps` steps, else 32
            batch_size = math.ceil(self.num_samples / steps) if steps else DEFAULT_BATCH_SIZE
        self.batch_size = batch_size
        self.num_batches = math.ceil(self.num_samples / batch_size)
        self.shuffle, self.rng = shuffle, rng

    def passes(self):
        """One pass over the data; the shuffled order is drawn when the pass starts."""
        n, size = self.num_samples, self.batch_size
        order = self.rng.permutation(n) if self.shuffle else None
        for start in range(0, n, size):
            stop = min(start + size, n)
            yield data_arrays.take(self.data, order[start:stop] if order is not None else slice(start, stop))

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class _BatchChecks:
    """Checks and casts each batch that a generator or PyDataset hands out, naming the batch in errors."""

    def __init__(self, source, caller, class_weight, finite, counts, inputs_only=False):
        self.source, self.caller, self.class_weight, self.finite = source, caller, class_weight, finite
        self.n_inputs, self.n_outputs = counts
        self.inputs_only = inputs_only  # predict: targets a batch may hold are not read

    def __call__(self, batch, index):
        where = f"{self.caller}: {self.source} batch {index}"
        if isinstance(batch, list):
            batch = tuple(batch)
        if isinstance(batch, tuple) and not 1 <= len(batch) <= 3:
            raise ValueError(f"{where} is a tuple of {len(batch)} items; expected x, (x,), (x, y) or "
                             "(x, y, sample_weight)")
        x, y, sample_weight = unpack_x_y_sample_weight(batch)
        x = data_arrays.prepare(x, "x", where, "x", self.n_inputs, self.finite)
        if self.inputs_only:
            return x, None, None
        if y is not None:
            y = data_arrays.prepare(y, "y", where, "y", self.n_outputs, self.finite)
        if self.class_weight is not None and y is not None:
            if sample_weight is not None:
                raise ValueError(f"{where} has sample weights and fit() has class_weight: give only one of them")
            sample_weight = data_arrays.class_weight_to_sample_weight(y, self.class_weight, where)
        if sample_weight is not None:
            sample_weight = data_arrays.prepare(sample_weight, "sample_weight", where, "sample_weight",
                                                self.n_outputs, self.finite)
        data_arrays.num_samples([("x", x), ("y", y), ("sample_weight", sample_weight)], where)
        return x, y, sample_weight


class GeneratorAdapter:
    """Batches read from a Python generator or iterator, once (there is no second pass over a generator)."""

    num_batches = None
    batch_size = None

    def __init__(self, iterator, checks):
        self.iterator, self.checks = iterator, checks
        self._count = 0

    def passes(self):
        """The batches still to come (the same iterator at every call: a generator cannot restart)."""
        for batch in self.iterator:
            self._count += 1
            yield self.checks(batch, self._count - 1)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class IterableAdapter:
    """Batches of an iterable such as a PyTorch ``DataLoader``: a fresh ``iter()`` at each pass.

    ``num_batches`` is ``len()`` of the iterable when it has one (a DataLoader's number of batches), so
    progress bars know the epoch's length; without one an epoch ends when a pass does.
    """

    batch_size = None

    def __init__(self, iterable, checks):
        self.iterable, self.checks = iterable, checks
        try:
            self.num_batches = len(iterable)
        except TypeError:  # no __len__, or an IterableDataset's loader
            self.num_batches = None
        if self.num_batches == 0:
            raise ValueError(f"{checks.caller}: the {type(iterable).__name__} has no batches (len() is 0); "
                             "expected at least one")

    def passes(self):
        for index, batch in enumerate(iter(self.iterable)):
            yield self.checks(batch, index)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class PyDatasetAdapter:
    """Batches ``dataset[i]`` of a ``PyDataset``; an endless one (``num_batches`` None) needs ``steps``."""

    batch_size = None

    def __init__(self, dataset, checks, shuffle=False, rng=None):
        self.dataset, self.checks, self.shuffle, self.rng = dataset, checks, shuffle, rng
        self.num_batches = dataset.num_batches
        if self.num_batches is not None and self.num_batches <= 0:
            raise ValueError(f"{checks.caller}: the PyDataset {type(dataset).__name__} has no batches (len() is "
                             f"{self.num_batches}); expected at least one")

    def passes(self):
        if self.num_batches is None:
            indices = itertools.count()
        elif self.shuffle:
            indices = (int(i) for i in self.rng.permutation(self.num_batches))
        else:
            indices = range(self.num_batches)
        for index in indices:
            yield self.checks(self.dataset[index], index)

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()


def make_adapter(x, y=None, sample_weight=None, *, caller, batch_size=None, steps=None, shuffle=False,
                 class_weight=None, rng=None, counts=(None, None), finite=False, require_y=False, prefix="",
                 inputs_only=False):
    """The adapter for ``x`` (and ``y``, ``sample_weight`` when ``x`` holds arrays).

    Args:
        caller: ``"fit"``, ``"evaluate"`` or ``"predict"``, named in errors.
        counts: ``(inputs, outputs)`` of the model when known, to read lists of arrays as structures.
        finite: refuse NaN and inf in the data.
        require_y: arrays must come with targets (a compiled loss compares them with the predictions).
        prefix: ``"validation "`` names the arguments in errors.
        inputs_only: only ``x`` is read from the batches of a generator or PyDataset (``predict``).
    """
    if is_batch_source(x):
        kind = source_kind(x)
        for name, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(f"{caller}: when {prefix}x is a {kind}, {name} must not be given: the {kind} "
                                 f"yields (x, y) or (x, y, sample_weight) batches itself, got {name}="
                                 f"{shown(value)[:80]}")
        checks = _BatchChecks(kind, caller, class_weight, finite, counts, inputs_only)
        if kind == "PyDataset":
            return PyDatasetAdapter(x, checks, shuffle=shuffle, rng=rng)
        if kind == "generator":
            return GeneratorAdapter(x, checks)
        return IterableAdapter(x, checks)
    x, y, sample_weight = prepare_arrays(x, y, sample_weight, caller=caller, counts=counts, finite=finite,
                                         require_y=require_y, prefix=prefix)
    if class_weight is not None:
        sample_weight = class_weights_for(y, sample_weight, class_weight, caller)
    return ArrayAdapter(x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=shuffle, rng=rng)


def prepare_arrays(x, y=None, sample_weight=None, *, caller, counts=(None, None), finite=False, require_y=False,
                   prefix=""):
    """``(x, y, sample_weight)`` checked and cast, with one number of samples (a ValueError names what differs)."""
    n_inputs, n_outputs = counts
    x = data_arrays.prepare(x, f"{prefix}x", caller, "x", n_inputs, finite)
    if y is not None or require_y:
        y = data_arrays.prepare(y, f"{prefix}y", caller, "y", n_outputs, finite)
    if sample_weight is not None:
        sample_weight = data_arrays.prepare(sample_weight, f"{prefix}sample_weight", caller, "sample_weight",
                                            n_outputs, finite)
    data_arrays.num_samples([(f"{prefix}x", x), (f"{prefix}y", y), (f"{prefix}sample_weight", sample_weight)],
                            caller)
    return x, y, sample_weight


def class_weights_for(y, sample_weight, class_weight, caller):
    """The sample weights ``class_weight`` gives the targets ``y`` (refused together with ``sample_weight``)."""
    if sample_weight is not None:
        raise ValueError(f"{caller}: give sample_weight or class_weight, not both (Keras refuses the pair too)")
    if y is None:
        raise ValueError(f"{caller}: class_weight weighs samples by their target class, but y was not given")
    return data_arrays.class_weight_to_sample_weight(y, class_weight, caller)


class EpochIterator:
    """Epochs of batches from an adapter, with Keras's rules for ``steps`` (``steps_per_epoch``).

    Attributes:
        last_count: how many batches the latest epoch had.
    """

    def __init__(self, adapter, steps=None):
        self.adapter, self.steps = adapter, steps
        self._pass = None  # the pass in progress; kept from one epoch to the next when steps is given
        self.last_count = 0

    @property
    def num_batches(self):
        """Batches per epoch: ``steps``, else the adapter's count (None for a generator)."""
        return self.steps or self.adapter.num_batches

    def epoch(self):
        """Yield ``(step, (x, y, sample_weight))`` for one epoch (close the generator if you stop early)."""
        self.adapter.on_epoch_begin()
        try:
            fresh = self._pass is None or self.steps is None
            if fresh:
                self._pass = self.adapter.passes()
            step = 0
            while self.steps is None or step < self.steps:
                try:
                    batch = next(self._pass)
                except StopIteration:
                    if step == 0 and not fresh:  # the last epoch ended with its pass: start the next pass
                        self._pass, fresh = self.adapter.passes(), True
                        continue
                    self._pass = None
                    if self.steps is not None and step:
                        warnings.warn(f"Your input ran out of data after {step} of steps={self.steps} batches of "
                                      "this epoch; the epoch ends here (a new pass over the data starts with the "
                                      "next one, if the data can be read again)", stacklevel=3)
                    break
                self.last_count = step + 1
                yield step, batch
                step += 1
            self.last_count = step
        finally:
            self.adapter.on_epoch_end()
