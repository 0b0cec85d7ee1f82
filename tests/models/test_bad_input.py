"""fit / evaluate / predict refuse empty data, data that is not numbers and mistyped arguments, naming them."""

import re

import numpy as np
import pytest

from neurona import layers, models


def _model():
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=8):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 4)).astype(np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


# ---- defect 14: empty data ------------------------------------------------------------------------------
def test_empty_data_is_refused_by_fit_evaluate_and_predict():
    x, y = np.zeros((0, 4), np.float32), np.zeros((0, 3), np.float32)
    model = _model()
    with pytest.raises(ValueError, match=r"fit: x is empty \(shape \(0, 4\)\); expected at least one sample"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: x is empty \(shape \(0, 4\)\)"):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"predict: x is empty \(shape \(0, 4\)\)"):
        model.predict(x)
    x1, y1 = _data()
    with pytest.raises(ValueError, match=r"fit: y is empty \(shape \(0, 3\)\)"):
        model.fit(x1, y, verbose=0)
    assert model.optimizer.iterations == 0


def test_empty_validation_data_and_empty_splits_are_refused():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match=r"fit: validation x is empty \(shape \(0, 4\)\)"):
        model.fit(x, y, validation_data=(x[:0], y[:0]), verbose=0)
    with pytest.raises(ValueError, match=r"fit: validation y is empty"):
        model.fit(x, y, validation_data=(x, y[:0]), verbose=0)
    with pytest.raises(ValueError, match=r"validation_split=0.1 of 8 samples leaves 0 validation and 8 training "
                                         r"samples: the validation split would be empty"):
        model.fit(x, y, validation_split=0.1, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split=0.5 of 1 samples leaves 0 validation"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)
    assert model.optimizer.iterations == 0


# ---- defect 15: dtypes at the entry points -------------------------------------------------------------
NOT_NUMBERS = {
    "text strings": np.full((8, 4), "1.5"),
    "bytes": np.full((8, 4), b"1.5"),
    "Python objects": np.ones((8, 4), dtype=object),
    "complex numbers": np.ones((8, 4), dtype=np.complex64),
    "datetimes": np.full((8, 4), np.datetime64("2024-01-01", "s")),
    "time deltas": np.full((8, 4), np.timedelta64(3, "s")),
}


@pytest.mark.parametrize("held", list(NOT_NUMBERS))
def test_inputs_that_are_not_numbers_are_refused_naming_dtype_and_argument(held):
    bad = NOT_NUMBERS[held]
    x, y = _data()
    model = _model()
    dtype = re.escape(str(bad.dtype))
    expected = rf"has dtype {dtype}, which holds {held}.*expected a float, integer or bool array"
    with pytest.raises(ValueError, match=rf"fit: x {expected}"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match=rf"evaluate: x {expected}"):
        model.evaluate(bad, y, verbose=0)
    with pytest.raises(ValueError, match=rf"predict: x {expected}"):
        model.predict(bad)
    bad_y = bad[:, :3]
    with pytest.raises(ValueError, match=rf"fit: y {expected}"):
        model.fit(x, bad_y, verbose=0)
    with pytest.raises(ValueError, match=rf"fit: validation x {expected}"):
        model.fit(x, y, validation_data=(bad, y), verbose=0)
    with pytest.raises(ValueError, match=rf"fit: validation y {expected}"):
        model.fit(x, y, validation_data=(x, bad_y), verbose=0)
    assert model.optimizer.iterations == 0


def test_complex_input_no_longer_gives_complex_predictions():
    with pytest.raises(ValueError, match="complex numbers.*real and imaginary parts as separate"):
        _model().predict(np.ones((2, 4), dtype=np.complex128))


def test_integer_bool_and_list_inputs_still_work():
    x, y = _data()
    model = _model()
    assert model.predict((x > 0).astype(np.int64)).dtype == np.float32
    assert model.predict(x > 0).shape == (8, 3)
    assert model.predict(x.tolist()).shape == (8, 3)
    model.fit(np.round(x).astype(np.int32), y.astype(np.uint8), verbose=0)  # int features, one-hot uint8 labels
    assert model.optimizer.iterations == 1


def test_ragged_lists_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"predict: x \(list\) cannot be made into an array: .*inhomogeneous.*; "
                                         r"expected an array or nested lists of numbers of one shape"):
        _model().predict([[1.0, 2.0, 3.0, 4.0], [1.0]])


# ---- defect 15: epochs, initial_epoch, batch_size, validation_split, shuffle ----------------------------------
def test_numpy_integers_are_accepted_for_epochs_initial_epoch_and_batch_size():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=np.int64(3), initial_epoch=np.int32(1), batch_size=np.int16(4), verbose=0)
    assert history.epoch == [1, 2] and model.optimizer.iterations == 4
    assert len(model.predict(x, batch_size=np.uint8(3))) == 8


