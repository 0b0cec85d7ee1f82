"""The ``Callback`` base class and ``CallbackList``, which calls a list of them.

A callback is told about each stage of ``fit``/``evaluate``/``predict``
through no-op hooks a subclass overrides. ``self.model`` is the model being
trained (set ``self.model.stop_training = True`` to stop after this batch or
epoch) and ``self.params`` holds ``epochs``, ``steps`` (None when unknown, for a
generator) and ``verbose``.

As in Keras, every hook is called with positional arguments: ``(logs)`` for
the ``*_begin``/``*_end`` hooks of a whole run, ``(index, logs)`` for epoch
and batch hooks. ``logs`` is always a dict, as in Keras 3: empty for the
``*_begin`` hooks; the running means of the loss and metrics for
``on_train_batch_end`` / ``on_test_batch_end``; the epoch's results (``val_``
ones included) for ``on_epoch_end`` and ``on_train_end``; the evaluation's for
``on_test_end``; ``{"outputs": ...}`` for ``on_predict_batch_end``. Keys are
sorted and values are Python floats (a list of floats for per-class results).
A hook may also be set on an instance (``cb.on_epoch_end = fn``), which is how
``LambdaCallback`` works.
"""


class Callback:
    """Base class: every hook does nothing.

    Attributes:
        rank_zero_only: in data-parallel training (``neurona.distributed``), run only on rank 0: True for the
            callbacks that write files or print (checkpoints, CSV and TensorBoard logs, the progress bar),
            so that one process writes them; callbacks that change the training (early stopping, learning
            rates) run on every process, which see the same logs and so decide alike.
    """

    rank_zero_only = False

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        """Called once before the first epoch."""

    def on_train_end(self, logs=None):
        """Called once after the last epoch (also after early stopping)."""

    def on_train_failed(self, error):
        """Called instead of ``on_train_end`` when ``fit`` stops on an exception (``error``, raised again
        afterwards; Neurona's hook, Keras has none): release what ``on_train_end`` would (files, hooks)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of every epoch (0-based)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of every epoch with the epoch's metrics, ``val_`` ones included."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch (by default calls ``on_batch_begin``, the Keras 2 name)."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch with the running averages of the epoch so far
        (by default calls ``on_batch_end``, the Keras 2 name)."""
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        """Keras 2 name of ``on_train_batch_begin``, kept so callbacks written for it still run."""

    def on_batch_end(self, batch, logs=None):
        """Keras 2 name of ``on_train_batch_end``, kept so callbacks written for it still run."""

    def on_test_begin(self, logs=None):
        """Called before evaluation (``evaluate`` or the validation pass of ``fit``)."""

    def on_test_end(self, logs=None):
        """Called after evaluation with its results."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each evaluation batch with the running loss and metrics of the evaluation so far."""

    def on_predict_begin(self, logs=None):
        """Called before ``predict``."""

    def on_predict_end(self, logs=None):
        """Called after ``predict``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each prediction batch; ``logs["outputs"]`` holds the batch's outputs (a NumPy array)."""


# the hooks the loops call; on_batch_begin/on_batch_end are reached through the train-batch hooks
_HOOKS = [name for name in vars(Callback) if name.startswith("on_") and name not in (
    "on_batch_begin", "on_batch_end", "on_train_failed")]  # the last takes an error, not logs: called by hand
_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _overrides(cb, hook):
    """Whether ``cb`` does something in ``hook``: a subclass method or an instance attribute, or the Keras 2 alias."""
    names = (hook, _ALIASES[hook]) if hook in _ALIASES else (hook,)
    return any(name in vars(cb) or getattr(type(cb), name) is not getattr(Callback, name) for name in names)


def _takes_index(hook):
    return hook.startswith("on_epoch_") or "_batch_" in hook


class CallbackList(Callback):
    """Calls every hook on each callback in order; hooks no callback overrides cost nothing per batch.

    Args:
        callbacks: Callback instances (or another CallbackList, whose callbacks are taken).
        model: the model the callbacks observe.
        params: ``epochs``, ``steps``, ``verbose`` ... (keyword arguments are added to them, as in Keras).
        add_history: append a ``History`` unless one is among ``callbacks``.
        add_progbar: append a ``ProgbarLogger`` unless one is among ``callbacks``.

    A hook called without logs passes ``{}``: a callback never receives None.
    """

    def __init__(self, callbacks=None, model=None, params=None, add_history=False, add_progbar=False, **kwargs):
        super().__init__()
        from .history import History  # history.py and progbar_logger.py import this module
        from .progbar_logger import ProgbarLogger

        if isinstance(callbacks, CallbackList):
            callbacks = callbacks.callbacks
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be neurona.callbacks.Callback instances, got {cb!r}")
        self.history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        self.progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self.progbar is None and add_progbar:
            self.progbar = ProgbarLogger()
            self.callbacks.append(self.progbar)
        self.model, self.params = model, {**(params or {}), **kwargs}
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(self.params)
        self._bind()

    def set_model(self, model):
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def append(self, callback):
        """Add a callback at the end (it gets this list's model and params)."""
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks must be neurona.callbacks.Callback instances, got {callback!r}")
        callback.set_model(self.model)
        callback.set_params(self.params)
        self.callbacks.append(callback)
        self._bind()

    def on_train_failed(self, error):
        """Tell every callback that ``fit`` failed; a callback failing in turn is warned about, so the
        others still release their resources and the original error is the one raised."""
        import warnings

        for cb in self.callbacks:
            try:
                cb.on_train_failed(error)
            except Exception as failure:  # noqa: BLE001 - cleanup after an error must not replace it
                warnings.warn(f"{type(cb).__name__}.on_train_failed raised {type(failure).__name__}: {failure}",
                              stacklevel=2)

    def _bind(self):
        for hook in _HOOKS:
            # keep only the overridden hooks, so empty per-batch hooks are not called 469 times an epoch
            bound = [getattr(cb, hook) for cb in self.callbacks if _overrides(cb, hook)]
            setattr(self, hook, self._dispatch(bound, _takes_index(hook)))

    @staticmethod
    def _dispatch(bound, indexed):
        """One function calling every hook in ``bound`` with Keras's positional ``(index, logs)`` or ``(logs)``."""
        if not bound:
            return lambda *args, **kwargs: None
        if indexed:
            def call_all(index, logs=None):
                logs = {} if logs is None else logs
                for fn in bound:
                    fn(index, logs)
        else:
            def call_all(logs=None):
                logs = {} if logs is None else logs
                for fn in bound:
                    fn(logs)
        return call_all
