"""``LambdaCallback``: a callback made of plain functions, for one-off hooks."""

from .callback import _HOOKS, Callback


class LambdaCallback(Callback):
    """A callback whose hooks are the functions given, called with the same arguments as the methods.

    Run-level hooks (``on_train_begin``, ``on_test_end``, ...) get ``(logs)``;
    epoch and batch hooks (``on_epoch_end``, ``on_train_batch_end``, ...) get
    ``(index, logs)``. Hooks not given do nothing.

    Example:
        >>> losses = []
        >>> log_loss = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))

    Args:
        on_epoch_begin, on_epoch_end, on_train_begin, on_train_end, on_train_batch_begin,
        on_train_batch_end: functions for those hooks.
        **hooks: functions for any other hook of ``Callback`` (``on_test_begin``,
            ``on_predict_batch_end``, ...).
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **hooks):
        super().__init__()
        unknown = sorted(set(hooks) - set(_HOOKS) - {"on_batch_begin", "on_batch_end"})
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hooks {unknown}; valid hooks: {', '.join(_HOOKS)}")
        hooks.update(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be a function, got {fn!r}")
            setattr(self, name, fn)  # an instance attribute: CallbackList sees the hook as overridden
