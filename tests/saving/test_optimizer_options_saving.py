"""model.save / load_model and checkpoints keep the base options' state (moving averages, gradient accumulators
and the position within an accumulation cycle) and Adafactor's factored slots: training resumes exactly."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, models, optimizers, saving

OPTIONS = {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 5, "gradient_accumulation_steps": 4}


def _same_weights(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("optimizer", [optimizers.Adam(**OPTIONS), optimizers.Nadam(**OPTIONS, loss_scale_factor=4.0),
                                       optimizers.Adafactor(), optimizers.Lion(**OPTIONS)],
                         ids=["adam", "nadam", "adafactor", "lion"])
def test_save_and_load_resume_exactly(zoo, tmp_path, optimizer):
    model = zoo.build("conv2d", optimizer)
    x, y = zoo.data(model)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # 3 calls: one update short of a 4-call cycle
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    loaded = models.load_model(tmp_path / "m")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    if optimizer.gradient_accumulation_steps:
        assert doc["optimizer_state"]["accumulated_steps"] == loaded.optimizer._accumulated_steps == 3
    for var, twin in zip(model.trainable_weights, loaded.trainable_weights):
        slots, twin_slots = model.optimizer.slots(var), loaded.optimizer.slots(twin)
        assert slots.keys() == twin_slots.keys() and all(np.array_equal(slots[k], twin_slots[k]) for k in slots)
    for start in (0, 16, 32):
        model.train_step(x[start:start + 16], y[start:start + 16])
        loaded.train_step(x[start:start + 16], y[start:start + 16])
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert _same_weights(model, loaded)


def _fit(model, x, y, **kwargs):
    return model.fit(x, y, batch_size=16, epochs=3, verbose=0, **kwargs)


def _model():
    model = models.Sequential([nr.layers.Input((6,)), nr.layers.Dense(8, activation="relu"), nr.layers.Dense(3)])
    schedule = optimizers.schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.9)
    model.compile(optimizer=optimizers.Lamb(schedule, **OPTIONS), loss="mse")
    return model


def test_checkpoint_resume_ends_with_the_same_weights(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 6)).astype("float32"), rng.normal(size=(80, 3)).astype("float32")
    nr.seed(3)
    model = _model()
    _fit(model, x, y, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}"))])
    ckpt = saving.load_checkpoint(tmp_path / "ckpt-1")  # 5 calls in: one into the second cycle of 4
    assert ckpt.model.optimizer._accumulated_steps == 1 and ckpt.model.optimizer.iterations == 1
    _fit(ckpt.model, x, y, initial_epoch=ckpt.epoch)
    assert ckpt.model.optimizer.iterations == model.optimizer.iterations == 3  # 15 calls
    assert _same_weights(model, ckpt.model)
