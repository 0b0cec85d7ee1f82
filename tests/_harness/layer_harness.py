"""One test harness for every layer, in the spirit of Keras's ``run_layer_test`` and Chainer's ``FunctionTestCase``.

A ``LayerCase`` states one layer configuration and what it must give, worked out
by hand (e.g. ``Dense(3)`` on 4 features: 2 trainable weights, 4 * 3 + 3 = 15
parameters). Each function in ``CHECKS`` takes a case and asserts one property,
always through ``Layer.__call__`` (the path a model takes):

- ``output_shape``: ``layer(x).shape`` is the stated shape, and equals
  ``compute_output_shape`` and ``output_shape`` (batch axis None); another batch size works;
- ``weights``: trainable / non-trainable weight counts, ``count_params``, names and dtypes; freezing;
  a second call creates no weights;
- ``input_gradient``: the gradient reaches the input and matches central finite differences
  (float64 layer, in training and at inference);
- ``input_gradient_across_dtypes``: a float64 input into a float32 layer (and the reverse) still
  gets its gradient, in its own dtype (Keras casts inputs to the layer dtype; the cast is differentiable);
- ``weight_gradients``: every trainable weight gets a gradient of its shape matching finite differences;
  non-trainable weights get none;
- ``losses``: one penalty per regularizer, positive, rebuilt from the config;
- ``config``: ``from_config(get_config())``, JSON, ``layers.serialize``/``deserialize``, registry
  lookup in snake_case and CamelCase, the clone computes the same; ``config_arguments``: every
  constructor argument is in the config; ``numpy_arguments``: NumPy scalars as arguments give the same config;
- ``save_load``: ``Sequential([Input, layer])`` saved and loaded predicts bit-identically with the same weights
  (and a stochastic layer continues its random sequence);
- ``training_modes``: deterministic layers agree in training and at inference; stochastic ones are
  reproducible from their seed; non-trainable weights change only in training and only where stated;
- ``dtypes``: float32 and float64 layers keep their dtype in weights and outputs, whatever the input's.

A case whose ``input_shape`` is a list of shapes calls its layer on a list of tensors (the merge layers):
every input gets its gradient checked, and ``save_load`` saves a functional ``Model([Input, ...], layer(...))``.

Weights are set to random values before the value checks, so that a default (ones, zeros)
cannot hide a weight that is not used, not differentiated or not saved.
"""

import inspect
import json
import os
import tempfile

import numpy as np
import pytest

from neurona import backend, layers, models
from neurona.autograd.gradcheck import RTOL  # the tolerances are stated once, in gradcheck
from neurona.registry import snake_case

from .layer_case import (
    LayerCase,
    built_layer,
    clone,
    forward,
    gradcheck,
    leaves,
    make_layer,
    projection,
    randomize_weights,
    relative_error,
    sample,
    tensors,
    weight_numerical_grad,
)

MODES = (False, True)  # the ``training`` values whose gradients are checked
CAST_RTOL = 1e-5  # a float64 input's gradient through a float32 layer vs the float32 input's: float32 rounding
# InputLayer(shape=..., input_shape=...): input_shape is an alias of shape, not a separate setting
# batch_shape is shape with the batch size in front; sparse inputs are refused, so never stored
CONFIG_ALIASES = {layers.InputLayer: {"input_shape", "batch_shape", "sparse"}}

__all__ = ["CHECKS", "LayerCase", "parametrize"]


# ---- the checks --------------------------------------------------------------------------------------------

def check_output_shape(case):
    layer = make_layer(case)
    out = layer(sample(case))
    assert out.shape == tuple(case.output_shape), f"{case.label}: output {out.shape}, expected {case.output_shape}"
    assert layer.input_shape == case.symbolic_input, f"{case.label}: input_shape {layer.input_shape}"
    assert layer.output_shape == case.symbolic_output, f"{case.label}: output_shape {layer.output_shape}"
    assert tuple(layer.compute_output_shape(case.symbolic_input)) == case.symbolic_output
    assert tuple(layer.compute_output_shape(tuple(case.input_shape))) == tuple(case.output_shape)
    other_batch = (case.input_shape[0][0] if case.multi_input else case.input_shape[0]) + 1
    assert layer(sample(case, case.with_batch(other_batch))).shape == (other_batch,) + tuple(case.output_shape[1:])
    # built from a shape alone, as Sequential builds its layers
    assert make_layer(case).build_for(case.symbolic_input) == case.symbolic_output


