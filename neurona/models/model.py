"""``Model``: a ``Layer`` that trains: compile, the train/test/predict steps, saving.

``Model`` is a ``Layer`` (one weight bookkeeping, ``trainable`` propagates,
models nest). It is used three ways, as in Keras:

- ``Model(inputs, outputs)`` builds a functional model (``functional.py``);
- ``class MyModel(Model)`` with layers assigned in ``__init__`` and a ``call``;
- ``Sequential``, a stack of layers (``sequential.py``).

The epoch and batch loops of ``fit``/``evaluate``/``predict`` live in
``training.py``; the table of ``summary()`` in ``summary.py``.
"""

import functools
import inspect
import math
import warnings

import numpy

from .. import metrics as metrics_lib
from .. import nest, optimizers
from ..arguments import check_bool, check_int, check_path, is_int
from ..autograd import no_grad
from ..layers import Layer, probe
from ..layers.base import _default_build
from ..layers.shapes import as_shape_structure, map_shapes
from ..layers.symbolic import SymbolicTensor
from . import compile_utils, data_adapter, on_batch, reference, reinitialize, training
from . import summary as summary_lib
from .metrics_api import MetricsMixin

_FUNCTIONAL_SUBCLASSES = {}


def _functional_subclass(cls, functional):
    """``cls`` with Functional among its bases (its own methods first), made once per class."""
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, functional),
                                                  {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return made


class TrainingError(FloatingPointError):
    """Training stopped because the loss stopped being a finite number."""


@functools.lru_cache(maxsize=None)
def _takes_training(compute_loss):
    """Whether a ``compute_loss`` (an override may predate Keras 3.3) takes ``training``."""
    return "training" in inspect.signature(compute_loss).parameters


class Model(MetricsMixin, Layer):
    """Base class of models; ``Model(inputs, outputs)`` makes a functional model.

    Args (subclassing): ``name``, ``trainable``, ``dtype`` as for any layer.

    Attributes:
        layers: the layers, in order.
        optimizer, loss, metrics: set by ``compile``.
        stop_training: set it to True (e.g. from a callback) to end ``fit`` early.
        history: the History of the last ``fit``.
        reference_statistics: a summary of inputs and outputs for drift checks (``fit`` records it), or None.
    """

    def __new__(cls, *args, **kwargs):
        # Keras's test for a functional call: (inputs, outputs), positionally or by keyword
        if len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or {"inputs", "outputs"} <= set(kwargs):
            from .functional import Functional

            if cls is Model:
                return super().__new__(Functional)
            if not issubclass(cls, Functional):
                # a subclass given inputs and outputs (Keras's "customize train_step" pattern) is functional too:
                # Keras puts Functional into its bases; we make that class once per subclass
                return super().__new__(_functional_subclass(cls, Functional))
        return super().__new__(cls)

    def __init__(self, *args, name=None, trainable=True, dtype=None, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(f"{type(self).__name__}: a subclassed model takes no inputs/outputs; to build a "
                            "functional model call nr.Model(inputs, outputs) itself")
        super().__init__(name=name, trainable=trainable, dtype=dtype, **kwargs)
        self.optimizer = self.loss = None
        self.stop_training = False
        self.history = None
        self.preprocessing = None  # input preprocessing steps saved with the model (neurona.saving.preprocessing)
        self.reference_statistics = None  # what fit's inputs and outputs looked like, for drift checks (reference.py)

    def _kind(self):
        return "model"

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from ``get_config()``: ``Model.from_config`` of a functional config gives a functional model.

        ``custom_objects`` (Keras's argument, ``{name: class or function}``) makes the custom classes the
        config names findable, before any ``CustomObjectScope`` and the registry. A functional config given
        to a subclass whose constructor is the inherited one (or takes ``*args, **kwargs``, or
        ``inputs, outputs``) rebuilds the graph as that class, as Keras does.
        """
        from ..registry import CustomObjectScope, check_custom_objects
        from . import functional_config

        objects = check_custom_objects(custom_objects, f"{cls.__name__}.from_config")
        if isinstance(config, dict) and {"layers", "input_layers", "output_layers"} <= set(config) and (
                cls is Model or functional_config.revivable_as_functional(cls)):
            from .functional import Functional

            return functional_config.rebuild(Functional if cls is Model else cls, config, objects)
        with CustomObjectScope(objects):
            return super().from_config(config)

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

    def reinitialize(self, layers=None, initializer=None, seed=None):
        """Re-draw the weights of ``layers`` (default all) in place, the others kept bit for bit; returns their
        names. ``initializer`` re-draws kernels, ``seed`` makes it repeatable (``models/reinitialize.py``)."""
        return reinitialize.reinitialize(self, layers=layers, initializer=initializer, seed=seed)

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
        inputs = map_shapes(lambda s: SymbolicTensor(s, self.dtype), as_shape_structure(input_shape))
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
        print_fn(summary_lib.summary_text(self, expand_nested=bool(kwargs.get("expand_nested", False)),
                                          show_trainable=bool(kwargs.get("show_trainable", False))))

    # ---- compile and steps ------------------------------------------------------------------------
    # the compiled state (compile() sets it; Keras's attribute names)
    _compile_loss = _compile_metrics = _loss_tracker = _compile_config = None
    compiled = False

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, loss(es) and metrics of ``fit`` and ``evaluate`` (Keras 3's arguments).

        Args:
            optimizer: a name (``"adam"``) or an optimizer object.
            loss: a name, a ``Loss`` object or a function ``(y_true, y_pred) -> per-sample losses``; for a
                model with several outputs, one of those (for every output), a list (one per output, None
                for none) or a dict keyed by output name. None: no compiled loss (the model's
                ``add_loss`` terms, or a custom ``train_step``, give the objective).
            loss_weights: scalars the outputs' losses are multiplied by before summing: a number, a list
                or a dict keyed by output name.
            metrics: a list of metrics (names such as ``"accuracy"``, Metric objects, functions); for
                several outputs a list with one entry (a metric or a list) per output, or a dict keyed by
                output name. Evaluated without sample weights.
            weighted_metrics: the same, evaluated with the sample (or class) weights.
            auto_scale_loss: wrap the optimizer in a ``LossScaleOptimizer`` (dynamic loss scaling) when a
                layer of the model computes in float16 under a float32 policy (``"mixed_float16"``), as Keras.
            run_eagerly, steps_per_execution, jit_compile: accepted for Keras programs and ignored: Neurona
                always runs eagerly, one step at a time.

        The log names follow Keras 3 (``neurona/models/compile_utils.py``): ``loss``; with several
        losses ``<output>_loss``; ``<output>_<metric>`` with several outputs.
        """
        check_bool(run_eagerly, "compile", "run_eagerly")
        check_int(steps_per_execution, "compile", "steps_per_execution", low=1)
        if not (isinstance(jit_compile, str) and jit_compile == "auto"):
            check_bool(jit_compile, "compile", "jit_compile (or 'auto')")
        check_bool(auto_scale_loss, "compile", "auto_scale_loss")
        optimizer = optimizers.get(optimizer)
        if auto_scale_loss and _computes_in_float16(self) and \
                not isinstance(optimizer, optimizers.LossScaleOptimizer):
            optimizer = optimizers.LossScaleOptimizer(optimizer)
        layout = compile_utils.layout_of(self)
        resolved = compile_utils.resolve_losses(loss)
        compile_loss = None if resolved is None else compile_utils.CompileLoss(resolved, loss_weights, layout)
        compile_metrics = None
        if metrics is not None or weighted_metrics is not None:
            compile_metrics = compile_utils.CompileMetrics(metrics, weighted_metrics, layout, compile_loss)
        self.optimizer = optimizer
        object.__setattr__(self, "loss", resolved)  # the Loss objects, for saving (not tracked as layer state)
        self._compile_loss, self._compile_metrics = compile_loss, compile_metrics
        self._loss_tracker = compile_utils.LossTracker(name="loss")
        object.__setattr__(self, "_compile_config", {
            "optimizer": optimizer, "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
            "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution, "jit_compile": jit_compile})
        self.compiled = True
        self.stop_training = False

    def _require_compiled(self, what):
        if not self.compiled or self.optimizer is None:
            raise RuntimeError(f"model {self.name!r} must be compiled before {what}(): call model.compile("
                               "optimizer=..., loss=..., metrics=...)")

    def _held_metrics(self):
        """The ``Metric`` objects in the attributes of this model and of the layers inside it, nested models
        excepted (as in Keras: a pretrained model's own compiled trackers are not the outer model's), though
        the plain layers inside those are included."""
        holders = [self] + [layer for layer in self._all_sublayers() if not isinstance(layer, Model)]
        return [m for holder in holders for m in vars(holder).values() if isinstance(m, metrics_lib.Metric)]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The training objective: the compiled loss(es) plus every weight and activity penalty.

        Keras 3's signature; the two-argument ``compute_loss(y_true, y_pred)`` of earlier Neurona code is
        read as such. Override it for another objective (``train_step`` and ``test_step`` call it).

        Raises:
            ValueError: there is nothing to minimize (no compiled loss and no ``add_loss`` term).
        """
        if y_pred is None and x is not None and y is not None:  # compute_loss(y_true, y_pred)
            x, y, y_pred = None, x, y
        if self._compile_loss is not None and not self._compile_loss.built:  # outputs known from the first call
            self._compile_loss.build(compile_utils.layout_of(self) or compile_utils.layout_from_predictions(y_pred))
        total = None if self._compile_loss is None else self._compile_loss(y, y_pred, sample_weight)
        for penalty in self.losses:  # add_loss terms of this forward pass, activity and weight penalties
            total = penalty if total is None else total + penalty
        if total is None:
            raise ValueError(f"model {self.name!r} has no loss to compute: pass loss= to compile() (or add a term "
                             "with add_loss() in call())")
        return total

    def _compute_loss(self, x, y, y_pred, sample_weight, training):
        if _takes_training(type(self).compute_loss):
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)  # an override without Keras 3.3's `training`

    def train_step(self, data, *args):
        """One gradient step on a batch ``data`` = ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` (Keras 3).

        Returns the logs: ``get_metrics_result()`` after the update. Override it for a custom training
        step (``fit`` calls it). ``train_step(x, y)`` (earlier Neurona) is read as ``train_step((x, y))``.

        Raises:
            TrainingError: the loss is NaN or infinite; nothing was updated.
        """
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight((data, *args) if args else data)
        y_pred = self(x, training=True)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
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
        self._loss_tracker.update_state(value, sample_weight=training.batch_size_of(x))
        weights = self.trainable_weights
        if weights:
            self.zero_grad()
            scaled = self.optimizer.scale_loss(loss)  # multiplied for float16 (LossScaleOptimizer), else itself
            if scaled is loss:
                loss.backward()
            else:  # an overflow of the scaled gradients is expected now and then: the step is skipped, silently
                with numpy.errstate(over="ignore", invalid="ignore"):
                    scaled.backward()
            self.optimizer.apply(weights)
        else:  # a frozen model: nothing to differentiate (Keras warns and goes on)
            warnings.warn(f"model {self.name!r} has no trainable weights: fit() updates nothing", stacklevel=3)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data, *args):
        """The loss and metrics of a batch without training; returns the logs (Keras 3)."""
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight((data, *args) if args else data)
        with no_grad():
            y_pred = self(x, training=False)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
            self._loss_tracker.update_state(float(loss.data), sample_weight=training.batch_size_of(x))
            return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs (Tensors) for a batch ``data`` (``x``, or a tuple whose first entry is ``x``)."""
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # ---- loops (training.py) ---------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            reference_statistics=True, distribute=None):
        """Train for ``epochs`` epochs; returns a ``History`` (Keras 3's arguments and behaviour).

        Args:
            x: inputs: an array, a list or dict (by input name) of arrays for several inputs, a generator
                or iterator yielding ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` batches, or a
                ``neurona.utils.PyDataset``.
            y: targets (with arrays only): an array, or a list or dict (by output name) of arrays.
            batch_size: samples per step with arrays (default 32).
            epochs: the index of the last epoch (with ``initial_epoch``, the count is their difference).
            verbose: ``"auto"`` or 1 (a progress bar), 0 (silent), 2 (one line per epoch).
            callbacks: ``Callback`` objects (a History and a ProgbarLogger are added).
            validation_split: the fraction of array data held out (the last samples, before shuffling).
            validation_data: ``(x, y)``, ``(x, y, sample_weight)``, a generator or a PyDataset;
                overrides ``validation_split``.
            shuffle: reshuffle array samples (or a PyDataset's batch order) at each pass.
            class_weight: ``{class: weight}``, a sample weight from each sample's class (one output).
            sample_weight: weights of the samples' losses: an array (for every output) or one per output.
            initial_epoch: the epoch to start at (resuming).
            steps_per_epoch: batches per epoch; a pass over the data may then span epochs (Keras).
            validation_steps: batches per validation (default: a whole pass).
            validation_batch_size: the batch size of validation arrays (default ``batch_size``).
            validation_freq: validate every that many epochs, or after the listed (1-based) epochs.
            reference_statistics: at the end, for a classifier (one input, one probability output) trained on
                arrays, ``compute_reference_statistics`` on the validation arrays, else the training arrays (saved
                with the model for the server's drift check); other models and data are skipped silently. False
                leaves ``model.reference_statistics`` as it is.
            distribute: a ``neurona.distributed.DataParallel()`` to train with every process of an MPI run
                (``mpirun -n 4 python train.py``), each on its part of every global batch of ``batch_size``.
        """
        return training.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                            validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
                            class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
                            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                            validation_batch_size=validation_batch_size, validation_freq=validation_freq,
                            reference_statistics=reference_statistics, distribute=distribute)

    def compute_reference_statistics(self, x, batch_size=None, components=reference.COMPONENTS,
                                     max_samples=reference.MAX_SAMPLES, seed=0):
        """Set and return ``self.reference_statistics``: ``ReferenceStatistics.from_arrays`` (serving/drift.py) of
        at most ``2 * max_samples`` rows of ``x`` (preprocessed, as ``fit`` sees them; held out, since a model is
        more confident on its training examples) and of this classifier's probabilities there (models/reference.py).

        Raises:
            ValueError: not one input and one output, outputs that are not probability rows (n, classes >= 2), or
                ``x`` not an array of at least 4 finite, non-constant rows.
        """
        self.reference_statistics = reference.compute(self, x, batch_size=batch_size, components=components,
                                                      max_samples=max_samples, seed=seed)
        return self.reference_statistics

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, distribute=None):
        """Loss and metrics on ``(x, y)``: one float, a list in the order of ``model.metrics``, or a dict.

        ``x``, ``y`` and ``sample_weight`` as for ``fit``; ``steps`` limits the batches read; ``distribute``
        (a ``DataParallel()``) shares the batches among the processes of an MPI run.
        """
        return training.evaluate(self, x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight,
                                 steps=steps, callbacks=callbacks, return_dict=return_dict, distribute=distribute)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, distribute=None):
        """The outputs for ``x`` (arrays, a generator or a PyDataset) as NumPy arrays, without gradients.

        A model with several outputs gives a list or dict of arrays, like its outputs. ``verbose="auto"``
        (as in Keras) shows a progress bar; ``verbose=0`` prints nothing.
        """
        return training.predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks,
                                distribute=distribute)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on this batch; its loss and metrics (the metrics are reset first, as in Keras)."""
        return on_batch.train_on_batch(self, x, y, sample_weight=sample_weight, class_weight=class_weight,
                                       return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss and metrics of this batch, without training."""
        return on_batch.test_on_batch(self, x, y, sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        """The outputs for this batch as NumPy arrays."""
        return on_batch.predict_on_batch(self, x)

    # ---- saving (neurona.saving sits above models, so it is imported inside these methods) ----------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Save to the folder ``filepath``: ``model.json`` (architecture, compile settings) + ``model.h5``; a name
        ending in ``.keras`` writes Keras 3's archive, one ending in ``.h5`` Keras's legacy HDF5 file."""
        from ..saving import save_model

        filepath = check_path(filepath, "Model.save", "filepath")
        overwrite = check_bool(overwrite, "Model.save", "overwrite")
        include_optimizer = check_bool(include_optimizer, "Model.save", "include_optimizer")
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True, format="neurona"):  # noqa: A002 - Keras-style argument
        """Write the weights to the HDF5 file ``filepath``; ``format="keras"`` writes a file Keras loads."""
        from ..saving import save_weights

        filepath = check_path(filepath, "Model.save_weights", "filepath")
        save_weights(self, filepath, overwrite=check_bool(overwrite, "Model.save_weights", "overwrite"),
                     format=format)

    def load_weights(self, filepath, by_name=False):
        """Load weights from an HDF5 file or a saved model folder (layers matched in order, or by name)."""
        from ..saving import load_weights

        filepath = check_path(filepath, "Model.load_weights", "filepath")
        load_weights(self, filepath, by_name=check_bool(by_name, "Model.load_weights", "by_name"))

    def to_json(self, **kwargs):
        """The architecture as JSON text; ``models.model_from_json`` rebuilds the model (with new weights).
        ``to_json(format="keras")`` writes Keras 3's JSON, which ``keras.models.model_from_json`` reads."""
        from ..saving import to_json

        return to_json(self, **kwargs)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} layers={len(self.layers)} built={self.built}>"


def _computes_in_float16(model):
    """Whether a layer of ``model`` runs float16 computations on float32 weights (``"mixed_float16"``)."""
    return any(layer.compute_dtype == "float16" and layer.variable_dtype != "float16"
               for layer in (model, *model._all_sublayers()))
