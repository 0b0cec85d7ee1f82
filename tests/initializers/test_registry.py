"""The package interface (neurona/initializers/__init__.py): names, aliases, get/serialize/deserialize."""

import json

import numpy as np
import pytest

from neurona import initializers as I

CANONICAL = {
    "zeros": I.Zeros, "ones": I.Ones, "constant": I.Constant, "identity": I.Identity,
    "random_uniform": I.RandomUniform, "random_normal": I.RandomNormal, "truncated_normal": I.TruncatedNormal,
    "variance_scaling": I.VarianceScaling, "lecun_normal": I.LecunNormal, "lecun_uniform": I.LecunUniform,
    "glorot_normal": I.GlorotNormal, "glorot_uniform": I.GlorotUniform, "he_normal": I.HeNormal,
    "he_uniform": I.HeUniform, "orthogonal": I.Orthogonal, "lsuv": I.LSUV,
}
ALIASES = {
    "zero": I.Zeros, "one": I.Ones, "uniform": I.RandomUniform, "normal": I.RandomNormal,
    "xavier_uniform": I.GlorotUniform, "xavier_normal": I.GlorotNormal,
    "kaiming_uniform": I.HeUniform, "kaiming_normal": I.HeNormal,
    "IdentityInitializer": I.Identity, "OrthogonalInitializer": I.Orthogonal,  # Keras 3 class names
}
NAMES = {**CANONICAL, **ALIASES, **{cls.__name__: cls for cls in CANONICAL.values()}}

# One configured instance per class, each with a seed where it takes one, for round trips.
CONFIGURED = [
    I.Zeros(), I.Ones(), I.Constant(-0.75), I.Identity(gain=3.0),
    I.RandomUniform(-0.2, 0.4, seed=1), I.RandomNormal(0.1, 0.3, seed=2), I.TruncatedNormal(-0.2, 0.1, seed=3),
    I.VarianceScaling(0.3, "fan_avg", "untruncated_normal", seed=4),
    I.LecunNormal(seed=5), I.LecunUniform(seed=6), I.GlorotNormal(seed=7), I.GlorotUniform(seed=8),
    I.HeNormal(seed=9), I.HeUniform(seed=10), I.Orthogonal(gain=0.8, seed=11),
    I.LSUV(target_var=2.0, tol=0.05, max_iter=3, seed=12),
]


def test_all_lists_every_class_once():
    assert sorted(cls.__name__ for cls in I.ALL) == sorted(cls.__name__ for cls in CANONICAL.values())
    assert len(set(I.ALL)) == len(I.ALL) == 16


def test_names_are_the_snake_case_names():
    assert I.names() == sorted(CANONICAL)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_by_every_name_and_alias(name):
    init = I.get(name)
    assert type(init) is NAMES[name]
    assert type(I.get(name.upper())) is NAMES[name]  # lookups ignore case


def test_get_returns_fresh_instances():
    assert I.get("he_normal") is not I.get("he_normal")


def test_get_passes_through_none_instances_and_callables():
    init = I.HeNormal(seed=1)
    assert I.get(None) is None
    assert I.get(init) is init

    def my_init(shape, dtype=None):
        return np.full(shape, 0.125, dtype=dtype or "float32")

    assert I.get(my_init) is my_init
    assert I.get(my_init)((2, 2))[0, 0] == 0.125


def test_get_instantiates_a_class():
    assert type(I.get(I.GlorotNormal)) is I.GlorotNormal


def test_get_from_config_dict():
    init = I.get({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out", "seed": 3}})
    assert (init.scale, init.mode, init.distribution, init.seed) == (2.0, "fan_out", "truncated_normal", 3)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown initializer 'he_gaussian'; valid names: constant, glorot_normal"):
        I.get("he_gaussian")


def test_uninterpretable_identifier_is_a_type_error():
    with pytest.raises(TypeError, match="could not interpret initializer identifier 3"):
        I.get(3)


@pytest.mark.parametrize("init", CONFIGURED, ids=[type(i).__name__ for i in CONFIGURED])
def test_config_round_trip_reproduces_draws(init):
    shape = (6, 6)  # square, so Identity and Orthogonal accept it too
    config = json.loads(json.dumps(init.get_config()))  # JSON-safe
    rebuilt = type(init).from_config(config)
    assert rebuilt.get_config() == init.get_config()
    np.testing.assert_array_equal(rebuilt(shape), init(shape))


@pytest.mark.parametrize("init", CONFIGURED, ids=[type(i).__name__ for i in CONFIGURED])
def test_serialize_deserialize_round_trip(init):
    data = json.loads(json.dumps(I.serialize(init)))
    assert data == {"class_name": type(init).__name__, "config": init.get_config()}
    rebuilt = I.deserialize(data)
    assert type(rebuilt) is type(init) and repr(rebuilt) == repr(init)
    np.testing.assert_array_equal(rebuilt((4, 4)), init((4, 4)))


def test_serialize_none_and_deserialize_name():
    assert I.serialize(None) is None
    assert type(I.deserialize("xavier_uniform")) is I.GlorotUniform


def test_serialize_a_lambda_is_refused():
    # a def function is saved by name (tests/saving/test_custom_functions.py); a lambda has no name
    with pytest.raises(ValueError, match=r"cannot serialize initializer .*lambda has no name"):
        I.serialize(lambda shape, dtype=None: np.zeros(shape))


def test_deserialize_rejects_malformed_config():
    with pytest.raises(ValueError, match="initializer config must be a name or a dict with 'class_name'"):
        I.deserialize({"config": {}})


def test_register_makes_a_user_class_serializable(monkeypatch):
    # Work on copies of the registry tables so the test class does not outlive the test.
    monkeypatch.setattr(I._registry, "_by_key", dict(I._registry._by_key))
    monkeypatch.setattr(I._registry, "_canonical", dict(I._registry._canonical))

    @I.register(name="half_ones_for_test")
    class HalfOnesForTest(I.Initializer):
        def generate(self, shape, dtype):
            return np.full(shape, 0.5)

    assert type(I.get("half_ones_for_test")) is HalfOnesForTest
    assert type(I.deserialize(I.serialize(HalfOnesForTest()))) is HalfOnesForTest


@pytest.mark.parametrize("alias, cls", [
    ("zeros", I.Zeros), ("zero", I.Zeros), ("ones", I.Ones), ("one", I.Ones), ("constant", I.Constant),
    ("identity", I.Identity), ("random_uniform", I.RandomUniform), ("uniform", I.RandomUniform),
    ("random_normal", I.RandomNormal), ("normal", I.RandomNormal), ("truncated_normal", I.TruncatedNormal),
    ("variance_scaling", I.VarianceScaling), ("lecun_normal", I.LecunNormal), ("lecun_uniform", I.LecunUniform),
    ("glorot_normal", I.GlorotNormal), ("glorot_uniform", I.GlorotUniform), ("xavier_normal", I.GlorotNormal),
    ("xavier_uniform", I.GlorotUniform), ("he_normal", I.HeNormal), ("he_uniform", I.HeUniform),
    ("kaiming_normal", I.HeNormal), ("kaiming_uniform", I.HeUniform), ("orthogonal", I.Orthogonal),
])
def test_lowercase_module_aliases(alias, cls):
    assert getattr(I, alias) is cls
    assert alias in I.__all__


def test_star_exports_resolve():
    for name in I.__all__:
        assert hasattr(I, name), name
    for name in ("compute_fans", "calculate_gain", "get", "serialize", "deserialize", "ALL"):
        assert name in I.__all__
