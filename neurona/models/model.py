"""``Model``: a ``Layer`` that trains: compile, the train/test/predict steps, saving.

``Model`` is a ``Layer`` (one weight bookkeeping, ``trainable`` propagates,
models nest). It is used three ways, as in Keras:

- ``Model(inputs, outputs)`` builds a functional model (``functional.py``);
- ``class MyModel(Model)`` with layers assigned in ``__init__`` and a ``call``;
- ``Sequential``, a stack of layers (``sequential.py``).

The epoch and batch loops of ``fit``/``evaluate``/``predict`` live in
``training.py``; the table of ``summary()`` in ``summary.py``.
"""

import math

from .. import losses, optimizers
from .. import metrics as metrics_lib
from ..arguments import check_bool, check_path, is_int
from ..autograd import no_grad
from ..backend import blas
from ..layers import Layer
from .. import nest
from ..layers import probe
from ..layers.base import _as_shape_structure, _default_build, _map_shapes
from ..layers.symbolic import SymbolicTensor
from . import summary as summary_lib
from . import training


class TrainingError(FloatingPointError):
    """Training stopped because the loss stopped being a finite number."""


class Model(Layer):
    """Base class of models; ``Model(inputs, outputs)`` makes a functional model.

    Args (subclassing): ``name``, ``trainable``, ``dtype`` as for any layer.

    Attributes:
        layers: the layers, in order.
        optimizer, loss, metrics: set by ``compile``.
        stop_training: set it to True (e.g. from a callback) to end ``fit`` early.
        history: the History of the last ``fit``.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, name=None, trainable=True, dtype=None, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(f"{type(self).__name__}: a subclassed model takes no inputs/outputs; to build a "
                            "functional model call nr.Model(inputs, outputs) itself")
        super().__init__(name=name, trainable=trainable, dtype=dtype, **kwargs)
        self.optimizer = self.loss = None
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None
        self.preprocessing = None  # input preprocessing steps saved with the model (neurona.saving.preprocessing)

    def _kind(self):
        return "model"

    # ---- layers ----------------------------------------------------------------------------------
    @property
    def layers(self):
        """The layers directly inside the model, in the order they were assigned (or called)."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """A layer of the model by ``name`` or by position ``index`` (in ``model.layers``)."""
        if (name is None) == (index is None):
            raise ValueError(f"get_layer: give exactly one of name= or index=, got name={name!r}, index={index!r}")
        layers = self.layers
        if index is not None:
            if not is_int(index) or not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: model {self.name!r} has {len(layers)} layers, got index={index!r}")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: model {self.name!r} has no layer named {name!r}; its layers are "
                         f"{[layer.name for layer in layers]}")

    def zero_grad(self):
        """Forget every weight's gradient (before the next backward)."""
        for w in self.weights:
            w.grad = None

    @_default_build
    def build(self, input_shape=None):
        """Build a subclassed model for inputs of ``input_shape`` by running it once on zeros.

        Keras traces ``call`` symbolically here; running it on a batch of two
        zeros builds every sub-layer the same way (``layers/probe.py``).
        """
        if self.built or input_shape is None:
            self.built = self.built or input_shape is not None
            return
        if type(self).build is not Model.build:  # a subclass's own build called super().build(): nothing more
            self.built = True
            return
        inputs = _map_shapes(lambda s: SymbolicTensor(s, self.dtype), _as_shape_structure(input_shape))
        outputs = probe.output_spec(self, (inputs,), {})
        self._built_output_shape = nest.map_structure(lambda t: t.shape, outputs)

    def summary(self, print_fn=print, **kwargs):
        """Print a table of layers: type, output shape, parameter count and initializer.

        Args:
            print_fn: called with the table's text (``print`` by default; ``lines.append`` collects it).
            **kwargs: Keras's ``line_length``, ``positions``, ``expand_nested``, ``show_trainable``,
                ``layer_range`` are accepted; ``expand_nested=True`` also lists the layers of nested models.

        Raises:
            TypeError: ``print_fn`` is not callable (checked before the table is made).
        """
        if not callable(print_fn):
            raise TypeError(f"summary: print_fn must be a function taking the summary text, such as print, got "
                            f"{print_fn!r} ({type(print_fn).__name__})")
        unknown = set(kwargs) - {"line_length", "positions", "expand_nested", "show_trainable", "layer_range"}
        if unknown:
            raise TypeError(f"summary() got unexpected keyword arguments {sorted(unknown)}")
        print_fn(summary_lib.summary_text(self, expand_nested=bool(kwargs.get("expand_nested", False))))

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
        for penalty in self.losses:  # add_loss terms of this forward pass, activity and weight penalties
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

