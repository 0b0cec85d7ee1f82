"""Functional models (several inputs and outputs, lists and dicts, shared layers, ops on symbolic tensors) and
nested models (a frozen base inside a new model) save, load, go to JSON and back, and load weights exactly."""

import json

import h5py
import numpy as np
import pytest

import neurona as nr
from neurona import layers, models, saving


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(p.dtype == q.dtype and np.array_equal(p, q) for p, q in zip(wa, wb))


def _outputs(model, x):
    """The model's outputs on ``x`` as a flat list of arrays (for lists, dicts or one output)."""
    return [np.asarray(o) for o in nr.nest.flatten(model.predict(x))]


def _two_in_two_out():
    """Inputs a (4,) and b (3,), a layer shared by both branches, x + y and x[:, 0] nodes, two outputs."""
    a, b = nr.Input((4,), name="a"), nr.Input((3,), name="b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    left = shared(layers.Dense(6, name="from_a")(a))
    right = shared(layers.Dense(6, name="from_b")(b))
    total = left + right * 0.5
    first = total[:, 0:1] - right[:, -1:]
    return models.Model([a, b], [layers.Dense(2, name="head")(total), first], name="two_by_two")


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)]


def test_several_inputs_and_outputs_with_a_shared_layer_round_trip(tmp_path):
    model = _two_in_two_out()
    x = _data()
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["model"]["class_name"] == "Functional" and doc["model"]["build_input_shape"] is None
    shared_entry = next(e for e in doc["model"]["config"]["layers"] if e["name"] == "shared")
    assert len(shared_entry["inbound_nodes"]) == 2  # one layer, two calls
    loaded = models.load_model(tmp_path / "m")
    assert loaded.get_config() == model.get_config()
    assert _same_weights(loaded, model)
    assert sum(1 for layer in loaded.layers if layer.name == "shared") == 1
    assert len(loaded.get_layer("shared")._inbound_nodes) == 2
    for got, expected in zip(_outputs(loaded, x), _outputs(model, x)):
        np.testing.assert_array_equal(got, expected)  # bit-identical
    with h5py.File(tmp_path / "m" / "model.h5", "r") as f:  # one dataset per weight, however often it is used
        assert sorted(f["weights/shared"]) == ["bias", "kernel"]


def test_dict_inputs_and_outputs_round_trip(tmp_path):
    a, b = nr.Input((4,), name="a"), nr.Input((3,), name="b")
    joined = layers.Concatenate()([layers.Dense(3)(a), b])
    model = models.Model({"a": a, "b": b}, {"score": layers.Dense(1)(joined), "probs": layers.Dense(
        2, activation="softmax")(joined)}, name="dicts")
    x = dict(zip("ab", _data(1)))
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    out, expected = loaded.predict(x), model.predict(x)
    assert sorted(out) == ["probs", "score"]
    for key in out:
        np.testing.assert_array_equal(out[key], expected[key])
    twin = models.model_from_json(model.to_json())
    assert twin.get_config() == model.get_config() and not _same_weights(twin, model)


def _frozen_base_model(name="transfer"):
    """A pretrained base (Sequential with BatchNormalization and Dropout), frozen, called with training=False."""
    base = models.Sequential([layers.Input((5,)), layers.Dense(8, activation="relu", name="base_dense"),
                              layers.BatchNormalization(name="base_bn"), layers.Dropout(0.5, name="base_drop"),
                              layers.Dense(4, name="base_out")], name="base")
    base.trainable = False
    inputs = nr.Input((5,))
    x = layers.Dropout(0.25, name="head_drop")(base(inputs, training=False))
    model = models.Model(inputs, layers.Dense(3, activation="softmax", name="head")(x), name=name)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _xy(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)).astype(np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def test_a_frozen_nested_base_stays_frozen_after_load(tmp_path):
    model = _frozen_base_model()
    x, y = _xy()
    base_before = model.get_layer("base").get_weights()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(base_before, model.get_layer("base").get_weights()))
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    base = loaded.get_layer("base")
    assert isinstance(base, models.Sequential) and base.trainable is False
    assert all(layer.trainable is False for layer in base.layers)
    assert all(not w.trainable for w in base.weights) and loaded.get_layer("head").trainable
    assert [w.trainable for w in loaded.weights] == [w.trainable for w in model.weights]
    assert len(loaded.trainable_weights) == 2  # the head's kernel and bias
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 8
    model.train_step(x[:8], y[:8])  # the same next step: optimizer slots and dropout masks restored
    loaded.train_step(x[:8], y[:8])
    assert _same_weights(loaded, model)


def test_weights_are_stored_by_layer_path(tmp_path):
    model = _frozen_base_model()
    model.save(tmp_path / "m")
    with h5py.File(tmp_path / "m" / "model.h5", "r") as f:
        assert f.attrs["format_version"] == 2
        assert json.loads(f["weights"].attrs["layer_names"]) == ["base/base_dense", "base/base_bn",
                                                                 "base/base_out", "head"]
        assert sorted(f["weights/base/base_bn"]) == ["beta", "gamma", "moving_mean", "moving_variance"]
        assert f["weights/base/base_out"].attrs["class_name"] == "Dense"
        np.testing.assert_array_equal(f["weights/base/base_dense/kernel"][()],
                                      model.get_layer("base").get_layer("base_dense").kernel.numpy())


