"""Models with several inputs and outputs: per-output losses, loss weights and metrics, with Keras 3's log names.

The reference numbers were measured with real Keras 3.15.1 (torch backend) on the same model, weights and data
(the scratch script built the model with keras.layers.Add where this file writes `+`; the weights come from
`_weights` below, set layer by layer).
"""

import numpy as np
import pytest

import neurona as nr
from neurona import layers


def _weights(seed=7):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 4), (4,), (4, 3), (3,), (4, 1), (1,)]
    return [(0.5 * rng.standard_normal(s)).astype("float32") for s in shapes]


def _data(n=10, seed=3):
    rng = np.random.default_rng(seed)
    xa = rng.standard_normal((n, 3)).astype("float32")
    xb = rng.standard_normal((n, 2)).astype("float32")
    yr = rng.standard_normal((n, 1)).astype("float32")
    yc = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    w = rng.uniform(0.5, 2.0, n).astype("float32")
    return xa, xb, yr, yc, w


def _model(dict_outputs=True, keys=("reg", "cls")):
    a, b = nr.Input((3,), name="in_a"), nr.Input((2,), name="in_b")
    h = layers.Dense(4, activation="relu", name="ha")(a) + layers.Dense(4, activation="relu", name="hb")(b)
    reg = layers.Dense(1, name="reg")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    outputs = {keys[0]: reg, keys[1]: cls} if dict_outputs else [reg, cls]
    model = nr.Model({"in_a": a, "in_b": b}, outputs)
    w = _weights()
    for i, name in enumerate(["ha", "hb", "cls", "reg"]):
        model.get_layer(name).set_weights(w[2 * i:2 * i + 2])
    return model


def _compiled():
    model = _model()
    model.compile(nr.optimizers.SGD(0.1), loss={"reg": "mse", "cls": "categorical_crossentropy"},
                  loss_weights={"reg": 0.5, "cls": 2.0}, metrics={"reg": ["mae"], "cls": ["accuracy"]},
                  weighted_metrics={"cls": ["accuracy"], "reg": ["mse"]})
    return model


def _xy():
    xa, xb, yr, yc, w = _data()
    return {"in_a": xa, "in_b": xb}, {"reg": yr, "cls": yc}, w


# measured with Keras 3.15.1: model.evaluate(x, y, batch_size=4, return_dict=True)
KERAS_EVAL = {"cls_accuracy": 0.4, "cls_loss": 1.421122670173645, "cls_weighted_accuracy": 0.4,
              "loss": 3.3990960121154785, "reg_loss": 1.113701581954956, "reg_mae": 0.7414226531982422,
              "reg_mse": 1.113701581954956}
# the same with sample_weight=w (one array, for both outputs)
KERAS_EVAL_SW = {"cls_accuracy": 0.4, "cls_loss": 1.9669387340545654, "cls_weighted_accuracy": 0.43331682682037354,
                 "loss": 4.819411754608154, "reg_loss": 1.7710695266723633, "reg_mae": 0.7414226531982422,
                 "reg_mse": 1.240369200706482}
# evaluate() as a list: loss, the per-output losses in the loss dict's order, then the other keys sorted
KERAS_EVAL_LIST = [3.3990960121154785, 1.113701581954956, 1.421122670173645, 0.4, 0.4, 0.7414226531982422,
                   1.113701581954956]
# train_on_batch(x, y, sample_weight={"reg": w, "cls": ones}) then evaluate(batch_size=10)
KERAS_TRAIN_ON_BATCH_LOSS = 3.7277801036834717
KERAS_AFTER_STEP = {"cls_loss": 1.3166872262954712, "loss": 3.1236283779144287, "reg_loss": 0.9805078506469727,
                    "reg_mae": 0.7339174151420593}
