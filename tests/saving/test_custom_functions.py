"""Unregistered custom functions and objects in layer and compile configs save by name, as in Keras 3.

A ``def`` function is written as ``{"module", "class_name": "function", "config": name, "registered_name"}``, an
instance of an unregistered class as ``{"module", "class_name", "config": get_config(), "registered_name"}``;
loading finds them only through ``custom_objects`` / ``custom_object_scope`` / ``get_custom_objects()`` (or a
``register_keras_serializable`` registration), never by importing the module. A missing one fails the load with a
``FileFormatError`` naming where it is, the name, its module and the fix; a lambda is refused at save time.
"""

import json
import re

import numpy as np
import pytest

import neurona as nr
from neurona import activations, initializers, layers, losses, metrics, models, ops, registry, saving
from neurona.optimizers import schedules
from neurona.saving import FileFormatError, compile_settings

MODULE = __name__


def scaled_relu(x):
    """``2 relu(x)``."""
    return ops.relu(x) * 2.0


def relu(x):
    """A user's own ``relu`` (named like the built-in): ``3 relu(x)``."""
    return ops.relu(x) * 3.0


def tiny_l2(w):
    """``0.01 sum(w^2)``."""
    return ops.sum(w * w) * 0.01


def half_squared(y_true, y_pred):
    """``mean((y - p)^2) / 2`` per sample."""
    return ops.mean((y_true - y_pred) ** 2, axis=-1) * 0.5


def scaled_error(y_true, y_pred, scale=1.0):
    """``scale * mean(|y - p|)`` per sample."""
    return ops.mean(ops.abs(y_true - y_pred), axis=-1) * scale


def mean_prediction(y_true, y_pred):
    """A metric function: the mean prediction per sample."""
    return ops.mean(y_pred, axis=-1)


class Ramp(initializers.Initializer):
    """``w[i] = start + step * i`` over the flattened shape (deterministic, so its effect is checkable)."""

    def __init__(self, start=0.0, step=0.1):
        self.start, self.step = start, step

    def __call__(self, shape, dtype=None):
        return (self.start + self.step * np.arange(int(np.prod(shape)))).reshape(shape).astype(dtype or "float32")

    def get_config(self):
        return {"start": self.start, "step": self.step}


