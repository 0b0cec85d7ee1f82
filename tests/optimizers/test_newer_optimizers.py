"""Nadam, Adamax, Lion, Ftrl, Lamb and Adafactor, and the base options (EMA, gradient accumulation, loss scale
factor): names, configs, state, errors and training (their numerics against Keras: test_keras_parity.py)."""

import json
import re

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models, optimizers
from neurona.optimizers import SGD, Adafactor, Adam, Adamax, Ftrl, Lamb, Lion, LossScaleOptimizer, Nadam

NEW = [Nadam, Adamax, Lion, Ftrl, Lamb, Adafactor]
OPTIONS = {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 4, "gradient_accumulation_steps": 3,
           "loss_scale_factor": 8.0}
CONFIGS = [(cls, {}) for cls in NEW] + [(cls, OPTIONS) for cls in NEW] + [(SGD, {"momentum": 0.9, **OPTIONS})]
IDS = [f"{cls.__name__}{'+options' if kwargs else ''}" for cls, kwargs in CONFIGS]
SHAPES = [(4, 3), (3,), (2, 3, 2), ()]


def make_variables(rng):
    return [nr.Variable(np.asarray(rng.standard_normal(s), dtype="float32"), name=f"v{i}")
            for i, s in enumerate(SHAPES)]


def step(opt, variables, rng):
    for v in variables:
        v.grad = np.asarray(rng.standard_normal(v.shape), dtype="float32")
    opt.apply(variables)


# ---- names, configs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [("nadam", Nadam), ("Nadam", Nadam), ("adamax", Adamax), ("AdaMax", Adamax),
                                       ("lion", Lion), ("Lion", Lion), ("ftrl", Ftrl), ("FTRL", Ftrl),
                                       ("lamb", Lamb), ("Lamb", Lamb), ("adafactor", Adafactor),
                                       ("Adafactor", Adafactor), ("ada_factor", Adafactor)])
def test_found_by_name(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls and opt.get_config() == cls().get_config()


@pytest.mark.parametrize("cls", NEW)
def test_compile_by_name(cls):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer=cls.__name__.lower(), loss="mse")
    assert type(model.optimizer) is cls


@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_config_round_trip(cls, kwargs):
    opt = cls(name="mine", clipvalue=1.5, **kwargs)
    config = json.loads(json.dumps(opt.get_config()))
    assert cls.from_config(config).get_config() == opt.get_config()
    restored = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(restored) is cls and restored.get_config() == opt.get_config()


def test_options_are_in_the_config_with_keras_defaults():
    config = Adam().get_config()
    assert {k: config[k] for k in OPTIONS} == {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                                              "gradient_accumulation_steps": None, "loss_scale_factor": None}
    assert {k: Nadam(**OPTIONS).get_config()[k] for k in OPTIONS} == OPTIONS


# ---- state -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_state_round_trip_continues_identically(rng, cls, kwargs):
    variables = make_variables(rng)
    opt = cls(**kwargs)
    for _ in range(4):  # with accumulation over 3 calls, the state is taken one call into a cycle
        step(opt, variables, rng)
    state = opt.get_state(variables)
    copies = [nr.Variable(v.data.copy(), name=v.name) for v in variables]
    restored = cls.from_config(opt.get_config())
    restored.set_state(json.loads(json.dumps({k: v for k, v in state.items() if k != "slots"})) |
                       {"slots": state["slots"]}, copies)
    for _ in range(5):
        seed = int(rng.integers(1 << 30))
        step(opt, variables, np.random.default_rng(seed))
        step(restored, copies, np.random.default_rng(seed))
    for v, c in zip(variables, copies):
        np.testing.assert_array_equal(v.data, c.data)
    assert restored.iterations == opt.iterations


