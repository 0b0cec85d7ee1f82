"""The newer optimizers and the base options step for step against real Keras 3 (numpy backend).

Each case builds Keras variables and Neurona variables from the same float32 values, applies the same
gradients with ``apply_gradients`` on both sides for several steps and compares the weights after every step,
the step counts, and (with ``use_ema``) ``finalize_variable_values``.
"""

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

import neurona as nr
from neurona import optimizers

# Keras's own variables convert themselves with a copy keyword NumPy 2 warns about
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
SHAPES = [(3, 4), (5,), (2, 3, 4)]
STEPS = 7


def _exponential_decay(module):
    return module.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)


CASES = [
    ("Nadam", {}), ("Nadam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-4}),
    ("Adamax", {}), ("Adamax", {"learning_rate": 0.02, "beta_1": 0.5, "beta_2": 0.9}),
    ("Lion", {}), ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "weight_decay": 0.1}),
    ("Ftrl", {}), ("Ftrl", {"learning_rate": 0.05, "learning_rate_power": -0.7, "initial_accumulator_value": 0.5,
                            "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02,
                            "l2_shrinkage_regularization_strength": 0.03, "beta": 0.2}),
    ("Lamb", {}), ("Lamb", {"learning_rate": 0.01, "weight_decay": 0.01, "global_clipnorm": 1.0}),
    ("Adafactor", {}), ("Adafactor", {"learning_rate": 0.05, "relative_step": False, "clip_threshold": 0.5,
                                      "beta_2_decay": -0.5, "epsilon_2": 0.01}),
    ("Adafactor", {"learning_rate": "schedule"}),
    # the base options, on old and new optimizers
    ("Adam", {"use_ema": True}), ("Adam", {"use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 3}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "gradient_accumulation_steps": 3}),
    ("Adam", {"learning_rate": "schedule", "gradient_accumulation_steps": 2, "clipnorm": 0.5}),
    ("Nadam", {"gradient_accumulation_steps": 2, "use_ema": True, "ema_overwrite_frequency": 2}),
    ("AdamW", {"gradient_accumulation_steps": 2, "weight_decay": 0.05}),
    ("Adam", {"loss_scale_factor": 128.0}), ("Lamb", {"loss_scale_factor": 0.25, "use_ema": True}),
    ("RMSprop", {"use_ema": True, "ema_momentum": 0.9, "gradient_accumulation_steps": 3,
                 "ema_overwrite_frequency": 1}),
]
IDS = [f"{name}{kwargs}" for name, kwargs in CASES]


def _build(module, schedules, name, kwargs):
    kwargs = dict(kwargs)
    if kwargs.get("learning_rate") == "schedule":
        kwargs["learning_rate"] = _exponential_decay(schedules)
    return getattr(module, name)(**kwargs)


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_steps_match_keras(monkeypatch, name, kwargs):
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(7)
    start = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    ours = [nr.Variable(w.copy(), name=f"v{i}") for i, w in enumerate(start)]
    theirs = [keras.Variable(w.copy(), name=f"v{i}") for i, w in enumerate(start)]
    opt = _build(optimizers, optimizers.schedules, name, kwargs)
    keras_opt = _build(keras.optimizers, keras.optimizers.schedules, name, kwargs)
    for step in range(STEPS):
        grads = [(rng.standard_normal(s) * rng.uniform(0.1, 3.0)).astype("float32") for s in SHAPES]
        opt.apply_gradients(zip([g.copy() for g in grads], ours))
        keras_opt.apply_gradients(zip(grads, theirs))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name} step {step + 1}")
        assert opt.iterations == int(keras_opt.iterations)
        if kwargs.get("learning_rate") == "schedule":
            assert opt.learning_rate == pytest.approx(float(keras_opt.learning_rate), rel=1e-6)
    opt.finalize_variable_values(ours)
    keras_opt.finalize_variable_values(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("factor", [None, 64.0])
def test_scale_loss_matches_keras(monkeypatch, factor):
    keras = numpy_keras(monkeypatch)
    ours = optimizers.Adam(loss_scale_factor=factor).scale_loss(nr.Tensor(np.float32(1.5)))
    theirs = keras.optimizers.Adam(loss_scale_factor=factor).scale_loss(np.float32(1.5))
    assert float(ours.numpy() if isinstance(ours, nr.Tensor) else ours) == float(theirs)


NEW = ["Nadam", "Adamax", "Lion", "Ftrl", "Lamb", "Adafactor"]


@pytest.mark.parametrize("name", NEW)
def test_defaults_and_config_keys_match_keras(monkeypatch, name):
    keras = numpy_keras(monkeypatch)
    theirs = getattr(keras.optimizers, name)().get_config()
    ours = getattr(optimizers, name)().get_config()
    theirs["name"] = ours["name"]  # Keras numbers its names (nadam_3)
    assert ours == pytest.approx(theirs)


@pytest.mark.parametrize("name", NEW)
def test_keras_files_map_the_optimizer_both_ways(monkeypatch, name):
    """Keras's serialized optimizer (options included) becomes Neurona's, and Neurona's export rebuilds in Keras."""
    from neurona.saving.keras import compile_config, layer_options

    keras = numpy_keras(monkeypatch)
    keras_opt = getattr(keras.optimizers, name)(learning_rate=0.01, use_ema=True, gradient_accumulation_steps=3)
    ours = layer_options.optimizer_from_keras(keras.saving.serialize_keras_object(keras_opt), "test")
    assert type(ours) is getattr(optimizers, name)
    assert (ours.learning_rate, ours.use_ema, ours.gradient_accumulation_steps) == pytest.approx((0.01, True, 3))
    back = keras.saving.deserialize_keras_object(compile_config._keras_object(optimizers.serialize(ours), "optimizer"))
    assert type(back) is type(keras_opt)
    assert {k: v for k, v in back.get_config().items() if k != "name"} == \
        pytest.approx({k: v for k, v in keras_opt.get_config().items() if k != "name"})