def check_weights(case):
    layer = make_layer(case)
    layer(sample(case))
    found = (len(layer.trainable_weights), len(layer.non_trainable_weights), layer.count_params())
    assert found == (case.trainable, case.non_trainable, case.params), \
        f"{case.label}: (trainable, non-trainable, params) = {found}, expected " \
        f"{(case.trainable, case.non_trainable, case.params)}"
    assert sum(int(np.prod(w.shape)) for w in layer.weights) == case.params
    for w in layer.weights:
        assert w.name.startswith(f"{layer.name}/"), f"{case.label}: weight {w.name!r} not named after the layer"
        assert _in_layer_dtype(w, layer.dtype), f"{case.label}: weight {w.name!r} has dtype {w.dtype}"
    weights = layer.weights
    layer(sample(case))  # a second call reuses the weights
    assert len(layer.weights) == len(weights) and all(a is b for a, b in zip(layer.weights, weights))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == len(layer.weights)
    layer.trainable = True
    assert (len(layer.trainable_weights), len(layer.non_trainable_weights)) == (case.trainable, case.non_trainable)


def _in_layer_dtype(weight, dtype):
    """A float weight has the layer's dtype; a counter (a non-trainable integer weight, such as a pruning step,
    an int64 in Keras's and TF-MOT's layers too) keeps its own."""
    return weight.dtype == np.dtype(dtype) or (not weight.trainable and weight.dtype.kind in "iu")


def check_input_gradient(case):
    layer = built_layer(case, "float64")
    for training in MODES:
        fn = forward(layer, case, training)
        x = tensors(sample(case, dtype="float64"), requires_grad=True)
        out = fn(x)
        if not case.input_grad:  # the output does not depend differentiably on the input (ids, comparisons)
            if out.requires_grad:  # through the weights (an Embedding's table)
                (out * projection(out)).sum().backward()
            assert all(leaf.grad is None or not np.abs(backend.asnumpy(leaf.grad)).any() for leaf in leaves(x)), \
                f"{case.label}: a gradient reached the input"
            continue
        (out * projection(out)).sum().backward()
        for i, leaf in enumerate(leaves(x)):
            assert leaf.grad is not None, f"{case.label} (training={training}): no gradient reached input {i}"
            assert leaf.grad.shape == leaf.shape and np.abs(backend.asnumpy(leaf.grad)).max() > 0, \
                f"{case.label} (training={training}): gradient of input {i} of shape {leaf.grad.shape} is zero " \
                "or misshapen"
        assert case.surrogate_gradient or gradcheck(fn, x)


def check_input_gradient_across_dtypes(case):
    """Keras casts a float input to the layer dtype; the cast must stay in the graph (issue 10, defect 1)."""
    if not case.input_grad:
        return
    data = sample(case, dtype="float64")
    for layer_dtype, input_dtype in (("float32", "float64"), ("float64", "float32")):
        layer = built_layer(case, layer_dtype)
        for training in MODES:
            fn = forward(layer, case, training)
            grads = []
            for dtype in (layer_dtype, input_dtype):
                x = tensors([d.astype(dtype) for d in data] if case.multi_input else data.astype(dtype),
                            requires_grad=True)
                out = fn(x)
                expected = dtype if case.keeps_input_dtype else layer_dtype
                assert out.dtype == np.dtype(expected), f"{case.label}: {dtype} input gave a {out.dtype} output"
                (out * projection(out)).sum().backward()
                for leaf in leaves(x):
                    assert leaf.grad is not None, f"{case.label}: a {dtype} input into a {layer_dtype} layer got " \
                                                  f"no gradient (training={training})"
                    assert leaf.grad.shape == leaf.shape and leaf.grad.dtype == np.dtype(dtype), \
                        f"{case.label}: gradient {leaf.grad.shape} {leaf.grad.dtype} for a {leaf.shape} {dtype} input"
                grads.append([backend.asnumpy(leaf.grad).astype("float64") for leaf in leaves(x)])
            for own, cast in zip(*grads):
                np.testing.assert_allclose(cast, own, rtol=CAST_RTOL, atol=CAST_RTOL * np.abs(own).max(),
                                           err_msg=f"{case.label}: gradient changed with the input dtype")


