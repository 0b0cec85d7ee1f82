"""The ``Callback`` base class and ``CallbackList``, which calls a list of them.

A callback is told about each stage of ``fit``/``evaluate``/``predict``
through no-op hooks a subclass overrides. ``self.model`` is the model being
trained (set ``self.model.stop_training = True`` to stop after this batch or
epoch) and ``self.params`` holds ``epochs``, ``steps`` and ``verbose``.
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
        """Called before each training batch."""

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch with the running averages of the epoch so far."""

    def on_test_begin(self, logs=None):
        """Called before evaluation (``evaluate`` or the validation pass of ``fit``)."""

    def on_test_end(self, logs=None):
        """Called after evaluation with its results."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each evaluation batch."""

    def on_predict_begin(self, logs=None):
        """Called before ``predict``."""

    def on_predict_end(self, logs=None):
        """Called after ``predict``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each prediction batch."""


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


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
            base = getattr(Callback, hook)
            bound = [getattr(cb, hook) for cb in self.callbacks if getattr(type(cb), hook) is not base]
            setattr(self, hook, self._dispatch(bound))

    @staticmethod
    def _dispatch(bound):
        if not bound:
            return lambda *args, **kwargs: None

        def call_all(*args, **kwargs):
            for fn in bound:
                fn(*args, **kwargs)

        return call_all