def test_adafactor_factors_the_last_two_dimensions():
    opt, var = Adafactor(), nr.Variable(np.ones((2, 5, 3), dtype="float32"))
    opt.build([var])
    shapes = {k: a.shape for k, a in opt.slots(var).items()}
    assert shapes == {"r": (2, 5), "c": (2, 3), "velocity": ()}
    assert opt._slot_shapes((4,)) == {"r": (), "c": (), "velocity": (4,)}
    state = opt.get_state([var])
    expected = "slot 'c' of shape (2, 3) does not match variable None of shape (2, 5, 4) (expected (2, 4))"
    with pytest.raises(ValueError, match=re.escape(expected)):
        Adafactor().set_state(state, [nr.Variable(np.ones((2, 5, 4), dtype="float32"))])


def test_nadam_momentum_product_is_recomputed_after_set_state(rng):
    """Nadam's running product of momentum factors is a function of the step count: nothing extra to save."""
    variables = make_variables(rng)
    opt = Nadam(learning_rate=0.01)
    for _ in range(3):
        step(opt, variables, rng)
    product = opt._product
    other = Nadam(learning_rate=0.01)
    other.set_state(opt.get_state(variables), [nr.Variable(v.data.copy()) for v in variables])
    other._prepare_step(0.01, 4)
    opt._prepare_step(0.01, 4)
    assert other._product == pytest.approx(opt._product, rel=1e-15) and product != opt._product


def test_accumulated_steps_are_checked_on_set_state(rng):
    variables = make_variables(rng)
    opt = SGD(gradient_accumulation_steps=3)
    step(opt, variables, rng)
    state = opt.get_state(variables)
    assert state["accumulated_steps"] == 1 and opt.iterations == 0
    with pytest.raises(ValueError, match=r"accumulated_steps must be an integer in \[0, 2\], got 3"):
        SGD(gradient_accumulation_steps=3).set_state({**state, "accumulated_steps": 3}, variables)


# ---- the options' behaviour ------------------------------------------------------------------------------------
def test_accumulation_applies_the_mean_every_n_calls():
    var = nr.Variable(np.zeros(2))
    opt = SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    for i, g in enumerate([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0], [1.0, 1.0]]):
        var.grad = np.array(g)
        opt.apply([var])
        if i < 2:
            np.testing.assert_array_equal(var.data, 0.0)
    np.testing.assert_allclose(var.data, [-3.0, -2.0])  # one update, with the mean (3, 2); the 4th call waits
    assert opt.iterations == 1 and opt._accumulated_steps == 1


def test_ema_average_and_overwrite_frequency():
    var = nr.Variable(np.zeros(1))
    opt = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    var.grad = np.array([-2.0])
    opt.apply([var])  # w = 2, average = w at the first step
    assert opt.slots(var)["average"][0] == 2.0
    opt.apply([var])  # w = 4, average = 0.5 * 2 + 0.5 * 4 = 3, then written into w ((1 + 1) % 2 == 0)
    np.testing.assert_array_equal(var.data, [3.0])


def test_loss_scale_factor_scales_the_loss_and_divides_the_gradients():
    opt = SGD(learning_rate=1.0, loss_scale_factor=4.0)
    assert float(opt.scale_loss(nr.Tensor(np.array(1.5))).numpy()) == 6.0
    var = nr.Variable(np.zeros(1))
    var.grad = np.array([8.0])
    opt.apply([var])
    np.testing.assert_array_equal(var.data, [-2.0])
    np.testing.assert_array_equal(var.grad, [8.0])  # the caller's gradient is left alone


