"""``InitMonitor``: inspect's statistics on real training steps, warnings once per kind, no hooks left behind."""

import json
import math
import warnings

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, initializers, layers
from neurona.callbacks.init_monitor import InitMonitor
from neurona.diagnostics import monitor
from neurona.diagnostics.monitor import InitWarning, loss_verdict

D, CLASSES = 16, 4


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, D)).astype("float32"), rng.integers(0, CLASSES, n)


def _stack(depth, activation, init, width=32, lr=0.01, **kwargs):
    model = nr.Sequential([nr.Input((D,))] + [
        layers.Dense(width, activation=activation, kernel_initializer=init, **kwargs) for _ in range(depth)] + [
        layers.Dense(CLASSES, name="logits")])
    model.compile(optimizer=nr.optimizers.SGD(lr), loss=nr.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _fit(model, cb, epochs=1, batch_size=16, n=160, **kwargs):
    """Fit with ``cb``; returns the History and the InitWarnings raised (every one, Python's filters aside)."""
    x, y = _data(n)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[cb], **kwargs)
    return history, [str(w.message) for w in caught if issubclass(w.category, InitWarning)]


def _hooked(model):
    return [layer.name for layer in model.layers if layer._hook_table]


# ---- records --------------------------------------------------------------------------------------------
def test_records_land_in_the_history_every_n_batches_of_the_first_epochs():
    model = _stack(2, "relu", "he_normal")
    mon = InitMonitor(every=3, until_epoch=2)
    history, _ = _fit(model, mon, epochs=3)  # 160 / 16 = 10 batches: 0, 3, 6, 9 in epochs 0 and 1
    assert history.init_monitor is mon.records and model.history.init_monitor is mon.records
    assert [(s["epoch"], s["batch"]) for s in mon.records] == [(e, b) for e in (0, 1) for b in (0, 3, 6, 9)]
    snapshot = mon.records[0]
    assert set(snapshot) == {"epoch", "batch", "loss", "layers", "gradient_ratio", "signal_ratio", "through_time",
                             "verdicts"}
    assert [r["layer"] for r in snapshot["layers"]] == [layer.name for layer in model.layers]
    for record in snapshot["layers"]:
        assert "activation_histogram" not in record and record["output_grad_rms"] > 0
        kernel, bias = record["weights"]
        assert kernel is record["kernel"] and kernel["name"] == "kernel" and kernel["grad_rms"] > 0
        assert 0 < kernel["update_ratio"] < 1
        assert bias["update_ratio"] == math.inf  # the first step moves a zero bias: ||delta|| / 0
    assert all(0 < w["update_ratio"] < 1 for r in mon.records[1]["layers"] for w in r["weights"])
    assert 0.1 < snapshot["gradient_ratio"] < 10
    assert json.loads(json.dumps(mon.records))[0]["batch"] == 0  # plain data (inf written as JSON's Infinity)


def test_a_second_fit_starts_a_new_record():
    model = _stack(1, "relu", "he_normal")
    mon = InitMonitor(every=5)
    first, _ = _fit(model, mon)
    second, _ = _fit(model, mon)
    assert len(first.init_monitor) == len(second.init_monitor) == 2
    assert second.init_monitor is mon.records and first.init_monitor is not second.init_monitor


def test_loss_gradients_and_update_ratios_are_those_of_the_step():
    """Against an independent measurement of the same steps: the batch's loss under the weights it started from,
    the gradient it left on the kernel, and plain SGD's step ``lr * g`` (so ``ratio = lr ||g|| / ||w_before||``)."""
    lr, batch_size = 0.05, 16
    model = _stack(2, "tanh", initializers.GlorotUniform(seed=0), lr=lr)
    x, y = _data()
    kernel = model.layers[0].kernel
    seen = {}

    def begin(batch, logs):
        logits = model(x[batch * batch_size:(batch + 1) * batch_size])
        loss = model.loss(nr.Tensor(y[batch * batch_size:(batch + 1) * batch_size]), logits)
        seen[batch] = {"loss": float(loss.numpy()), "w": kernel.numpy().astype(np.float64).copy()}

    def end(batch, logs):
        grad = np.asarray(kernel.grad, dtype=np.float64)
        before = seen[batch]["w"]
        seen[batch].update(ratio=lr * np.linalg.norm(grad) / np.linalg.norm(before),
                           step=np.linalg.norm(kernel.numpy() - before) / np.linalg.norm(before),
                           grad_rms=math.sqrt(np.mean(grad ** 2)))

    mon = InitMonitor(every=4)
    probe = callbacks.LambdaCallback(on_train_batch_begin=begin, on_train_batch_end=end)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InitWarning)
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False, callbacks=[mon, probe])
    assert [s["batch"] for s in mon.records] == [0, 4, 8]
    for snapshot in mon.records:
        truth = seen[snapshot["batch"]]
        record = snapshot["layers"][0]["kernel"]
        assert snapshot["loss"] == pytest.approx(truth["loss"], rel=1e-5)
        assert record["grad_rms"] == pytest.approx(truth["grad_rms"], rel=1e-5)
        assert record["update_ratio"] == pytest.approx(truth["ratio"], rel=1e-3)
        assert record["update_ratio"] == pytest.approx(truth["step"], rel=1e-5)


