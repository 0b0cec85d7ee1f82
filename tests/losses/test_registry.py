"""Finding losses by name, serializing them and reading them back."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import losses


@pytest.mark.parametrize(
    "name, cls",
    [
        ("mse", losses.MeanSquaredError), ("MSE", losses.MeanSquaredError),
        ("mean_squared_error", losses.MeanSquaredError), ("MeanSquaredError", losses.MeanSquaredError),
        ("mae", losses.MeanAbsoluteError), ("mean_absolute_error", losses.MeanAbsoluteError),
        ("binary_crossentropy", losses.BinaryCrossentropy), ("BinaryCrossentropy", losses.BinaryCrossentropy),
        ("categorical_crossentropy", losses.CategoricalCrossentropy),
        ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
        ("SparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy),
    ],
)
def test_names_give_fresh_loss_objects(name, cls):
    first, second = losses.get(name), losses.get(name)
    assert type(first) is cls and first is not second


def test_get_passes_objects_and_callables_through():
    loss = losses.BinaryCrossentropy(from_logits=True)
    assert losses.get(loss) is loss
    assert losses.get(losses.mean_absolute_error) is losses.mean_absolute_error
    assert losses.get(None) is None
    assert type(losses.get(losses.MeanAbsoluteError)) is losses.MeanAbsoluteError


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown loss 'no_such_loss'; valid names: .*categorical_crossentropy"):
        losses.get("no_such_loss")


@pytest.mark.parametrize("cls", losses.ALL)
def test_serialize_round_trip(cls):
    loss = cls(reduction="sum")
    config = losses.serialize(loss)
    assert config["class_name"] == cls.__name__
    clone = losses.deserialize(json.loads(json.dumps(config)))
    assert type(clone) is cls and clone.get_config() == loss.get_config()


def test_functions_serialize_to_their_names():
    for fn, name in losses.FUNCTIONS.items():
        assert losses.serialize(fn) == name
        clone = losses.deserialize(name)
        y_true, y_pred = np.eye(3)[[0, 1]], nr.Tensor(np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]]))
        if name.startswith("sparse"):
            y_true = np.array([0, 1])
        np.testing.assert_allclose(clone(y_true, y_pred).item(), fn(y_true, y_pred).numpy().mean(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"cannot serialize loss .*lambda has no name .*define it with def"):
        losses.serialize(lambda y_true, y_pred: y_pred)