# then fit(x, y, batch_size=4, epochs=2, shuffle=False, validation_data=(x, y, w)).history
KERAS_FIT = {"cls_accuracy": [0.4, 0.4], "cls_loss": [1.3041251, 1.163076], "cls_weighted_accuracy": [0.4, 0.4],
             "loss": [3.1050322, 2.7777181], "reg_loss": [0.993564, 0.9031323], "reg_mae": [0.7690536, 0.7053303],
             "reg_mse": [0.993564, 0.9031323], "val_cls_accuracy": [0.4, 0.4],
             "val_cls_loss": [1.6292593, 1.5248245], "val_cls_weighted_accuracy": [0.4333168, 0.4333168],
             "val_loss": [3.9797637, 3.735419], "val_reg_loss": [1.4424909, 1.3715402],
             "val_reg_mae": [0.668934, 0.6760596], "val_reg_mse": [1.0102491, 0.9605587]}


def _assert_logs(got, expected, rtol=2e-6):
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=rtol, atol=1e-7, err_msg=key)


def test_two_inputs_two_outputs_evaluate_like_keras():
    model = _compiled()
    x, y, w = _xy()
    _assert_logs(model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True), KERAS_EVAL)
    _assert_logs(model.evaluate(x, y, sample_weight=w, batch_size=4, verbose=0, return_dict=True), KERAS_EVAL_SW)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=4, verbose=0), KERAS_EVAL_LIST, rtol=2e-6)
    assert model.metrics_names == ["loss", "compile_metrics", "reg_loss", "cls_loss"]  # Keras's, after compile


def test_the_objective_is_the_weighted_sum_of_the_output_losses():
    model = _compiled()
    x, y, w = _xy()
    reg, cls = model.predict(x, verbose=0)["reg"], model.predict(x, verbose=0)["cls"]
    mse = (w * ((reg - y["reg"]) ** 2).mean(axis=1)).sum() / len(w)
    cce = (w * -np.log(np.clip((cls * y["cls"]).sum(axis=1), 1e-7, 1))).sum() / len(w)
    logs = model.evaluate(x, y, sample_weight=w, batch_size=10, verbose=0, return_dict=True)
    np.testing.assert_allclose([logs["reg_loss"], logs["cls_loss"], logs["loss"]], [mse, cce, 0.5 * mse + 2 * cce],
                               rtol=1e-5)


def test_training_steps_and_fit_history_match_keras():
    model = _compiled()
    x, y, w = _xy()
    loss = model.train_on_batch(x, y, sample_weight={"reg": w, "cls": np.ones_like(w)}, return_dict=True)["loss"]
    np.testing.assert_allclose(loss, KERAS_TRAIN_ON_BATCH_LOSS, rtol=2e-6)
    after = model.evaluate(x, y, batch_size=10, verbose=0, return_dict=True)
    _assert_logs({k: after[k] for k in KERAS_AFTER_STEP}, KERAS_AFTER_STEP)
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, validation_data=(x, y, w))
    assert sorted(history.history) == sorted(KERAS_FIT)
    for key, values in KERAS_FIT.items():
        np.testing.assert_allclose(history.history[key], values, rtol=3e-6, atol=1e-7, err_msg=key)


def test_gradient_reaches_both_input_branches():
    model = _compiled()
    x, y, _ = _xy()
    before = {name: model.get_layer(name).get_weights()[0].copy() for name in ("ha", "hb")}
    model.train_on_batch(x, y)
    for name, kernel in before.items():
        assert not np.array_equal(model.get_layer(name).get_weights()[0], kernel), name