def test_an_unbuilt_model_is_monitored_from_its_first_step():
    model = nr.Sequential([layers.Dense(16, activation="relu", kernel_initializer="he_normal"),
                           layers.BatchNormalization(name="norm"), layers.Dense(CLASSES)])
    model.compile(optimizer="sgd", loss=nr.losses.SparseCategoricalCrossentropy(from_logits=True))
    mon = InitMonitor(every=4)
    _fit(model, mon)
    first, later = mon.records[0], mon.records[1]
    assert first["layers"][0]["kernel"]["update_ratio"] is None  # the kernel did not exist when the step began
    assert later["layers"][0]["kernel"]["update_ratio"] > 0
    assert "norm" in [r["layer"] for r in later["layers"]]  # found once the model was built
    assert _hooked(model) == []


# ---- hooks ----------------------------------------------------------------------------------------------
def test_hooks_are_on_the_layers_for_the_monitored_steps_only():
    """Probes placed after the monitor see the layers during each step: hooked on monitored batches of the first
    ``until_epoch`` epochs, hook-free on every other step and at the end."""
    model = _stack(2, "relu", "he_normal")
    mon = InitMonitor(every=3, until_epoch=2)
    epochs, during = [], {}

    def begin(batch, logs):
        during[(epochs[-1], batch)] = _hooked(model)

    def end(batch, logs):
        assert _hooked(model) == []  # the monitor's batch end (before this probe) took them off

    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[mon, callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epochs.append(epoch), on_train_batch_begin=begin, on_train_batch_end=end)])
    names = [layer.name for layer in model.layers]
    monitored = {(e, b) for e in (0, 1) for b in (0, 3, 6, 9)}
    assert {key for key, hooked in during.items() if hooked} == monitored
    assert all(during[key] == names for key in monitored)  # every watched layer carries hooks then
    assert len(during) == 40 and not mon.active and _hooked(model) == []
    assert {(s["epoch"], s["batch"]) for s in mon.records} == monitored


def test_monitoring_stops_when_training_stops_early():
    model = _stack(1, "relu", "he_normal")
    mon = InitMonitor(every=1, until_epoch=5)

    def stop(batch, logs):
        model.stop_training = True

    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=5, verbose=0, callbacks=[mon, callbacks.LambdaCallback(
        on_train_batch_end=stop)])
    assert len(mon.records) == 1 and _hooked(model) == [] and not mon.active


def test_a_step_that_raised_leaves_no_hooks_and_the_next_fit_runs_clean():
    model = _stack(1, "relu", "he_normal")
    mon = InitMonitor(every=1, until_epoch=3)

    def fail(batch, logs):
        if batch == 2:
            raise RuntimeError("stop here")

    x, y = _data()
    failing = callbacks.LambdaCallback(on_train_batch_end=fail)  # before the monitor: its batch end never comes
    with pytest.raises(RuntimeError, match="stop here"):
        model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[failing, mon])
    # its batch end never came, but fit's on_train_failed took the hooks off
    assert _hooked(model) == [] and len(mon.records) == 2 and not mon.active
    mon.close()  # closing again is harmless
    assert _hooked(model) == []
    history, _ = _fit(model, mon, epochs=1)  # the next run starts clean and ends clean
    assert _hooked(model) == [] and len(history.init_monitor) == 10