@pytest.mark.parametrize("name, value, message", [
    ("epochs", 2.0, r"fit: epochs must be an integer >= 1, got 2.0 \(float\)"),
    ("epochs", "3", r"fit: epochs must be an integer >= 1, got '3' \(str\)"),
    ("epochs", True, r"fit: epochs must be an integer >= 1, got True \(bool\)"),
    ("epochs", np.float64(2), r"fit: epochs must be an integer >= 1, got .*2\.0.* \(float64\)"),
    ("epochs", 0, r"fit: epochs must be an integer >= 1, got 0"),
    ("initial_epoch", 1.0, r"fit: initial_epoch must be an integer >= 0, got 1.0 \(float\)"),
    ("initial_epoch", -1, r"fit: initial_epoch must be an integer >= 0, got -1"),
    ("initial_epoch", 5, r"fit: need initial_epoch < epochs, got initial_epoch=5, epochs=2"),
    ("batch_size", 4.0, r"fit: batch_size must be a positive integer, got 4.0 \(float\)"),
    ("batch_size", np.bool_(True), r"fit: batch_size must be a positive integer, got .*True.* \(bool"),
    ("validation_split", "0.1", r"fit: validation_split must be a number in \[0, 1\), got '0.1' \(str\)"),
    ("validation_split", True, r"fit: validation_split must be a number in \[0, 1\), got True \(bool\)"),
    ("shuffle", "false", r"fit: shuffle must be True or False, got 'false' \(str\)"),
    ("validation_data", ([0.0],), r"fit: validation_data must be a tuple \(x_val, y_val\), got a tuple of length 1"),
])
def test_mistyped_fit_arguments_are_explained(name, value, message):
    x, y = _data()
    model = _model()
    kwargs = {"epochs": 2, name: value}
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0, **kwargs)
    assert model.optimizer.iterations == 0


def test_numpy_float_validation_split_is_accepted():
    x, y = _data(n=10)
    history = _model().fit(x, y, validation_split=np.float32(0.2), verbose=0)
    assert "val_loss" in history.history


# ---- defect 5 (fault probe): verbose is "auto", 0, 1 or 2; print_fn must be callable ---------------------------
@pytest.mark.parametrize("verbose", [5, -1, "loud", True, 1.0, None], ids=repr)
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_verbose_must_be_auto_0_1_or_2(method, verbose):
    x, y = _data()
    model = _model()
    call = {"fit": lambda: model.fit(x, y, verbose=verbose), "evaluate": lambda: model.evaluate(x, y, verbose=verbose),
            "predict": lambda: model.predict(x, verbose=verbose)}[method]
    message = rf"{method}: verbose must be 'auto', 0, 1 or 2, got {re.escape(repr(verbose))} " \
              rf"\({type(verbose).__name__}\)"
    with pytest.raises(ValueError, match=message):
        call()
    assert model.optimizer.iterations == 0


def test_numpy_integer_verbose_is_accepted(capsys):
    x, y = _data()
    model = _model()
    model.fit(x, y, verbose=np.int64(0))
    model.evaluate(x, y, verbose=np.int32(0))
    model.predict(x, verbose=np.uint8(0))
    assert capsys.readouterr().out == ""


def test_summary_refuses_a_print_fn_that_is_not_callable(capsys):
    with pytest.raises(TypeError, match=r"summary: print_fn must be a function .*, got 3 \(int\)"):
        _model().summary(print_fn=3)
    lines = []
    _model().summary(print_fn=lines.append)
    assert "Total params: 15" in lines[0] and capsys.readouterr().out == ""


# ---- defect 1 (fault probe): flags of Model are real bools -------------------------------------------------------
def test_return_dict_and_training_must_be_bools():
    x, y = _data()
    model = _model()
    with pytest.raises(TypeError, match=r"evaluate: return_dict must be True or False, got 'yes' \(str\)"):
        model.evaluate(x, y, verbose=0, return_dict="yes")
    assert set(model.evaluate(x, y, verbose=0, return_dict=np.bool_(True))) == {"loss", "accuracy"}
    with pytest.raises(TypeError, match=r"training must be True, False or None, got 'no' \(str\)"):
        model(x, training="no")
    assert model(x, training=np.bool_(False)).shape == (8, 3)


# ---- defect 6 (fault probe): NaN or inf inputs to evaluate and predict ----------------------------------------
def test_evaluate_and_predict_refuse_non_finite_inputs_naming_the_first():
    x, y = _data()
    x[5, 2], x[6, 0] = np.nan, np.inf
    model = _model()
    pattern = r"{}: {} holds 2 non-finite value\(s\) \(NaN or inf\), the first at {}\[5, 2\] = nan; expected finite"
    with pytest.raises(ValueError, match=pattern.format("evaluate", "x", "x")):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match=pattern.format("predict", "x", "x")):
        model.predict(x)
    x, y = _data()
    y[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"evaluate: y holds 1 non-finite value\(s\) .* the first at y\[1, 0\] = nan"):
        model.evaluate(x, y, verbose=0)
    assert model.predict(np.ones((2, 4), np.int64)).shape == (2, 3)  # integers are always finite
