"""Every optimizer refuses bad hyperparameters at construction, naming itself, the argument and the value.

The bounds follow PyTorch's torch.optim and Keras 3 (see each class's docstring); in addition an epsilon that
guards a denominator must be > 0 (with 0, a weight whose gradients are all zero divides 0 by 0).
"""

import math
import re

import numpy as np
import pytest

import neurona as nr
from neurona.optimizers import SGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, Ftrl, Lamb, Lion, Nadam, RMSprop

ALL = [SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Nadam, Adamax, Lion, Ftrl, Lamb, Adafactor]
WITH_EPSILON = [Adam, AdamW, RMSprop, Adagrad, Adadelta, Nadam, Adamax, Lamb]

BAD = [  # (classes, argument, value, expected message after "<Class>: ")
    (WITH_EPSILON, "epsilon", 0, "epsilon must be > 0, got 0.0"),
    (WITH_EPSILON, "epsilon", -1e-8, "epsilon must be > 0, got -1e-08"),
    (WITH_EPSILON, "epsilon", math.nan, "epsilon must be > 0, got nan"),
    (ALL, "learning_rate", -0.1, "learning_rate must be >= 0, got -0.1"),
    (ALL, "learning_rate", math.inf, "learning_rate must be >= 0, got inf"),
    (ALL, "weight_decay", -1e-4, "weight_decay must be >= 0, got -0.0001"),
    (ALL, "clipnorm", 0.0, "clipnorm must be > 0, got 0.0"),
    ([Adam, AdamW], "beta_1", 1.0, r"beta_1 must be in [0, 1), got 1.0"),
    ([Adam, AdamW], "beta_1", -0.1, r"beta_1 must be in [0, 1), got -0.1"),
    ([Adam, AdamW], "beta_2", 1.5, r"beta_2 must be in [0, 1), got 1.5"),
    ([RMSprop, Adadelta], "rho", 1.0, r"rho must be in [0, 1), got 1.0"),
    ([RMSprop, Adadelta], "rho", -0.5, r"rho must be in [0, 1), got -0.5"),
    ([SGD, RMSprop], "momentum", 1.5, r"momentum must be in [0, 1], got 1.5"),
    ([SGD, RMSprop], "momentum", -0.1, r"momentum must be in [0, 1], got -0.1"),
    ([Adagrad], "initial_accumulator_value", -0.1, "initial_accumulator_value must be >= 0, got -0.1"),
]
CASES = [(cls, arg, value, message) for classes, arg, value, message in BAD for cls in classes]


@pytest.mark.parametrize("cls, arg, value, message", CASES,
                         ids=[f"{c.__name__}-{a}={v}" for c, a, v, _ in CASES])
def test_out_of_range_values_raise_value_error_naming_optimizer_argument_and_value(cls, arg, value, message):
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__}: {message}")):
        cls(**{arg: value})


@pytest.mark.parametrize("cls", ALL)
def test_values_that_are_not_numbers_raise_type_error(cls):
    with pytest.raises(TypeError, match=re.escape(f"{cls.__name__}: learning_rate must be a number, got '0.1' (str)")):
        cls(learning_rate="0.1")
    with pytest.raises(TypeError, match=re.escape(f"{cls.__name__}: clipvalue must be a number, got True (bool)")):
        cls(clipvalue=True)


@pytest.mark.parametrize("cls, flag", [(SGD, "nesterov"), (Adam, "amsgrad"), (AdamW, "amsgrad"), (RMSprop, "centered")])
def test_boolean_flags_must_be_booleans(cls, flag):
    # bool("False") is True: a string flag would silently switch the variant on
    kwargs = {"momentum": 0.9} if cls is SGD else {}
    with pytest.raises(TypeError, match=re.escape(f"{cls.__name__}: {flag} must be True or False, got 'False' (str)")):
        cls(**kwargs, **{flag: "False"})
    assert getattr(cls(**kwargs, **{flag: np.bool_(True)}), flag) is True


def test_nesterov_without_momentum_is_plain_gradient_descent_as_in_keras():
    # Keras 3 accepts SGD(nesterov=True) with its default momentum 0 (PyTorch refuses); ported programs must run
    w = nr.Variable(np.array([1.0]))
    w.grad = np.array([0.5])
    SGD(learning_rate=0.1, nesterov=True).apply([w])
    np.testing.assert_allclose(w.numpy(), [0.95])


@pytest.mark.parametrize("cls", ALL)
def test_defaults_numpy_scalars_schedules_and_config_round_trips_are_accepted(cls):
    opt = cls()
    assert type(opt).from_config(opt.get_config()).get_config() == opt.get_config()
    assert cls(learning_rate=np.float32(0.5)).learning_rate == 0.5
    assert cls(learning_rate=0.0).learning_rate == 0.0  # a frozen step is legitimate (PyTorch accepts it too)
    schedule = nr.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert cls(learning_rate=schedule).learning_rate == 0.1


def test_tiny_positive_epsilon_is_accepted():
    for cls in WITH_EPSILON:
        assert cls(epsilon=1e-300).epsilon == 1e-300