def test_lists_in_the_order_of_inputs_and_outputs_give_the_same_results():
    model = _compiled()
    (xa, xb, yr, yc, _), (x, y, _) = _data(), _xy()
    as_dicts = model.evaluate(x, y, verbose=0, return_dict=True)
    as_lists = _model(dict_outputs=False)
    as_lists.compile("sgd", loss=["mse", "categorical_crossentropy"], loss_weights=[0.5, 2.0],
                     metrics=[["mae"], ["accuracy"]], weighted_metrics=[["mse"], ["accuracy"]])
    logs = as_lists.evaluate([xa, xb], [yr, yc], verbose=0, return_dict=True)
    _assert_logs(logs, as_dicts)
    predicted = as_lists.predict([xa, xb], verbose=0)
    assert isinstance(predicted, list) and [p.shape for p in predicted] == [(10, 1), (10, 3)]
    assert sorted(model.predict(x, verbose=0)) == ["cls", "reg"]


# Log names for other ways of writing compile(), measured with Keras 3.15.1 (fit(...).history keys, sorted).
@pytest.mark.parametrize("dict_outputs, kwargs, keys", [
    (False, dict(loss={"reg": "mse", "cls": "categorical_crossentropy"}, metrics={"reg": "mae", "cls": ["accuracy"]}),
     ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]),
    (False, dict(loss=["mse", "categorical_crossentropy"], loss_weights=[0.5, 2.0],
                 metrics=[["mae"], ["accuracy", "mse"]]),
     ["cls_accuracy", "cls_loss", "cls_mse", "loss", "reg_loss", "reg_mae"]),
    # one loss for every output; a flat list of one metric per output (mae on reg, mse on cls)
    (False, dict(loss="mse", metrics=["mae", "mse"]), ["cls_loss", "cls_mse", "loss", "reg_loss", "reg_mae"]),
    (False, dict(loss="mse", metrics=["mae", "accuracy"]), ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]),
    (True, dict(loss={"reg": "mse", "cls": "categorical_crossentropy"}, loss_weights={"reg": 0.5, "cls": 2.0},
                metrics={"reg": ["mae"], "cls": ["accuracy", "mse"]}, weighted_metrics={"cls": ["accuracy"]}),
     ["cls_accuracy", "cls_loss", "cls_mse", "cls_weighted_accuracy", "loss", "reg_loss", "reg_mae"]),
])
def test_log_names_are_keras_names(dict_outputs, kwargs, keys):
    model = _model(dict_outputs=dict_outputs)
    model.compile("sgd", **kwargs)
    x, y, _ = _xy()
    history = model.fit(x, y if dict_outputs else [y["reg"], y["cls"]], epochs=1, verbose=0, validation_data=(
        x, y if dict_outputs else [y["reg"], y["cls"]]))
    assert sorted(history.history) == sorted(keys + [f"val_{k}" for k in keys])


def test_dict_outputs_are_named_by_their_keys():
    model = _model(keys=("zz", "aa"))
    model.compile("sgd", loss={"zz": "mse", "aa": "categorical_crossentropy"}, metrics={"zz": "mae", "aa": "accuracy"})
    x, y, _ = _xy()
    logs = model.evaluate(x, {"zz": y["reg"], "aa": y["cls"]}, verbose=0, return_dict=True)
    assert sorted(logs) == ["aa_accuracy", "aa_loss", "loss", "zz_loss", "zz_mae"]  # Keras 3.15.1's names
    assert model.metrics_names == ["loss", "compile_metrics", "zz_loss", "aa_loss"]


def test_an_output_without_a_loss_is_not_trained_on_and_needs_no_target():
    model = _model()
    model.compile(nr.optimizers.SGD(0.1), loss={"cls": "categorical_crossentropy"})
    x, y, _ = _xy()
    kernel = model.get_layer("reg").get_weights()[0].copy()
    history = model.fit(x, {"cls": y["cls"]}, epochs=1, verbose=0)
    assert sorted(history.history) == ["loss"]  # one loss: no per-output trackers, as Keras
    np.testing.assert_array_equal(model.get_layer("reg").get_weights()[0], kernel)