ZERO_GRADIENT = 1e-8  # finite differences of a function that does not depend on a weight stay below this


def check_weight_gradients(case):
    layer = built_layer(case, "float64")
    x = tensors(sample(case, dtype="float64"))
    # a stochastic layer is re-created for every evaluation, so its weights are checked at inference only
    for training in ((False,) if case.stochastic else MODES):
        fn = forward(layer, case, training)
        for w in layer.weights:
            w.grad = None
        out = fn(x)
        if not layer.trainable_weights:
            assert not out.requires_grad, f"{case.label}: no trainable weight and no input gradient, yet a graph"
            continue
        direction = projection(out)
        (out * direction).sum().backward()
        for w in layer.non_trainable_weights:
            assert w.grad is None, f"{case.label}: non-trainable weight {w.name!r} received a gradient"
        for w in layer.trainable_weights:
            assert w.grad is not None and w.grad.shape == w.shape, \
                f"{case.label} (training={training}): weight {w.name!r} got gradient " \
                f"{None if w.grad is None else w.grad.shape}, expected shape {w.shape}"
            analytic = backend.asnumpy(w.grad).astype("float64")
            if case.surrogate_gradient:
                assert np.abs(analytic).max() > 0, f"{case.label}: weight {w.name!r} got a zero gradient"
                continue
            numeric = weight_numerical_grad(fn, x, w, direction)
            if np.abs(numeric).max(initial=0.0) < ZERO_GRADIENT:
                # a weight the output does not depend on (attention's key bias: the softmax ignores a shift
                # shared by every key): the backward pass must give zero up to rounding, not a relative match
                assert np.abs(analytic).max(initial=0.0) < ZERO_GRADIENT, \
                    f"{case.label} (training={training}): weight {w.name!r} cannot change the output (its finite " \
                    f"differences are 0) but got gradients up to {np.abs(analytic).max():.3e}"
                continue
            error = relative_error(analytic, numeric)
            assert error < RTOL, f"{case.label} (training={training}): gradient of {w.name!r} is off " \
                                    f"finite differences by {error:.3e} (> {RTOL:.0e})"


def _penalties(layer):
    return list(layer.losses)  # Keras's layer.losses: activity penalties of the latest call, then weight penalties


def check_losses(case):
    """Weight and activity penalties: ``case.losses`` positive scalars (the weights are random), weight
    penalties in the graph of their weight, and the same values from a layer rebuilt from the config."""
    layer = built_layer(case, "float64")
    x = sample(case, dtype="float64")
    layer(x)
    penalties = _penalties(layer)
    assert len(penalties) == case.losses, f"{case.label}: {len(penalties)} penalty terms, expected {case.losses}"
    assert len(layer.losses) - len(layer.regularization_losses()) <= 1  # one activity penalty per call at most
    for p in penalties:
        assert p.shape == () and float(p.item()) > 0, f"{case.label}: penalty {p!r} is not a positive scalar"
    assert all(p.requires_grad for p in layer.regularization_losses()), f"{case.label}: a weight penalty has no graph"
    layer(x)
    assert len(_penalties(layer)) == case.losses, f"{case.label}: penalties pile up over calls"
    twin = clone(layer)
    twin(x)
    assert [p.item() for p in _penalties(twin)] == [p.item() for p in penalties], \
        f"{case.label}: the rebuilt layer's penalties differ"


def _registry_names(cls):
    return snake_case(cls.__name__), cls.__name__


