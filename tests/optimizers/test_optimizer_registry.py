"""``neurona.optimizers.get/serialize/deserialize``: names in any case, classes, configs, errors."""

import pytest

from neurona import optimizers
from neurona.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop


@pytest.mark.parametrize("name, cls", [
    ("sgd", SGD), ("SGD", SGD), ("adam", Adam), ("Adam", Adam), ("ADAM", Adam), ("adamw", AdamW),
    ("AdamW", AdamW), ("adam_w", AdamW), ("rmsprop", RMSprop), ("RMSprop", RMSprop), ("rms_prop", RMSprop),
    ("adagrad", Adagrad), ("Adagrad", Adagrad), ("ada_grad", Adagrad), ("adadelta", Adadelta),
    ("AdaDelta", Adadelta),
])
def test_names_in_any_case(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls().get_config()  # a default instance


def test_canonical_names():
    assert optimizers.names() == ["adadelta", "adafactor", "adagrad", "adam", "adamax", "adamw", "ftrl", "lamb",
                                  "lion", "nadam", "rmsprop", "sgd"]


def test_instances_classes_and_configs():
    opt = Adam(learning_rate=0.01)
    assert optimizers.get(opt) is opt
    assert type(optimizers.get(RMSprop)) is RMSprop
    from_dict = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.2, "momentum": 0.5}})
    assert (type(from_dict), from_dict.learning_rate, from_dict.momentum) == (SGD, 0.2, 0.5)
    assert optimizers.deserialize("adagrad").get_config() == Adagrad().get_config()
    assert optimizers.serialize(opt) == {"class_name": "Adam", "config": opt.get_config()}


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown optimizer 'adamix'; valid names: adadelta, adafactor, adagrad, adam"):
        optimizers.get("adamix")


@pytest.mark.parametrize("bad", [123, lambda step: 0.1])
def test_non_optimizers_are_rejected(bad):
    with pytest.raises(TypeError, match="optimizer"):
        optimizers.get(bad)