class BatchCount(metrics.Metric):
    """Counts the batches it sees."""

    def __init__(self, name="batch_count", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_variable(shape=(), name="count", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count.assign_add(1.0)

    def result(self):
        return self.count


class Halving(schedules.LearningRateSchedule):
    """``rate / 2^(step // every)``."""

    def __init__(self, rate=0.1, every=2):
        self.rate, self.every = rate, every

    def __call__(self, step):
        return self.rate / 2.0 ** (step // self.every)

    def get_config(self):
        return {"rate": self.rate, "every": self.every}


CUSTOM = {"scaled_relu": scaled_relu, "Ramp": Ramp, "tiny_l2": tiny_l2, "half_squared": half_squared,
          "BatchCount": BatchCount, "Halving": Halving, "mean_prediction": mean_prediction}
X = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
Y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")


def _model():
    nr.seed(0)
    model = models.Sequential([
        layers.Input((3,)),
        layers.Dense(4, activation=scaled_relu, kernel_initializer=Ramp(-0.5, 0.1), kernel_regularizer=tiny_l2,
                     name="hidden"),
        layers.Dense(2, name="out"),
    ])
    model.compile(nr.optimizers.Adam(learning_rate=Halving(0.01, 2)), loss=half_squared,
                  metrics=[BatchCount(), mean_prediction])
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained model with every kind of custom function and object, saved (trained so the optimizer has state)."""
    model = _model()
    model.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    path = tmp_path_factory.mktemp("custom") / "m"
    model.save(path)
    return model, path


def _by_numpy(model, x):
    """The model's output by NumPy from its weights: ``2 relu(x W1 + b1) W2 + b2``."""
    w1, b1, w2, b2 = model.get_weights()
    return (2.0 * np.maximum(x @ w1 + b1, 0.0)) @ w2 + b2


def test_the_file_holds_them_in_keras_layout(saved):
    _, path = saved
    doc = json.loads((path / "model.json").read_text())
    hidden = doc["model"]["config"]["layers"][-2]["config"]
    assert hidden["activation"] == {"module": MODULE, "class_name": "function", "config": "scaled_relu",
                                    "registered_name": "scaled_relu"}
    assert hidden["kernel_initializer"] == {"module": MODULE, "class_name": "Ramp",
                                            "config": {"start": -0.5, "step": 0.1}, "registered_name": "Ramp"}
    assert hidden["kernel_regularizer"]["config"] == "tiny_l2"
    assert hidden["bias_initializer"] == {"class_name": "Zeros", "config": {}}  # a registered form, unchanged
    compiled = doc["compile"]
    assert compiled["loss"] == {"module": MODULE, "class_name": "function", "config": "half_squared",
                                "registered_name": "half_squared"}
    assert [m["class_name"] for m in compiled["metrics"]] == ["BatchCount", "function"]
    assert compiled["optimizer"]["config"]["learning_rate"] == {
        "module": MODULE, "class_name": "Halving", "config": {"rate": 0.01, "every": 2}, "registered_name": "Halving"}


def _check_loaded(model, loaded):
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    np.testing.assert_allclose(loaded.predict(X, verbose=0), _by_numpy(model, X), rtol=1e-5, atol=1e-6)
    hidden = loaded.get_layer("hidden")
    assert hidden.activation is scaled_relu and hidden.kernel_regularizer is tiny_l2
    assert type(hidden.kernel_initializer) is Ramp and hidden.kernel_initializer.get_config() == {"start": -0.5,
                                                                                                   "step": 0.1}
    np.testing.assert_allclose(hidden.kernel_initializer((2, 2)), [[-0.5, -0.4], [-0.3, -0.2]], rtol=1e-6)
    assert loaded.loss.fn is half_squared
    assert [type(m) for m in loaded.compiled_metrics[:1]] == [BatchCount]
    schedule = loaded.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "Halving" and loaded.optimizer.iterations == model.optimizer.iterations == 2
    assert compile_settings.compile_config(loaded) == compile_settings.compile_config(model)
    # the custom loss and penalty as NumPy computes them
    w1 = hidden.kernel.numpy()
    np.testing.assert_allclose(float(loaded.loss(nr.Tensor(Y), nr.Tensor(X[:, :2])).numpy()),
                               np.mean(np.mean((Y - X[:, :2]) ** 2, axis=-1) * 0.5), rtol=1e-6)
    loaded(X)
    np.testing.assert_allclose(sum(float(p.numpy()) for p in loaded.losses), 0.01 * np.sum(w1 * w1), rtol=1e-5)


def test_round_trip_with_custom_objects(saved):
    model, path = saved
    loaded = saving.load_model(path, custom_objects=CUSTOM)
    _check_loaded(model, loaded)


def test_round_trip_with_a_scope_and_training_goes_on_the_same(tmp_path):
    model = _model()
    model.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m")
    with saving.custom_object_scope(CUSTOM):
        loaded = saving.load_model(tmp_path / "m")
    _check_loaded(model, loaded)
    # the optimizer's state, the schedule, the loss and the penalty carry on exactly as in the saved model
    for each in (model, loaded):
        each.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert float(loaded.optimizer.learning_rate) == 0.01 / 2.0 ** 2  # Halving at step 4


def test_round_trip_through_the_global_custom_objects(saved):
    model, path = saved
    global_objects = saving.get_custom_objects()  # Keras's live dict, emptied of these names again below
    global_objects.update(CUSTOM)
    try:
        _check_loaded(model, saving.load_model(path))
    finally:
        for name in CUSTOM:
            global_objects.pop(name, None)


@pytest.mark.parametrize("missing, where", [
    ("scaled_relu", r"layer 'hidden' \(Dense\): unknown activation function 'scaled_relu'"),
    ("tiny_l2", r"layer 'hidden' \(Dense\): unknown regularizer function 'tiny_l2'"),
    ("Ramp", r"layer 'hidden' \(Dense\): unknown initializer class 'Ramp'"),
    ("half_squared", r"compile settings cannot be rebuilt: 'compile' entry 'loss': unknown loss function "
                     r"'half_squared'"),
    ("BatchCount", r"'compile' entry 'metrics': unknown metric class 'BatchCount'"),
    ("mean_prediction", r"'compile' entry 'metrics': unknown metric function 'mean_prediction'"),
    ("Halving", r"'compile' entry 'optimizer': unknown learning-rate schedule class 'Halving'"),
])
def test_without_them_the_load_names_where_what_and_the_fix(saved, missing, where):
    _, path = saved
    others = {name: obj for name, obj in CUSTOM.items() if name != missing}
    with pytest.raises(FileFormatError) as caught:
        saving.load_model(path, custom_objects=others)
    message = str(caught.value)
    assert "model.json" in message
    assert re.search(where, message), message
    assert f"(saved from module {MODULE!r})" in message
    assert f"custom_objects={{{missing!r}: {missing}}}" in message
    assert "no module named in a file is ever imported" in message


def test_compile_false_loads_the_model_without_the_compile_objects(saved):
    model, path = saved
    layer_objects = {name: CUSTOM[name] for name in ("scaled_relu", "tiny_l2", "Ramp")}
    loaded = saving.load_model(path, custom_objects=layer_objects, compile=False)
    assert loaded.optimizer is None
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_a_lambda_activation_is_refused_at_save_time(tmp_path):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, activation=lambda x: x * 2.0)])
    with pytest.raises(ValueError, match=r"cannot save model .*cannot serialize activation .*lambda has no name "
                                         r".*define it with def") as caught:
        model.save(tmp_path / "m")
    assert "register_keras_serializable" not in str(caught.value)  # registering a lambda would not help
    assert not (tmp_path / "m").exists()