def test_sample_weights_per_output():
    model = _compiled()
    x, y, w = _xy()
    ones = np.ones_like(w)
    only_reg = model.evaluate(x, y, sample_weight={"reg": w, "cls": ones}, verbose=0, return_dict=True)
    np.testing.assert_allclose(only_reg["reg_loss"], KERAS_EVAL_SW["reg_loss"], rtol=2e-6)
    np.testing.assert_allclose(only_reg["cls_loss"], KERAS_EVAL["cls_loss"], rtol=2e-6)
    with pytest.raises(ValueError, match=r"one sample_weight array for a model with several outputs must hold one "
                                         r"weight per sample \(shape \(samples,\)\), got shape \(10, 3\)"):
        model.evaluate(x, y, sample_weight=np.ones((10, 3), np.float32), verbose=0)


def test_mismatched_structures_are_explained():
    model = _model()
    x, y, _ = _xy()
    with pytest.raises(ValueError, match=r"compile: loss has keys \['score'\] that are not outputs of the model; its "
                                         r"outputs are \['cls', 'reg'\]"):
        model.compile("sgd", loss={"score": "mse"})
    with pytest.raises(ValueError, match=r"compile: loss is a list of 3 entries, but the model has 2 output\(s\)"):
        model.compile("sgd", loss=["mse", "mse", "mse"])
    with pytest.raises(ValueError, match=r"compile: metrics is a list of 1 entries, but the model has 2 output\(s\)"):
        model.compile("sgd", loss="mse", metrics=["mae"])  # Keras refuses it too
    with pytest.raises(ValueError, match=r"compile: metrics must be a list, tuple or dict of metrics, got 'mae' "
                                         r"\(str\); e.g. metrics=\['accuracy'\]"):
        model.compile("sgd", loss="mse", metrics="mae")
    with pytest.raises(ValueError, match=r"compile: loss_weights must be a number, a list or a dict"):
        model.compile("sgd", loss="mse", loss_weights="heavy")
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match=r"fit: the model has 2 outputs \['cls', 'reg'\], but y is a single array of "
                                         r"shape \(10, 1\); pass a list of 2 arrays or a dict keyed by output name"):
        model.fit(x, y["reg"], verbose=0)
    with pytest.raises(ValueError, match=r"fit: y has keys \['score'\] that are not outputs of the model"):
        model.fit(x, {"score": y["reg"]}, verbose=0)
    with pytest.raises(ValueError, match=r"fit: x\['in_a'\] and x\['in_b'\] must have the same number of samples, "
                                         r"got 10 and 9"):
        model.fit({"in_a": x["in_a"], "in_b": x["in_b"][:9]}, y, verbose=0)
    with pytest.raises(ValueError, match=r"fit: y\['cls'\] has dtype <U1"):
        model.fit(x, {"reg": y["reg"], "cls": np.full((10, 3), "a")}, verbose=0)
    with pytest.raises(ValueError, match=r"class_weight is only supported for models with a single output"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)
    assert model.optimizer.iterations == 0


class TwoHeads(nr.Model):
    """A subclassed model returning a list: its outputs are named output_1, output_2."""

    def __init__(self):
        super().__init__()
        self.a, self.b = layers.Dense(1), layers.Dense(2)

    def call(self, x):
        return [self.a(x), self.b(x)]


def test_a_subclassed_model_with_two_outputs_is_built_at_its_first_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype("float32")
    y1, y2 = rng.standard_normal((8, 1)).astype("float32"), rng.standard_normal((8, 2)).astype("float32")
    model = TwoHeads()
    model.compile("sgd", loss=["mse", "mae"], metrics=[["mae"], []])
    assert model.metrics_names == ["loss", "compile_metrics"]
    history = model.fit(x, [y1, y2], epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "output_1_loss", "output_1_mae", "output_2_loss"]
    logs = model.evaluate(x, [y1, y2], verbose=0, return_dict=True)
    out1, out2 = model.predict(x)
    np.testing.assert_allclose(logs["output_2_loss"], np.abs(out2 - y2).mean(), rtol=1e-5)
