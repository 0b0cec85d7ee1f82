"""``PyDataset`` (alias ``Sequence``): a dataset written in Python that hands out whole batches by index.

The Keras 3 contract: a subclass defines ``__len__`` (the number of batches) and
``__getitem__(index)`` (batch ``index``, as ``x``, ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)``), and may define ``on_epoch_begin`` / ``on_epoch_end``
to change the data between epochs (reshuffle, augment)::

    class Batches(nr.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, index):
            part = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[part], self.y[part]
"""

import itertools
import warnings

from ..arguments import check_bool, check_int, shown

_DEFAULTS = (("_workers", 1), ("_use_multiprocessing", False), ("_max_queue_size", 10))


class PyDataset:
    """Base class of datasets that produce batches in Python code (Keras's ``keras.utils.PyDataset``).

    Args:
        workers: how many threads or processes a training loop may use to prepare
            batches ahead (an int >= 0).
        use_multiprocessing: whether those workers would be processes rather than threads.
        max_queue_size: how many prepared batches may wait (an int >= 1).

    These three are stored for Keras programs and read back through their properties;
    iterating a ``PyDataset`` by hand (``for batch in dataset``) prepares one batch at a
    time in the calling thread, as in Keras.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = check_int(workers, "PyDataset", "workers", low=0)
        self._use_multiprocessing = check_bool(use_multiprocessing, "PyDataset", "use_multiprocessing")
        self._max_queue_size = check_int(max_queue_size, "PyDataset", "max_queue_size", low=1)

    def _warn_if_super_not_called(self):
        missing = [(name, default) for name, default in _DEFAULTS if not hasattr(self, name)]
        for name, default in missing:
            setattr(self, name, default)
        if missing:
            warnings.warn(f"{type(self).__name__} should call super().__init__(**kwargs) in its constructor "
                          "(kwargs may hold workers, use_multiprocessing, max_queue_size); using the defaults",
                          stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = check_int(value, "PyDataset", "workers", low=0)

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = check_bool(value, "PyDataset", "use_multiprocessing")

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = check_int(value, "PyDataset", "max_queue_size", low=1)

    def __getitem__(self, index):
        """Batch number ``index``: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``. Subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), returning batch index")

    @property
    def num_batches(self):
        """The number of batches: ``len(self)``, or None for an endless dataset (a subclass may override it)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of batches) or the "
                                  "num_batches property")

    def __iter__(self):
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        for index in (itertools.count() if count is None else range(count)):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch; does nothing unless a subclass overrides it."""

    def on_epoch_end(self):
        """Called at the end of every epoch; does nothing unless a subclass overrides it."""


#: Keras 2's name, kept by Keras 3 as an alias.
Sequence = PyDataset


def unpack_batch(batch, index=None):
    """A batch from ``PyDataset.__getitem__`` as ``(x, y, sample_weight)`` (y and sample_weight may be None).

    ``x`` alone (an array or a dict of arrays) and ``(x,)`` give ``(x, None, None)``; ``(x, y)`` gives
    ``(x, y, None)``; a list is read as a tuple.

    Args:
        batch: what ``__getitem__`` returned.
        index: the batch's index, named in the error.

    Raises:
        ValueError: ``batch`` is a tuple or list of 0 or more than 3 items, or neither a tuple, an array
            nor a dict.
    """
    if isinstance(batch, list):
        batch = tuple(batch)
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError(f"PyDataset batch{'' if index is None else f' {index}'} is a tuple of {len(batch)} "
                             "items; expected x, (x,), (x, y) or (x, y, sample_weight)")
        return batch + (None,) * (3 - len(batch))
    if not (isinstance(batch, dict) or hasattr(batch, "shape")):
        raise ValueError(f"PyDataset batch{'' if index is None else f' {index}'} must be x, (x,), (x, y) or "
                         f"(x, y, sample_weight), got {shown(batch)[:200]}")
    return batch, None, None
