"""``Model``: what every model shares: weights, compile, and the train/test/predict steps.

Subclasses (``Sequential``) define ``build(input_shape)`` and ``call(x, training)``.
The epoch and batch loops of ``fit``/``evaluate``/``predict`` live in
``training.py``; the table of ``summary()`` in ``summary.py``.
"""

import math

from .. import losses, optimizers
from .. import metrics as metrics_lib
from ..arguments import check_bool, check_path
from ..autograd import Tensor, no_grad
from ..backend import blas
from . import summary as summary_lib
from . import training


class TrainingError(FloatingPointError):
    """Training stopped because the loss stopped being a finite number."""


class Model:
    """Base class of models.

    Attributes:
        layers: the layers, in order.
        optimizer, loss, metrics: set by ``compile``.
        stop_training: set it to True (e.g. from a callback) to end ``fit`` early.
        history: the History of the last ``fit``.
    """

    def __init__(self, name=None):
        from ..layers.base import unique_name
        from ..registry import snake_case

        self.name = name or unique_name(snake_case(type(self).__name__))
        self.optimizer = self.loss = None
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None
        self.built = False
        self.preprocessing = None  # input preprocessing steps saved with the model (neurona.saving.preprocessing)

    # ---- weights -------------------------------------------------------------------------------
    @property
    def layers(self):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def get_weights(self):
        """All weights as NumPy arrays, layer by layer."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, arrays):
        """Set all weights (in ``get_weights`` order); checks every shape before changing anything."""
        weights, arrays = self.weights, list(arrays)
        if len(arrays) != len(weights):
            raise ValueError(f"model {self.name!r} has {len(weights)} weights, got {len(arrays)} arrays")
        for w, a in zip(weights, arrays):
            if tuple(a.shape) != w.shape:
                raise ValueError(f"model {self.name!r}: weight {w.name!r} has shape {w.shape}, got {a.shape}")
        for w, a in zip(weights, arrays):
            w.assign(a)

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def zero_grad(self):
        """Forget every weight's gradient (before the next backward)."""
        for w in self.weights:
            w.grad = None

    def regularization_losses(self):
        """All weight penalties of all layers, as scalar Tensors."""
        return [loss for layer in self.layers for loss in layer.regularization_losses()]

    # ---- calling ---------------------------------------------------------------------------------
    def __call__(self, inputs, training=False):
        """The forward pass: a Tensor in, a Tensor out (``training`` switches dropout and the like)."""
        if training is not None:  # "no" would be truthy
            training = check_bool(training, f"model {self.name!r}", "training", optional=True)
        if not isinstance(inputs, Tensor):
            inputs = Tensor(inputs)
        if not self.built:
            self.build(inputs.shape)
        return self.call(inputs, training=training)

    def summary(self, print_fn=print):
        """Print a table of layers: type, output shape, parameter count and initializer.

        Args:
            print_fn: called with the table's text (``print`` by default; ``lines.append`` collects it).

        Raises:
            TypeError: ``print_fn`` is not callable (checked before the table is made).
        """
        if not callable(print_fn):
            raise TypeError(f"summary: print_fn must be a function taking the summary text, such as print, got "
                            f"{print_fn!r} ({type(print_fn).__name__})")
        print_fn(summary_lib.summary_text(self))

    # ---- compile and steps ------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, loss and metrics for ``fit`` and ``evaluate`` (Keras defaults).

        Args:
            optimizer: a name (``"adam"``) or an optimizer object.
            loss: a name (``"categorical_crossentropy"``), a loss object, or a function
                ``(y_true, y_pred) -> per-sample losses``.
            metrics: list of names (``["accuracy"]``) or metric objects.
        """
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='categorical_crossentropy'")
        self.optimizer = optimizers.get(optimizer)
        loss_object = losses.get(loss)
        # a plain function (y_true, y_pred) -> per-sample losses is averaged over the batch, as in Keras
        self.loss = loss_object if isinstance(loss_object, losses.Loss) else losses.LossFunctionWrapper(loss_object)
        output_shape = self.layers[-1].output_shape if self.layers and self.layers[-1].built else None
        self.compiled_metrics = [metrics_lib.resolve(m, loss=loss, output_shape=output_shape) for m in (metrics or [])]
        self.stop_training = False

    def _require_compiled(self, what):
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"model {self.name!r} must be compiled before {what}(): call model.compile("
                               "optimizer=..., loss=..., metrics=...)")

    def compute_loss(self, y_true, y_pred):
        """The training objective: the compiled loss plus every weight and activity penalty."""
        loss = self.loss(y_true, y_pred)
        for penalty in self.regularization_losses():
            loss = loss + penalty
        for penalty in (p for layer in self.layers for p in layer.activity_losses):  # from the latest forward pass
            loss = loss + penalty
        return loss

    def train_step(self, x, y):
        """One gradient step on a batch; returns the loss value (a float) and updates the metrics."""
        with blas.single_threaded():  # our threads share out the products (see backend/blas.py)
            return self._train_step(x, y)

    def _train_step(self, x, y):
        y_pred = self(x, training=True)
        loss = self.compute_loss(y, y_pred)
        value = float(loss.data)
        if not math.isfinite(value):
            # looked for only on this error path: a finite-loss step may have written NaN already (training.py)
            bad = training.nonfinite_weights(self)
            state = (f"the weights {bad} were already non-finite: the previous update overflowed although its "
                     "loss was finite" if bad else "training was stopped before this step changed the weights")
            raise TrainingError(
                f"the training loss became {value} (at optimizer step {self.optimizer.iterations}); {state}. "
                "Common causes: a learning rate too high, unscaled inputs, or NaN in the data"
            )
        self.zero_grad()
        loss.backward()
        self.optimizer.apply(self.trainable_weights)
        self._update_metrics(y, y_pred)
        return value

    def test_step(self, x, y):
        """Loss value (a float) on a batch without training; updates the metrics."""
        with no_grad(), blas.single_threaded():
            y_pred = self(x, training=False)
            value = float(self.compute_loss(y, y_pred).data)
        self._update_metrics(y, y_pred)
        return value

    def _update_metrics(self, y, y_pred):
        for metric in self.compiled_metrics:
            metric.update_state(y, y_pred.data)

    # ---- loops (training.py) ---------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0):
        """Train for ``epochs`` passes over ``(x, y)``; returns a ``History`` (see ``training.fit``)."""
        return training.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                            callbacks=callbacks, validation_split=validation_split,
                            validation_data=validation_data, shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", callbacks=None, return_dict=False):
        """Loss and metrics on ``(x, y)``: a float, a list ``[loss, *metrics]``, or a dict."""
        return training.evaluate(self, x, y, batch_size=batch_size, verbose=verbose, callbacks=callbacks,
                                 return_dict=return_dict)

    def predict(self, x, batch_size=None, verbose=0, callbacks=None):
        """The model's outputs for ``x`` as a NumPy array, computed batch by batch without gradients."""
        return training.predict(self, x, batch_size=batch_size, verbose=verbose, callbacks=callbacks)

    # ---- saving (neurona.saving sits above models, so it is imported inside these methods) ----------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Save to the folder ``filepath``: ``model.json`` (architecture, compile settings) + ``model.h5``."""
        from ..saving import save_model

        filepath = check_path(filepath, "Model.save", "filepath")
        overwrite = check_bool(overwrite, "Model.save", "overwrite")
        include_optimizer = check_bool(include_optimizer, "Model.save", "include_optimizer")
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights to the HDF5 file ``filepath``."""
        from ..saving import save_weights

        filepath = check_path(filepath, "Model.save_weights", "filepath")
        save_weights(self, filepath, overwrite=check_bool(overwrite, "Model.save_weights", "overwrite"))

    def load_weights(self, filepath, by_name=False):
        """Load weights from an HDF5 file or a saved model folder (layers matched in order, or by name)."""
        from ..saving import load_weights

        filepath = check_path(filepath, "Model.load_weights", "filepath")
        load_weights(self, filepath, by_name=check_bool(by_name, "Model.load_weights", "by_name"))

    def to_json(self, **kwargs):
        """The architecture as JSON text; ``models.model_from_json`` rebuilds the model (with new weights)."""
        from ..saving import to_json

        return to_json(self, **kwargs)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} layers={len(self.layers)} built={self.built}>"