def test_a_lambda_loss_leaves_the_compile_settings_out_with_a_warning(tmp_path):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile("sgd", loss=lambda y_true, y_pred: ops.mean((y_true - y_pred) ** 2, axis=-1))
    with pytest.warns(UserWarning, match=r"compile settings .*not saved: cannot serialize loss .*lambda"):
        model.save(tmp_path / "m")
    assert saving.load_model(tmp_path / "m").optimizer is None


def test_a_user_function_named_like_a_builtin_comes_only_from_custom_objects(tmp_path):
    """Keras 3.15.1 saves a user's ``relu`` as the string "relu" and loads the built-in back, even with
    custom_objects={"relu": relu} (checked in a scratch script). Here it is saved with its module and found
    through the custom objects first; without them the built-in is not silently substituted."""
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, activation=relu, name="d")])
    model.save(tmp_path / "m")
    entry = json.loads((tmp_path / "m" / "model.json").read_text())["model"]["config"]["layers"][-1]
    assert entry["config"]["activation"] == {"module": MODULE, "class_name": "function", "config": "relu",
                                             "registered_name": "relu"}
    loaded = saving.load_model(tmp_path / "m", custom_objects={"relu": relu})
    assert loaded.get_layer("d").activation is relu
    w, b = model.get_weights()
    np.testing.assert_allclose(loaded.predict(X, verbose=0), 3.0 * np.maximum(X @ w + b, 0.0), rtol=1e-5, atol=1e-6)
    with pytest.raises(FileFormatError, match=rf"unknown activation function 'relu' \(saved from module '{MODULE}'\)"):
        saving.load_model(tmp_path / "m")
    builtin = models.Sequential([layers.Input((3,)), layers.Dense(2, activation="relu")])
    builtin.save(tmp_path / "b")
    assert saving.load_model(tmp_path / "b").layers[-1].activation is ops.relu  # a built-in's name: the built-in