# ---- warnings -------------------------------------------------------------------------------------------
def test_vanishing_gradients_on_twenty_sigmoid_layers_warned_once():
    model = _stack(20, "sigmoid", initializers.RandomNormal(stddev=0.01, seed=1))
    x, y = _data()
    mon = InitMonitor(every=2)
    with pytest.warns(InitWarning, match=r"^InitMonitor \(epoch 1, batch 1\): vanishing gradients") as caught:
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[mon])
    vanishing = [w for w in caught if issubclass(w.category, InitWarning) and "vanishing" in str(w.message)]
    assert len(vanishing) == 1  # once per fit, although every snapshot finds it
    assert len(mon.records) == 5 and all("vanishing" in [v["kind"] for v in s["verdicts"]] for s in mon.records)
    assert all(s["gradient_ratio"] < 1e-10 for s in mon.records)


def test_no_warning_on_a_healthy_he_normal_relu_network():
    # batches of 64: behind a ReLU every input is >= 0, so a unit's pre-activation shares a common part over the
    # batch and on a batch of 16 a deep unit is often off for all of them (dead units, correctly reported)
    model = _stack(4, "relu", initializers.HeNormal(seed=2), width=64)
    mon = InitMonitor(every=1)
    _, warned = _fit(model, mon, batch_size=64, n=320)
    assert warned == []
    assert len(mon.records) == 5 and all(s["verdicts"] == [] for s in mon.records)


def test_dead_units_of_a_relu_layer_with_a_large_negative_bias():
    model = nr.Sequential([nr.Input((D,)), layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
                           layers.Dense(32, activation="relu", kernel_initializer="he_normal",
                                        bias_initializer=initializers.Constant(-10.0), name="dying"),
                           layers.Dense(CLASSES)])
    model.compile(optimizer="sgd", loss=nr.losses.SparseCategoricalCrossentropy(from_logits=True))
    _, warned = _fit(model, InitMonitor(every=3))
    dead = [m for m in warned if ": dead units in " in m]
    assert len(dead) == 1 and "'dying': 100%" in dead[0] and dead[0].startswith("InitMonitor (epoch 1, batch 1): ")


def test_loss_not_moving_at_learning_rate_zero():
    """On mini-batches the loss still changes with the data: the weights that do not move give it away."""
    _, warned = _fit(_stack(2, "relu", "he_normal", lr=0.0), InitMonitor(every=2))
    stuck = [m for m in warned if "loss has not moved" in m]
    assert len(stuck) == 1 and stuck[0].startswith("InitMonitor (epoch 1, batch 5): ")  # the third point
    assert "the weights are where they were" in stuck[0]


def test_loss_not_moving_on_full_batches():
    _, warned = _fit(_stack(2, "relu", "he_normal", lr=0.0), InitMonitor(every=1, until_epoch=4), epochs=4,
                     batch_size=160)
    stuck = [m for m in warned if "loss has not moved" in m]
    assert len(stuck) == 1 and stuck[0].startswith("InitMonitor (epoch 3, batch 1): ")
    assert "over 3 monitored batches it has stayed within a relative" in stuck[0]


def test_identical_units_under_zeros_init(monkeypatch):
    """Both hidden layers start with zero kernels; the logits layer's random kernel sends the second one
    different gradients (its units have different outgoing weights), so only the first stays symmetric."""
    monkeypatch.setattr(monitor, "warn_identical_units", lambda model: [])  # fit's own check would say it first
    model = _stack(2, "tanh", "zeros")
    history, warned = _fit(model, InitMonitor(every=5))
    first, second = (layer.name for layer in model.layers[:2])
    symmetric = [m for m in warned if "symmetric units" in m]
    assert len(symmetric) == 1
    assert symmetric[0].startswith("InitMonitor (epoch 1, batch 1): symmetric units in 1 layer(s) ")
    assert f"{first!r}: 32 of its 32 units" in symmetric[0] and f"{second!r}" not in symmetric[0]
    for snapshot in history.init_monitor:
        assert [v["layers"] for v in snapshot["verdicts"] if v["kind"] == "symmetric units"] == [[first]]


def test_identical_units_already_reported_when_fit_started_are_not_warned_again(monkeypatch):
    """``fit`` runs ``warn_identical_units`` after its first step, before the callbacks hear of that step's end;
    the monitor then stays quiet on those layers. (Where fit does not run it yet, the probe runs it there.)"""
    calls = []
    check = monitor.warn_identical_units
    monkeypatch.setattr(monitor, "warn_identical_units", lambda model: calls.append(model) or check(model))
    model = _stack(2, "tanh", "zeros")

    def end_of_first_step(batch, logs):
        if not calls:
            monitor.warn_identical_units(model)

    x, y = _data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[
            callbacks.LambdaCallback(on_train_batch_end=end_of_first_step), InitMonitor(every=5)])
    symmetric = [str(w.message) for w in caught if issubclass(w.category, InitWarning) and "symmetric" in
                 str(w.message)]
    assert len(calls) == 1 and len(symmetric) == 1 and not symmetric[0].startswith("InitMonitor")
    assert f"{model.layers[0].name!r}: 32 of its 32 units" in symmetric[0]


