"""The ``Callback`` base class and ``CallbackList``, which calls a list of them.

A callback is told about each stage of ``fit``/``evaluate``/``predict``
through no-op hooks a subclass overrides. ``self.model`` is the model being
trained (set ``self.model.stop_training = True`` to stop after this batch or
epoch) and ``self.params`` holds ``epochs``, ``steps`` and ``verbose``.

As in Keras, every hook is called with positional arguments: ``(logs)`` for
the ``*_begin``/``*_end`` hooks of a whole run, ``(index, logs)`` for epoch
and batch hooks, where ``logs`` is None when there is nothing to report. A
hook may also be set on an instance (``cb.on_epoch_end = fn``), which is how
``LambdaCallback`` works.
"""


class Callback:
    """Base class: every hook does nothing."""

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
_HOOKS = [name for name in vars(Callback) if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end")]
_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _overrides(cb, hook):
    """Whether ``cb`` does something in ``hook``: a subclass method or an instance attribute, or the Keras 2 alias."""
    names = (hook, _ALIASES[hook]) if hook in _ALIASES else (hook,)
    return any(name in vars(cb) or getattr(type(cb), name) is not getattr(Callback, name) for name in names)


def _takes_index(hook):
    return hook.startswith("on_epoch_") or "_batch_" in hook


class CallbackList:
    """Calls every hook on each callback in order; hooks no callback overrides cost nothing per batch."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be neurona.callbacks.Callback instances, got {cb!r}")
            cb.set_model(model)
            cb.set_params(params)
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
                for fn in bound:
                    fn(index, logs)
        else:
            def call_all(logs=None):
                for fn in bound:
                    fn(logs)
        return call_all