def test_a_function_registered_with_register_keras_serializable_needs_no_custom_objects(tmp_path, monkeypatch):
    from neurona.layers.core import lambda_layer

    monkeypatch.setattr(registry, "_REGISTERED_FUNCTIONS", {})
    monkeypatch.setattr(registry, "_FUNCTION_NAMES", {})
    monkeypatch.setattr(lambda_layer, "_registered", dict(lambda_layer._registered))
    monkeypatch.setattr(lambda_layer, "_names", dict(lambda_layer._names))

    @saving.register_keras_serializable(package="Tests")
    def quartered(x):
        return x * 0.25

    assert activations.serialize(quartered) == {"module": MODULE, "class_name": "function", "config": "quartered",
                                                "registered_name": "Tests>quartered"}
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, activation=quartered)])
    model.save(tmp_path / "m")
    loaded = saving.load_model(tmp_path / "m")
    assert loaded.layers[-1].activation is quartered
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_a_loss_function_wrapper_keeps_its_function_and_arguments(tmp_path):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile("sgd", loss=losses.LossFunctionWrapper(scaled_error, reduction="sum", scale=3.0))
    model.save(tmp_path / "m")
    loss = saving.load_model(tmp_path / "m", custom_objects={"scaled_error": scaled_error}).loss
    assert type(loss) is losses.LossFunctionWrapper and loss.fn is scaled_error
    assert loss.get_config() == {"name": "scaled_error", "reduction": "sum", "scale": 3.0}
    y, p = Y, X[:, :2]
    np.testing.assert_allclose(float(loss(nr.Tensor(y), nr.Tensor(p)).numpy()),
                               np.sum(3.0 * np.mean(np.abs(y - p), axis=-1)), rtol=1e-6)  # NumPy's answer
    builtin = losses.LossFunctionWrapper(losses.mean_absolute_error, reduction="sum")
    again = losses.deserialize(json.loads(json.dumps(losses.serialize(builtin))))
    assert again.fn is losses.mean_absolute_error and again.reduction == "sum"


def test_unit_level_forms_and_lookups():
    # registered objects keep their forms
    assert activations.serialize(ops.relu) == "relu"
    assert initializers.serialize(initializers.GlorotUniform(seed=1)) == {"class_name": "GlorotUniform",
                                                                         "config": {"seed": 1}}
    assert losses.serialize(losses.mean_squared_error) == "mean_squared_error"

    def nested_schedule(step):  # a <locals> function is saved by its __name__, as in Keras
        return 0.1 / (1 + step)

    entry = schedules.serialize(nested_schedule)
    assert entry["config"] == "nested_schedule" and entry["class_name"] == "function"
    with saving.custom_object_scope({"nested_schedule": nested_schedule}):
        assert schedules.deserialize(entry) is nested_schedule
        optimizer = nr.optimizers.SGD.from_config({**nr.optimizers.SGD(nested_schedule).get_config()})
    assert optimizer.get_config()["learning_rate"] == entry
    with pytest.raises(ValueError, match=r"unknown learning-rate schedule function 'nested_schedule'"):
        schedules.deserialize(entry)
    with pytest.raises(TypeError, match=r"custom object 'scaled_relu' is 3; the activation function entry needs"):
        with saving.custom_object_scope({"scaled_relu": 3}):
            activations.deserialize(activations.serialize(scaled_relu))
    with pytest.raises(ValueError, match=r"cannot serialize regularizer .*neither a function defined with def nor "
                                         r"an object with get_config"):
        nr.regularizers.serialize(abs)
    with pytest.raises(ValueError, match=r"cannot serialize initializer .*it is a class; pass an instance"):
        initializers.serialize(Ramp)
    with pytest.raises(ValueError, match=r"activation function entry .*'config' must be the function's name"):
        activations.get({"module": MODULE, "class_name": "function", "config": 3, "registered_name": None})



def test_in_memory_objects_copy_a_layer_through_its_config():
    """``registry.in_memory_objects()`` (for clone_model-like copies): what serialize writes by name inside it is
    found again by deserialize, by module and name; outside it, only the custom objects find it."""
    dense = layers.Dense(2, activation=scaled_relu, kernel_initializer=Ramp(0.0, 1.0), kernel_regularizer=tiny_l2)
    with registry.in_memory_objects():
        copy = layers.Dense.from_config(dense.get_config())
    assert copy.activation is scaled_relu and copy.kernel_regularizer is tiny_l2
    assert type(copy.kernel_initializer) is Ramp and copy.kernel_initializer.get_config() == {"start": 0.0, "step": 1.0}
    with pytest.raises(ValueError, match=r"unknown activation function 'scaled_relu'"):
        layers.Dense.from_config(dense.get_config())
    with registry.in_memory_objects():
        entry = activations.serialize(scaled_relu)
        with pytest.raises(ValueError, match=r"unknown activation function 'scaled_relu' \(saved from module 'other'"):
            activations.deserialize({**entry, "module": "other"})  # the same name from another module is not it
