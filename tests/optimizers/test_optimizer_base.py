"""The contract every optimizer shares through ``Optimizer``: skipping, clipping, schedules, state, config."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import optimizers
from neurona.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop

# Every optimizer, in configurations that exercise every slot.
CONFIGS = [
    (SGD, {}), (SGD, {"momentum": 0.9, "nesterov": True}), (Adam, {}), (Adam, {"amsgrad": True}),
    (AdamW, {"weight_decay": 0.1}), (RMSprop, {"momentum": 0.5, "centered": True}), (RMSprop, {}),
    (Adagrad, {}), (Adadelta, {"learning_rate": 1.0}),
]
IDS = [f"{cls.__name__}{kwargs}" for cls, kwargs in CONFIGS]


def make_variables(rng, dtype="float32"):
    xp = nr.backend.get_xp()
    return [nr.Variable(xp.asarray(rng.standard_normal(s).astype(dtype)), name=f"v{i}")
            for i, s in enumerate([(4, 3), (3,)])]


def set_grads(variables, rng):
    xp = nr.backend.get_xp()
    for v in variables:
        v.grad = xp.asarray(rng.standard_normal(v.shape).astype(v.dtype))


# ---- in place, dtype, device ---------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_updates_in_place_and_keeps_float32(device, rng, cls, kwargs):
    variables = make_variables(rng)
    arrays = [v.data for v in variables]
    before = [nr.backend.asnumpy(a).copy() for a in arrays]
    opt = cls(**kwargs)
    for _ in range(3):
        set_grads(variables, rng)
        opt.apply(variables)
    for v, arr, old in zip(variables, arrays, before):
        assert v.data is arr  # layers hold references to these arrays
        assert arr.dtype == np.float32
        assert not np.allclose(nr.backend.asnumpy(arr), old)
        for slot in opt.slots(v).values():
            assert slot.dtype == np.float32 and type(slot) is type(arr) and slot.shape == arr.shape
    assert opt.iterations == 3


@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_variables_are_independent(rng, cls, kwargs):
    """One optimizer on two same-shaped variables must equal one optimizer each (no state shared between them)."""
    a, b = (nr.Variable(rng.standard_normal((3, 2)).astype("float32")) for _ in range(2))
    a1, b1 = nr.Variable(a.data.copy()), nr.Variable(b.data.copy())
    joint, solo_a, solo_b = cls(**kwargs), cls(**kwargs), cls(**kwargs)
    for _ in range(3):
        ga, gb = rng.standard_normal((2, 3, 2)).astype("float32")
        a.grad, b.grad, a1.grad, b1.grad = ga, gb, ga.copy(), gb.copy()
        joint.apply([a, b])
        solo_a.apply([a1])
        solo_b.apply([b1])
    np.testing.assert_array_equal(a.data, a1.data)
    np.testing.assert_array_equal(b.data, b1.data)


def test_float64_gradient_does_not_promote_a_float32_variable():
    var = nr.Variable(np.ones(3, dtype="float32"))
    Adam().apply_gradients([(np.ones(3, dtype="float64"), var)])
    assert var.data.dtype == np.float32


# ---- which variables are updated -----------------------------------------------------------------
def test_variables_without_gradient_or_not_trainable_are_skipped():
    with_grad, without, frozen = (nr.Variable(np.ones(2)) for _ in range(3))
    frozen.trainable = False
    with_grad.grad, frozen.grad = np.ones(2), np.ones(2)
    opt = Adam(learning_rate=0.1)
    opt.apply([with_grad, without, frozen])
    assert (with_grad.data < 1).all()
    np.testing.assert_array_equal(without.data, 1.0)
    np.testing.assert_array_equal(frozen.data, 1.0)
    assert opt.slots(without) == {} and opt.slots(frozen) == {}


def test_no_gradient_at_all_is_an_error_but_no_variables_is_a_no_op():
    opt = SGD()
    with pytest.raises(ValueError, match="no gradient"):
        opt.apply([nr.Variable(np.ones(2))])
    opt.apply([])
    assert opt.iterations == 0


def test_apply_gradients_takes_arrays_and_tensors():
    a, b = nr.Variable(np.zeros(2)), nr.Variable(np.zeros(3))
    step = SGD(learning_rate=0.5).apply_gradients([(np.array([1.0, 2.0]), a), (nr.Tensor(np.ones(3)), b),
                                                   (None, nr.Variable(np.zeros(1)))])
    assert step == 1
    np.testing.assert_array_equal(a.data, [-0.5, -1.0])
    np.testing.assert_array_equal(b.data, [-0.5] * 3)


def test_gradient_of_the_wrong_shape_names_the_variable():
    var = nr.Variable(np.zeros((2, 3)), name="dense/kernel")
    with pytest.raises(ValueError, match=r"\(3,\).*dense/kernel.*\(2, 3\)"):
        SGD().apply_gradients([(np.zeros(3), var)])


# ---- clipping ------------------------------------------------------------------------------------
def clipped_steps(rng_grads, **clip):
    """The gradients SGD(lr=1) actually applied (the weights' change), and the caller's grads afterwards."""
    variables = [nr.Variable(np.zeros(g.shape)) for g in rng_grads]
    for v, g in zip(variables, rng_grads):
        v.grad = g.copy()
    SGD(learning_rate=1.0, **clip).apply(variables)
    return [-v.data for v in variables], [v.grad for v in variables]


def test_clipvalue_is_elementwise():
    (applied,), (grad,) = clipped_steps([np.array([3.0, -0.2, -5.0])], clipvalue=1.0)
    np.testing.assert_array_equal(applied, [1.0, -0.2, -1.0])
    np.testing.assert_array_equal(grad, [3.0, -0.2, -5.0])  # the caller's gradient is untouched


def test_clipnorm_is_per_variable():
    big, small = np.array([3.0, 4.0]), np.array([0.3, 0.4])
    applied, grads = clipped_steps([big, small], clipnorm=1.0)
    np.testing.assert_allclose(np.linalg.norm(applied[0]), 1.0, rtol=1e-15)
    np.testing.assert_allclose(applied[0], big / 5.0, rtol=1e-15)  # direction kept
    np.testing.assert_array_equal(applied[1], small)  # already within the norm
    np.testing.assert_array_equal(grads[0], big)


@pytest.mark.parametrize("limit, scale", [(1.0, 0.2), (10.0, 1.0)])
def test_global_clipnorm_scales_all_gradients_together(limit, scale):
    grads = [np.array([3.0, 0.0]), np.array([[0.0, 4.0]])]  # global norm 5
    applied, _ = clipped_steps(grads, global_clipnorm=limit)
    total = np.sqrt(sum(np.sum(a**2) for a in applied))
    np.testing.assert_allclose(total, 5.0 * scale, rtol=1e-15)
    for a, g in zip(applied, grads):
        np.testing.assert_allclose(a, g * scale, rtol=1e-15)


def test_only_one_clip_argument_and_positive_values():
    with pytest.raises(ValueError, match="only one of"):
        SGD(clipnorm=1.0, clipvalue=1.0)
    for arg in ("clipnorm", "clipvalue", "global_clipnorm"):
        with pytest.raises(ValueError, match=arg):
            SGD(**{arg: 0.0})


# ---- learning rate and schedules -----------------------------------------------------------------
def test_schedule_is_called_with_the_step_count():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 * (step + 1)

    var = nr.Variable(np.zeros(1))
    opt = SGD(learning_rate=schedule)
    for _ in range(3):
        var.grad = np.ones(1)
        opt.apply([var])
    assert seen == [0, 1, 2]
    np.testing.assert_allclose(var.data, [-(0.1 + 0.2 + 0.3)], rtol=1e-15)
    assert opt.learning_rate == pytest.approx(0.4)  # the rate of the next step
    assert opt.schedule is schedule


def test_setting_the_learning_rate_takes_effect_on_the_next_step():
    var = nr.Variable(np.zeros(1))
    opt = SGD(learning_rate=0.5)
    var.grad = np.ones(1)
    opt.apply([var])
    opt.learning_rate = 0.05  # what ReduceLROnPlateau does
    opt.apply([var])
    np.testing.assert_allclose(var.data, [-0.55], rtol=1e-15)
    assert opt.learning_rate == 0.05 and isinstance(opt.learning_rate, float)


def test_bad_learning_rates():
    with pytest.raises(ValueError, match="learning_rate must be >= 0, got -0.1"):
        Adam(learning_rate=-0.1)
    with pytest.raises(TypeError, match="learning_rate must be a number"):
        Adam(learning_rate="fast")
    var = nr.Variable(np.zeros(1))
    var.grad = np.ones(1)
    with pytest.raises(ValueError, match="schedule returned -1"):
        SGD(learning_rate=lambda step: -1.0).apply([var])


def test_bad_weight_decay():
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        SGD(weight_decay=-1e-4)


# ---- state ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_state_round_trip_continues_identically(rng, cls, kwargs):
    variables = make_variables(rng)
    opt = cls(**kwargs)
    for _ in range(3):
        set_grads(variables, rng)
        opt.apply(variables)
    state = opt.get_state(variables)
    copies = [nr.Variable(v.data.copy(), name=v.name) for v in variables]
    restored = cls.from_config(opt.get_config())
    restored.set_state(state, copies)
    fresh = cls.from_config(opt.get_config())  # no state: must diverge whenever there are slots
    fresh_copies = [nr.Variable(v.data.copy()) for v in variables]
    saved = [{k: a.copy() for k, a in entry.items()} for entry in state["slots"]]
    for _ in range(4):
        grads = [rng.standard_normal(v.shape).astype("float32") for v in variables]
        for group in (variables, copies, fresh_copies):
            for v, g in zip(group, grads):
                v.grad = g.copy()
        opt.apply(variables)
        restored.apply(copies)
        fresh.apply(fresh_copies)
    for v, c in zip(variables, copies):
        np.testing.assert_array_equal(v.data, c.data)
    assert restored.iterations == opt.iterations == 7
    if any(state["slots"]):
        assert not all(np.array_equal(v.data, f.data) for v, f in zip(variables, fresh_copies))
    for entry, kept in zip(state["slots"], saved):  # get_state returned copies
        for k in entry:
            np.testing.assert_array_equal(entry[k], kept[k])


def test_state_lists_slots_in_the_callers_order_and_restores_the_learning_rate():
    a, b = nr.Variable(np.ones(2)), nr.Variable(np.ones(3))
    a.grad, b.grad = np.ones(2), np.ones(3)
    opt = SGD(momentum=0.9)
    opt.apply([a, b])
    opt.learning_rate = 0.003
    state = opt.get_state([b, a, nr.Variable(np.ones(1))])
    assert [e["momentum"].shape for e in state["slots"][:2]] == [(3,), (2,)] and state["slots"][2] == {}
    assert state["iterations"] == 1 and state["learning_rate"] == 0.003
    other = SGD(momentum=0.9)
    other.set_state(state, [b, a, nr.Variable(np.ones(1))])
    assert other.learning_rate == 0.003 and other.iterations == 1


def test_set_state_rejects_mismatches():
    a = nr.Variable(np.ones(2))
    a.grad = np.ones(2)
    adam = Adam()
    adam.apply([a])
    state = adam.get_state([a])
    with pytest.raises(ValueError, match="slots for 1 variables, but 2"):
        Adam().set_state(state, [a, a])
    with pytest.raises(ValueError, match="expected \\['momentum'\\]"):
        SGD(momentum=0.5).set_state(state, [a])
    with pytest.raises(ValueError, match="shape \\(2,\\) does not match .* \\(5,\\)"):
        Adam().set_state(state, [nr.Variable(np.ones(5))])


# ---- config --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_config_round_trip(cls, kwargs):
    opt = cls(clipnorm=2.0, name="my_opt", **kwargs)
    config = json.loads(json.dumps(opt.get_config()))
    clone = cls.from_config(config)
    assert type(clone) is cls and clone.get_config() == opt.get_config()
    restored = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(restored) is cls and restored.get_config() == opt.get_config()


def test_a_plain_callable_learning_rate_cannot_be_serialized():
    with pytest.raises(ValueError, match="schedule"):
        SGD(learning_rate=lambda step: 0.1).get_config()


# ---- convergence ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs, steps, tol", [
    (SGD, {"learning_rate": 0.1}, 300, 1e-4),
    (SGD, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}, 300, 1e-4),
    (Adam, {"learning_rate": 0.05}, 500, 1e-4),
    (Adam, {"learning_rate": 0.05, "amsgrad": True}, 500, 1e-4),
    (AdamW, {"learning_rate": 0.05}, 500, 1e-2),
    (RMSprop, {"learning_rate": 0.01}, 800, 2e-2),
    (RMSprop, {"learning_rate": 0.01, "momentum": 0.5, "centered": True}, 800, 2e-2),
    (Adagrad, {"learning_rate": 0.5}, 500, 1e-4),
    (Adadelta, {"learning_rate": 1.0}, 2000, 1e-4),
])
def test_converges_on_a_quadratic(cls, kwargs, steps, tol):
    """f(w) = 0.5 sum a_i (w_i - c_i)^2 from w = 0; AdamW's decay and RMSprop's unnormalized steps leave a
    small offset or oscillation, hence their looser tolerance."""
    rng = np.random.default_rng(0)
    a, c = rng.uniform(0.5, 2.0, 6), rng.standard_normal(6)
    var = nr.Variable(np.zeros(6, dtype="float32"))
    opt = cls(**kwargs)
    for _ in range(steps):
        var.grad = (a * (var.data - c)).astype("float32")
        opt.apply([var])
    assert np.abs(var.data - c).max() < tol


def test_slots_never_decay_into_subnormal_numbers():
    """Zero gradients make Adam's first moment decay x0.9 per step; it must be flushed before it turns subnormal."""
    import numpy as np

    import neurona as nr
    from neurona.optimizers import base

    var = nr.Variable(np.ones(4, dtype=np.float32))
    opt = nr.optimizers.Adam(1e-3)
    tiny = np.finfo(np.float32).tiny
    var.grad = np.full(4, 1e-3, dtype=np.float32)
    opt.apply([var])
    for _ in range(6 * base.FLUSH_EVERY + 900):  # 0.9**900 * 1e-4 is far below the subnormal threshold
        var.grad = np.zeros(4, dtype=np.float32)
        before = var.numpy()
        opt.apply([var])
        for slot in opt.slots(var).values():
            assert not ((slot != 0) & (np.abs(slot) < tiny)).any()
    # once the moment is gone the weight stops moving; flushing changed nothing visible
    np.testing.assert_array_equal(var.numpy(), before)
    assert (opt.slots(var)["momentum"] == 0).all()


@pytest.mark.parametrize("kernels", ["numba", "numpy"])
@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=IDS)
def test_updates_on_threads_equal_one_update(monkeypatch, cls, kwargs, kernels):
    """The update kernels split large variables in flat slices over several threads: the same bits."""
    from neurona.backend import parallel

    if kernels == "numba":
        pytest.importorskip("numba", reason="the compiled kernels need numba")
    monkeypatch.setenv("NEURONA_KERNELS", kernels)

    def three_steps():
        rng = np.random.default_rng(0)
        variables, opt = make_variables(rng), cls(**kwargs)
        for _ in range(3):
            set_grads(variables, rng)
            opt.apply(variables)
        return [v.numpy() for v in variables]

    serial = three_steps()
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "3")
    for got, want in zip(three_steps(), serial):
        np.testing.assert_array_equal(got, want)


def test_a_rule_that_is_not_elementwise_sees_the_whole_variable(monkeypatch):
    """A custom optimizer may use norms: ``update_step`` always gets the whole array, whatever the threads."""
    from neurona.backend import parallel

    class UnitStep(optimizers.Optimizer):
        def update_step(self, grad, var_array, lr, slots):
            var_array -= lr * grad / np.linalg.norm(grad)

    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "3")
    var = nr.Variable(np.zeros(6, dtype="float32"))
    var.grad = np.full(6, 2.0, dtype="float32")
    UnitStep(learning_rate=1.0).apply([var])
    np.testing.assert_allclose(np.linalg.norm(var.numpy()), 1.0, rtol=1e-6)