def _fitted(optimizer, epochs=1):
    nr.seed(5)
    model = models.Sequential([layers.Input((4,)), layers.Dense(5, activation="tanh"), layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((40, 4)).astype("float32"), rng.standard_normal((40, 2)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    return model


def test_fit_ends_with_the_moving_averages_in_the_weights():
    model = _fitted(Adam(learning_rate=0.05, use_ema=True, ema_momentum=0.8))
    for var in model.trainable_weights:
        np.testing.assert_array_equal(var.numpy(), model.optimizer.slots(var)["average"])
    plain = _fitted(Adam(learning_rate=0.05))
    assert not np.allclose(model.get_weights()[0], plain.get_weights()[0])


def test_loss_scale_optimizer_passes_finalize_to_its_inner_optimizer():
    inner = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    opt = LossScaleOptimizer(inner, initial_scale=2.0)
    var = nr.Variable(np.zeros(1))
    for g in (-2.0, -2.0):  # scaled gradients: the updates are +1, +1
        var.grad = np.array([g])
        opt.apply([var])
    opt.finalize_variable_values([var])
    np.testing.assert_array_equal(var.data, [1.5])  # 0.5 * 1 + 0.5 * 2


def test_fit_with_accumulation_counts_updates_as_keras():
    model = _fitted(SGD(learning_rate=0.01, gradient_accumulation_steps=2), epochs=2)
    assert model.optimizer.iterations == 5 and model.optimizer._accumulated_steps == 0  # 10 calls


@pytest.mark.parametrize("cls, kwargs", [(cls, {"learning_rate": 0.05}) for cls in NEW[:-2]] +
                         [(Lamb, {"learning_rate": 0.05}), (Adafactor, {"learning_rate": 0.1})])
def test_converges_on_a_quadratic(cls, kwargs):
    rng = np.random.default_rng(0)
    a, c = rng.uniform(0.5, 2.0, (2, 3)), rng.uniform(1.0, 2.0, (2, 3))
    var = nr.Variable(np.full((2, 3), 0.5, dtype="float32"))
    opt = cls(**kwargs)
    start = np.abs(var.data - c).max()
    for _ in range(600):
        var.grad = (a * (var.data - c)).astype("float32")
        opt.apply([var])
    assert np.abs(var.data - c).max() < 0.1 * start


# ---- errors ----------------------------------------------------------------------------------------------------
BAD = [
    (Nadam, "beta_1", 1.0, "beta_1 must be in [0, 1), got 1.0"), (Adamax, "beta_2", -0.1, "beta_2 must be in [0, 1)"),
    (Lamb, "epsilon", 0.0, "epsilon must be > 0"), (Lion, "beta_1", 0.0, "beta_1 must be in (0, 1], got 0.0"),
    (Lion, "beta_2", 1.5, "beta_2 must be in [0, 1]"), (Ftrl, "learning_rate_power", 0.5, "must be <= 0, got 0.5"),
    (Ftrl, "l1_regularization_strength", -1.0, "l1_regularization_strength must be >= 0"),
    (Ftrl, "initial_accumulator_value", -0.1, "initial_accumulator_value must be >= 0"),
    (Adafactor, "beta_2_decay", 0.5, "beta_2_decay must be <= 0"), (Adafactor, "epsilon_1", 0.0, "must be > 0"),
    (Adafactor, "clip_threshold", -1.0, "clip_threshold must be > 0"),
    (Adam, "ema_momentum", 1.5, "ema_momentum must be in [0, 1], got 1.5"),
    (Adam, "ema_overwrite_frequency", 0, "ema_overwrite_frequency must be an integer >= 1, got 0"),
    (SGD, "gradient_accumulation_steps", 1, "gradient_accumulation_steps must be an integer >= 2, got 1"),
    (SGD, "gradient_accumulation_steps", 2.0, "gradient_accumulation_steps must be an integer >= 2, got 2.0"),
    (Lion, "loss_scale_factor", 0.0, "loss_scale_factor must be > 0"),
]


@pytest.mark.parametrize("cls, arg, value, message", BAD, ids=[f"{c.__name__}-{a}={v}" for c, a, v, _ in BAD])
def test_bad_arguments_name_the_optimizer_argument_and_value(cls, arg, value, message):
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__}") + ".*" + re.escape(message)):
        cls(**{arg: value})


@pytest.mark.parametrize("cls, flag", [(Adam, "use_ema"), (Adafactor, "relative_step")])
def test_flags_must_be_booleans(cls, flag):
    with pytest.raises(TypeError, match=flag):
        cls(**{flag: "False"})