def test_nested_dropout_generators_are_saved_by_path(tmp_path):
    model = _frozen_base_model()
    x, y = _xy()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert sorted(doc["rng"]["layers"]) == ["base/base_drop", "head_drop"]
    loaded = models.load_model(tmp_path / "m")
    for owner, copy in ((model.get_layer("base").get_layer("base_drop"),
                         loaded.get_layer("base").get_layer("base_drop")),
                        (model.get_layer("head_drop"), loaded.get_layer("head_drop"))):
        np.testing.assert_array_equal(copy._rng.random(4), owner._rng.random(4))


def test_a_functional_checkpoint_resumes_to_the_same_weights(tmp_path):
    """Three epochs in one go, or one epoch, a checkpoint, and two more from the loaded checkpoint: the final
    weights agree bit for bit (shuffling, the dropout generator inside the nested block, the optimizer
    slots, the library-wide generator)."""
    x, y = _xy(24)

    def start():
        nr.seed(3)
        block_in = nr.Input((5,))
        block = models.Model(block_in, layers.Dropout(0.5, name="inner_drop")(layers.Dense(6)(block_in)),
                             name="block")
        inputs = nr.Input((5,))
        model = models.Model(inputs, layers.Dense(3, activation="softmax")(block(inputs)))  # the block's dropout
        model.compile(optimizer="adam", loss="categorical_crossentropy")                 # draws masks in fit
        return model

    uninterrupted = start()
    uninterrupted.fit(x, y, batch_size=8, epochs=3, verbose=0)
    interrupted = start()
    interrupted.fit(x, y, batch_size=8, epochs=1, verbose=0)
    saving.save_checkpoint(interrupted, tmp_path / "ckpt", epoch=1)
    nr.seed(99)  # another process, say: the checkpoint puts the generators back
    resumed = saving.load_checkpoint(tmp_path / "ckpt")
    assert resumed.epoch == 1
    resumed.model.fit(x, y, batch_size=8, epochs=3, initial_epoch=1, verbose=0)
    assert _same_weights(resumed.model, uninterrupted)


def test_model_checkpoint_callback_saves_a_functional_model(tmp_path):
    model = _two_in_two_out()
    head = model.outputs[0]
    single = models.Model(model.inputs, head, name="single_out")
    single.compile(optimizer="sgd", loss="mse")
    x, y = _data(2), np.random.default_rng(2).normal(size=(6, 2)).astype(np.float32)
    single.fit(x, y, epochs=2, batch_size=3, verbose=0,
               callbacks=[nr.callbacks.ModelCheckpoint(str(tmp_path / "best"))])
    loaded = models.load_model(tmp_path / "best")
    np.testing.assert_array_equal(loaded.predict(x), single.predict(x))


def test_save_weights_and_load_weights_of_nested_models(tmp_path):
    model = _frozen_base_model()
    x, y = _xy()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.weights.h5")
    twin = _frozen_base_model()  # same names: matched by path
    twin.load_weights(tmp_path / "w.weights.h5", by_name=True)
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))
    other = models.clone_model(model)  # same structure, matched by position
    other.load_weights(tmp_path / "w.weights.h5")
    assert _same_weights(other, model)


def test_a_different_nested_structure_is_a_clear_error(tmp_path):
    model = _frozen_base_model()
    model.save_weights(tmp_path / "w.h5")
    inputs = nr.Input((5,))
    flat = models.Model(inputs, layers.Dense(3, name="head")(layers.Dense(4, name="base")(inputs)))
    before = flat.get_weights()
    with pytest.raises(saving.FileFormatError, match=r"layers with weights in the model but not in the file: "
                                                     r"\['base'\]; in the file but not in the model: "
                                                     r"\['base/base_dense', 'base/base_bn', 'base/base_out'\]"):
        flat.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.raises(saving.FileFormatError, match=r"holds weights for 4 layers .*has 2 layers with weights"):
        flat.load_weights(tmp_path / "w.h5")
    assert all(np.array_equal(a, b) for a, b in zip(before, flat.get_weights()))


def test_a_layer_of_another_class_at_a_path_is_named(tmp_path):
    model = _frozen_base_model()
    model.save_weights(tmp_path / "w.h5")
    twin = _frozen_base_model()
    with h5py.File(tmp_path / "w.h5", "r+") as f:
        f["weights/base/base_out"].attrs["class_name"] = "Conv2D"
    with pytest.raises(saving.FileFormatError, match=r"layer 'base/base_out' in the file is a Conv2D, but model "
                                                     r"layer 'base/base_out' is a Dense"):
        twin.load_weights(tmp_path / "w.h5", by_name=True)