def test_warn_false_records_without_warning():
    model = _stack(2, "tanh", "zeros")
    mon = InitMonitor(every=5, warn=False)
    _, warned = _fit(model, mon)
    assert not [m for m in warned if m.startswith("InitMonitor")] and any(s["verdicts"] for s in mon.records)


def test_verbose_prints_one_line_per_snapshot(capsys):
    _fit(_stack(1, "relu", "he_normal"), InitMonitor(every=5, verbose=1))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("InitMonitor")]
    assert len(lines) == 2 and lines[0].startswith("InitMonitor epoch 1 batch 1: loss ") and "healthy" in lines[0]


# ---- the loss verdict in numbers --------------------------------------------------------------------------
def test_loss_verdict_thresholds():
    assert loss_verdict([1.0, 1.0]) is None  # too few points
    assert loss_verdict([1.0, 1.00001, 1.00002])["kind"] == "loss not moving"  # 2e-5 < LOSS_RTOL
    assert loss_verdict([1.0, 0.9, 0.999]) is None  # 1e-3: moved
    assert loss_verdict([1.0, 0.9, 1.00001]) is None  # back near its start by chance, but it did move
    assert loss_verdict([1.0, 0.9, 1.1], weight_change=0.0)["kind"] == "loss not moving"
    assert loss_verdict([1.0, 0.9, 1.1], weight_change=1e-3) is None
    assert loss_verdict([0.0, 0.0, 0.0]) is None  # nothing left to learn
    assert loss_verdict([1.0, 1.0, float("nan")]) is None and loss_verdict([1.0, None, 1.0]) is None
    assert monitor.LOSS_RTOL == 1e-4 and monitor.LOSS_MIN_POINTS == 3


# ---- arguments and config ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, words", [
    ({"every": 0}, ValueError, "every must be an integer >= 1, got 0"),
    ({"every": 2.0}, ValueError, "every must be an integer >= 1, got 2.0 (float)"),
    ({"every": True}, ValueError, "every"),
    ({"until_epoch": 0}, ValueError, "until_epoch must be an integer >= 1"),
    ({"until_epoch": "1"}, ValueError, "until_epoch"),
    ({"warn": "yes"}, TypeError, "warn must be True or False, got 'yes' (str)"),
    ({"verbose": 2}, ValueError, "verbose must be 0 or 1"),
])
def test_bad_arguments_are_refused(kwargs, error, words):
    with pytest.raises(error, match=r"^InitMonitor: ") as info:
        InitMonitor(**kwargs)
    assert words in str(info.value)


def test_config_round_trip():
    mon = InitMonitor(every=7, until_epoch=3, warn=False, verbose=1)
    config = mon.get_config()
    assert config == {"every": 7, "until_epoch": 3, "warn": False, "verbose": 1}
    assert InitMonitor.from_config(config).get_config() == config


def test_a_fit_that_raises_leaves_no_hooks_and_no_open_log(tmp_path):
    """A step that fails inside a monitored epoch: fit raises the error, and on its way out the monitor's hooks
    come off every layer and the CSV log is closed with the rows written so far (on_train_failed)."""
    x, y = _data()
    model = _stack(2, "relu", "he_normal")

    class Failing(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                raise RuntimeError("disk full")

    log = callbacks.CSVLogger(str(tmp_path / "log.csv"))
    with pytest.raises(RuntimeError, match="disk full"):
        model.fit(x, y, epochs=2, batch_size=16, verbose=0,
                  callbacks=[InitMonitor(every=1), log, Failing()])
    assert all(not layer._hook_table for layer in [model, *model.layers])
    assert log.csv_file is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a later fit runs clean, its monitor sees its own calls only
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)


def test_a_callback_failing_in_its_cleanup_does_not_hide_the_error():
    x, y = _data()
    model = _stack(1, "relu", "he_normal")

    class Broken(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            raise KeyError("first")

        def on_train_failed(self, error):
            raise ValueError("second")

    with pytest.warns(UserWarning, match="Broken.on_train_failed raised ValueError: second"), \
            pytest.raises(KeyError, match="first"):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[Broken()])
