"""What ``Layer.__call__`` needs around ``call``: which arguments ``call`` accepts, and the call context.

Keras passes ``training`` (and ``mask``) to ``call`` only when its signature
accepts them, so ``def call(self, inputs)`` is a valid layer. An outer call's
``training`` flows to the layers called inside it when they are not told
otherwise: ``model(x, training=True)`` runs the ``Dropout`` inside a
subclassed model's ``call(self, x)`` in training mode, as Keras does.
"""

import inspect
import threading

_signatures = {}


class CallSignature:
    """Which of ``training`` and ``mask`` a ``call`` method takes (or ``**kwargs``, which takes both)."""

    __slots__ = ("training", "training_default", "mask", "var_keyword", "first")

    def __init__(self, fn):
        try:
            parameters = inspect.signature(fn).parameters
        except (TypeError, ValueError):  # a builtin or C callable: pass nothing extra
            parameters = {}
        # the inputs are call's first argument after self, whatever its name: layer(logits=a, targets=b) passes
        # `logits` as the inputs (Keras reads the first argument the same way, by position or by name)
        positional = [name for name, p in list(parameters.items())[1:]
                      if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        self.first = positional[0] if positional else "inputs"
        self.var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        self.training = "training" in parameters or self.var_keyword
        # call(x, training=True): with no flag from outside, the signature's own default applies (as in Keras)
        training = parameters.get("training")
        self.training_default = training is not None and training.default is not inspect.Parameter.empty \
            and training.default is not None
        self.mask = "mask" in parameters


def call_signature(layer):
    """The ``CallSignature`` of ``type(layer).call`` (computed once per class)."""
    cls = type(layer)
    signature = _signatures.get(cls)
    if signature is None:
        signature = _signatures[cls] = CallSignature(cls.call)
    return signature


class _Context(threading.local):
    def __init__(self):
        self.depth = 0  # how many Layer.__call__ are running in this thread (0: the next one is outermost)
        self.training = None  # the training flag of the outermost call that set one


context = _Context()


class entered:
    """``with entered(training):`` one level deeper in the call stack, with ``training`` inherited if None."""

    __slots__ = ("training", "_saved", "outermost")

    def __init__(self, training):
        self.training = context.training if training is None else training
        self.outermost = context.depth == 0

    def __enter__(self):
        self._saved = context.training
        context.depth += 1
        context.training = self.training
        return self

    def __exit__(self, *exc):
        context.depth -= 1
        context.training = self._saved
        return False