def test_a_weight_of_the_wrong_shape_is_named_by_path(tmp_path):
    model = _frozen_base_model()
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r+") as f:
        del f["weights/base/base_out/bias"]
        f["weights/base/base_out"].create_dataset("bias", data=np.zeros(7, np.float32))
    with pytest.raises(saving.FileFormatError, match=r"layer 'base/base_out' \(Dense\) weight 'bias' expects "
                                                     r"'weights/base/base_out/bias' of shape \(4,\).*shape \(7,\)"):
        _frozen_base_model().load_weights(tmp_path / "w.h5", by_name=True)


def test_one_name_at_two_depths_is_two_paths_but_twice_in_one_model_is_refused(tmp_path):
    inner_in = nr.Input((3,))
    inner = models.Model(inner_in, layers.Dense(2, name="twin")(inner_in), name="inner")
    inputs = nr.Input((3,))
    model = models.Model(inputs, layers.Dense(2, name="twin")(inner(inputs)))  # "twin" and "inner/twin"
    model.save(tmp_path / "ok")
    assert _same_weights(models.load_model(tmp_path / "ok"), model)
    inner.layers[1].name = "renamed"
    model.get_layer("twin").name = "inner"  # renamed after the model was made: two layers called "inner"
    with pytest.raises(ValueError, match=r"Functional '\w+'.* holds two different layers named 'inner' \(Functional "
                                         r"and Dense\).*distinct names"):
        model.save(tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_nested_sequential_inside_sequential_round_trips(tmp_path):
    block = models.Sequential([layers.Dense(4, activation="relu"), layers.Dense(4)], name="block")
    model = models.Sequential([layers.Input((3,)), block, layers.Dense(2)], name="outer")
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    assert isinstance(loaded.layers[0], models.Sequential) and len(loaded.layers[0].layers) == 2
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_old_sequential_files_still_load():
    """Files written before nested models could be saved (weights format version 1, tests/saving/legacy,
    written by that version's save_checkpoint and save_weights): weights, optimizer state, dropout generator,
    history, predictions."""
    import pathlib

    here = pathlib.Path(__file__).parent / "legacy"
    expected = np.load(here / "sequential_v1_expected.npz")
    with h5py.File(here / "sequential_v1" / "model.h5", "r") as f:
        assert f.attrs["format_version"] == 1
    ckpt = saving.load_checkpoint(here / "sequential_v1", restore_global_rng=False)
    model = ckpt.model
    assert ckpt.epoch == 2 and model.optimizer.iterations == 4
    assert [layer.name for layer in model.layers] == ["hidden", "drop", "bn", "out"]
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, expected[f"w{i}"])
    np.testing.assert_array_equal(model.predict(expected["x"]), expected["predict"])
    saved_rng = json.loads((here / "sequential_v1" / "model.json").read_text())["rng"]["layers"]["drop"]["_rng"]
    assert model.get_layer("drop")._rng.bit_generator.state["state"] == saved_rng["state"]
    assert saved_rng["state"] != np.random.default_rng(1).bit_generator.state["state"]  # moved on by training
    twin = models.Sequential([layers.Input((4,)), layers.Dense(5, activation="relu"), layers.Dropout(0.5),
                              layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    twin.load_weights(here / "sequential_v1.weights.h5")
    np.testing.assert_array_equal(twin.predict(expected["x"]), expected["predict"])


def test_per_output_losses_weights_and_metrics_round_trip(tmp_path):
    model = _two_in_two_out()
    head, first = model.output_names  # "head", and the automatic name of the TensorOp x - y
    model.compile(optimizer="adam", loss={head: "mse", first: nr.losses.MeanAbsoluteError(reduction="sum")},
                  loss_weights={head: 1.0, first: 0.25}, metrics={head: ["mae"]}, weighted_metrics=[["mse"], []])
    x = _data(4)
    y = [np.random.default_rng(4).normal(size=(6, 2)).astype(np.float32),
         np.random.default_rng(5).normal(size=(6, 1)).astype(np.float32)]
    model.fit(x, y, batch_size=3, epochs=2, verbose=0)
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["compile"]["loss"][head]["class_name"] == "MeanSquaredError"
    assert doc["compile"]["loss"][first] == {"class_name": "MeanAbsoluteError",
                                             "config": {"name": "mean_absolute_error", "reduction": "sum"}}
    assert doc["compile"]["loss_weights"] == {head: 1.0, first: 0.25}
    assert doc["compile"]["metrics"] == {head: ["mae"]} and doc["compile"]["weighted_metrics"] == [["mse"], []]
    loaded = models.load_model(tmp_path / "m")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert len(logs) > 3 and loaded.evaluate(x, y, verbose=0, return_dict=True) == logs
    model.train_step(x, y)
    loaded.train_step(x, y)
    assert _same_weights(loaded, model)


def test_an_unsaveable_lambda_says_how_to_fix_it_and_only_that(tmp_path):
    x = nr.Input((3,))
    model = nr.Model(x, nr.layers.Lambda(lambda t: t * 2)(x))
    with pytest.raises(ValueError, match="register_function") as caught:
        model.save(tmp_path / "m")
    assert "custom layer or model class" not in str(caught.value)
    assert not (tmp_path / "m").exists()