def check_config(case):
    layer = make_layer(case)
    unbuilt = layer.get_config()
    x = sample(case)
    expected = layer(x).numpy()
    config = layer.get_config()
    assert config == unbuilt, f"{case.label}: building changed the config"
    assert json.loads(json.dumps(config)) == config, f"{case.label}: config is not JSON-safe (tuples, arrays?)"
    rebuilt = case.layer_class.from_config(config)
    assert type(rebuilt) is case.layer_class and rebuilt.get_config() == config
    serialized = json.loads(json.dumps(layers.serialize(layer)))
    assert serialized["config"] == config
    assert layers.deserialize(serialized).get_config() == config
    for name in _registry_names(case.layer_class):
        assert layers.get(name) is case.layer_class, f"registry lookup of {name!r} gave {layers.get(name)!r}"
    assert np.array_equal(clone(layer)(x).numpy(), expected), f"{case.label}: the rebuilt layer computes otherwise"


def _arguments(cls):
    """The constructor arguments ``cls`` adds to the base Layer's (whose one-time aliases such as
    ``input_dim`` fold into ``input_shape``)."""
    base = set(inspect.signature(layers.Layer.__init__).parameters)
    params = inspect.signature(cls.__init__).parameters
    return {n for n, p in params.items() if n not in base and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def check_config_arguments(case):
    """Every argument the class adds, and every argument the case sets, is in ``get_config()``: an argument
    left out is silently reset to its default by a config round trip (and by save/load)."""
    config = make_layer(case).get_config()
    missing = (_arguments(case.layer_class) | set(case.kwargs)) - set(config) - CONFIG_ALIASES.get(
        case.layer_class, set())
    assert not missing, f"{case.label}: constructor arguments {sorted(missing)} are missing from get_config() " \
                        f"(which has {sorted(config)})"


def _as_numpy(value):
    """Python ints and floats, also inside lists and tuples, as NumPy scalars (np.int64, np.float64)."""
    if type(value) is int:
        return np.int64(value)
    if type(value) is float:
        return np.float64(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_as_numpy(v) for v in value)
    return value


def check_numpy_arguments(case):
    """NumPy scalars are numbers (a sweep over ``np.arange`` passes them): the same arguments as NumPy scalars
    build a layer whose config is JSON-safe (so its model saves) and equal to the one from Python numbers."""
    layer = case.layer_class(**{k: _as_numpy(v) for k, v in case.kwargs.items()})
    if case.setup is not None:
        case.setup(layer)
    plain = make_layer(case)
    x = sample(case)
    expected_output = plain(x).numpy()
    layer.build_for(plain.input_shape)
    layer.set_weights(plain.get_weights())
    assert np.array_equal(layer(x).numpy(), expected_output), f"{case.label}: NumPy arguments compute otherwise"
    config, expected = layer.get_config(), plain.get_config()
    config.pop("name"), expected.pop("name")
    assert json.loads(json.dumps(config)) == config, f"{case.label}: config is not JSON-safe with NumPy arguments"
    assert config == expected, f"{case.label}: NumPy arguments gave the config {config}, Python ones {expected}"


def _model_of(layer, case):
    if isinstance(layer, layers.InputLayer):
        return models.Sequential([layer])
    if case.multi_input:
        inputs = [layers.Input(shape[1:]) for shape in case.input_shape]
        return models.Model(inputs, layer(inputs))
    return models.Sequential([layers.Input(case.input_shape[1:]), layer])


def _predict(model, x, case):
    """``model.predict(x)``; called directly for a list of inputs (predict takes one input array)."""
    return model(x, training=False).numpy() if case.multi_input else model.predict(x)


def check_save_load(case):
    layer = make_layer(case)
    model = _model_of(layer, case)
    randomize_weights(layer)
    x = sample(case)
    before = _predict(model, x, case)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model")
        model.save(path)
        loaded = models.load_model(path)
    after = _predict(loaded, x, case)
    assert after.dtype == before.dtype and np.array_equal(after, before), \
        f"{case.label}: predictions differ after save/load (largest difference " \
        f"{np.abs(after.astype('float64') - before).max()})"
    saved, restored = model.get_weights(), loaded.get_weights()
    assert len(saved) == len(restored) and all(a.dtype == b.dtype and np.array_equal(a, b)
                                               for a, b in zip(saved, restored)), f"{case.label}: weights differ"
    if model.layers:
        assert type(loaded.layers[-1]) is case.layer_class
        assert loaded.layers[-1].get_config() == layer.get_config()
    if case.stochastic:  # the layer's generator state is saved: both draw the same next numbers
        assert np.array_equal(loaded(x, training=True).numpy(), model(x, training=True).numpy()), \
            f"{case.label}: the loaded model draws other random numbers in training"


def _non_trainable_values(layer):
    return [w.numpy() for w in layer.non_trainable_weights]


def _changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


def check_training_modes(case):
    layer = built_layer(case)
    x = sample(case)
    stats = _non_trainable_values(layer)
    inference = layer(x, training=False).numpy()
    assert np.array_equal(layer(x).numpy(), inference), f"{case.label}: training=None differs from training=False"
    assert not _changed(stats, _non_trainable_values(layer)), f"{case.label}: inference changed a weight"
    if case.stochastic:
        first, second = clone(layer)(x, training=True).numpy(), clone(layer)(x, training=True).numpy()
        assert np.array_equal(first, second), f"{case.label}: the same seed gave different training outputs"
        assert not np.array_equal(first, inference), f"{case.label}: training output has no randomness"
        layer_first = layer(x, training=True).numpy()
        assert not np.array_equal(layer(x, training=True).numpy(), layer_first), \
            f"{case.label}: two training calls drew the same random numbers"
    else:
        training = layer(x, training=True).numpy()
        differs = not np.array_equal(training, inference)
        assert differs == case.training_differs, \
            f"{case.label}: training and inference outputs {'differ' if differs else 'agree'}, expected otherwise"
    changed = _changed(stats, _non_trainable_values(layer))
    assert changed == case.updates_in_training, \
        f"{case.label}: a training call {'changed' if changed else 'left'} the non-trainable weights, " \
        f"expected {'changed' if case.updates_in_training else 'unchanged'}"


def check_dtypes(case):
    for dtype in ("float32", "float64"):
        layer = make_layer(case, dtype)
        for input_dtype in ("float32", "float64"):
            for training in (False, True):
                out = layer(sample(case, dtype=input_dtype), training=training)
                assert out.dtype == np.dtype(input_dtype if case.keeps_input_dtype else dtype), \
                    f"{case.label}: {dtype} layer gave {out.dtype} for a {input_dtype} input (training={training})"
        assert all(_in_layer_dtype(w, dtype) for w in layer.weights), f"{case.label}: weight dtypes"


CHECKS = {
    "output_shape": check_output_shape,
    "weights": check_weights,
    "input_gradient": check_input_gradient,
    "input_gradient_across_dtypes": check_input_gradient_across_dtypes,
    "weight_gradients": check_weight_gradients,
    "losses": check_losses,
    "config": check_config,
    "config_arguments": check_config_arguments,
    "numpy_arguments": check_numpy_arguments,
    "save_load": check_save_load,
    "training_modes": check_training_modes,
    "dtypes": check_dtypes,
}


def case_id(case):
    return case.label


def parametrize(cases):
    """Decorate ``test(case, check)`` to run every check of ``CHECKS`` on every case; a check named in the
    case's ``known_failures`` is a strict xfail (it must fail, so a fix shows up)."""
    params = [pytest.param(case, check, id=f"{case.label}-{name}",
                           marks=[pytest.mark.xfail(strict=True, reason=case.known_failures[name])]
                           if name in case.known_failures else [])
              for case in cases for name, check in CHECKS.items()]
    unknown = {name for case in cases for name in case.known_failures} - set(CHECKS)
    if unknown:
        raise ValueError(f"known_failures name unknown checks {sorted(unknown)}; the checks are {sorted(CHECKS)}")
    return pytest.mark.parametrize("case,check", params)
