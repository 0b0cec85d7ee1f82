"""Weight initializers, found by name through a registry (Keras names, PyTorch aliases).

>>> from neurona import initializers
>>> w = initializers.HeNormal(seed=0)((784, 128))          # an array on the current device
>>> init = initializers.get("kaiming_uniform")             # same as initializers.HeUniform()
>>> initializers.serialize(initializers.GlorotUniform(seed=1))
{'class_name': 'GlorotUniform', 'config': {'seed': 1}}

Every initializer is a callable ``init(shape, dtype=None) -> array``; ``get``
also accepts any user callable with that signature. Names are looked up
ignoring case and underscores, so ``"he_normal"``, ``"HeNormal"`` and
``"henormal"`` all work.

The lowercase aliases below (``he_normal = HeNormal``, ...) mirror
``keras.initializers``. Three of them (``constant``, ``orthogonal``,
``variance_scaling``) share their name with a submodule of this package and
replace it as a package attribute: import classes from the package
(``from neurona.initializers import Orthogonal``), not from the submodules.
"""

from ..registry import Registry
from .advice import Mismatch, Recommendation, check_initializer, expected_std, recommend
from .base import Initializer, RandomInitializer, calculate_gain, compute_fans
from .constant import Constant, Identity, Ones, Zeros
from .lsuv import LSUV, LSUVReport, lsuv, resolve_pending
from .orthogonal import Orthogonal
from .random import TRUNCATED_NORMAL_STDDEV, RandomNormal, RandomUniform, TruncatedNormal
from .variance_scaling import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    VarianceScaling,
)

#: Every initializer class, in the order of the docs.
ALL = [
    Zeros, Ones, Constant, Identity,
    RandomUniform, RandomNormal, TruncatedNormal,
    VarianceScaling, LecunNormal, LecunUniform, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
    Orthogonal, LSUV,
]

# Extra names beyond each class's own name and its snake_case form. "*_initializer"
# are Keras 3's class names (IdentityInitializer, OrthogonalInitializer), so Keras
# configs load.
_ALIASES = {
    Zeros: ("zero",),
    Ones: ("one",),
    Identity: ("identity_initializer",),
    RandomUniform: ("uniform",),
    RandomNormal: ("normal",),
    GlorotNormal: ("xavier_normal",),
    GlorotUniform: ("xavier_uniform",),
    HeNormal: ("kaiming_normal",),
    HeUniform: ("kaiming_uniform",),
    Orthogonal: ("orthogonal_initializer",),
}

_registry = Registry("initializer")
for _cls in ALL:
    _registry.register(_cls, aliases=_ALIASES.get(_cls, ()))
del _cls


def get(identifier):
    """Resolve an initializer identifier.

    Args:
        identifier: ``None``; a name (``"he_normal"``, ``"HeNormal"``, ``"kaiming_normal"``);
            a config dict ``{"class_name": ..., "config": {...}}``; an initializer class
            (instantiated with its defaults); an initializer object; or any callable
            ``(shape, dtype) -> array`` (returned as is).

    Returns:
        An initializer (or the given callable), or ``None`` for ``None``.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones).
        TypeError: for anything else.
    """
    return _registry.get(identifier)


def serialize(initializer):
    """``{"class_name": ..., "config": initializer.get_config()}`` (JSON-safe); ``None`` for ``None``.

    A custom function ``(shape, dtype) -> array`` or an instance of an unregistered class is saved in
    Keras's layout (``module``, ``class_name``, ``config``, ``registered_name``) and found when loading
    through ``custom_objects`` (see ``neurona.registry``); a lambda is refused.
    """
    return _registry.serialize(initializer)


def deserialize(config):
    """Inverse of ``serialize``; also accepts a name."""
    return _registry.deserialize(config)


def names():
    """The canonical (snake_case) initializer names, sorted."""
    return _registry.names()


def register(cls=None, *, name=None, aliases=()):
    """Register a user initializer class so ``get``/``deserialize`` find it by name (usable as a decorator)."""
    return _registry.register(cls, name=name, aliases=aliases)


# Keras-style lowercase aliases (``keras.initializers.he_normal is HeNormal``) and PyTorch names.
zeros, zero, ones, one = Zeros, Zeros, Ones, Ones
constant, identity = Constant, Identity
random_uniform, uniform, random_normal, normal, truncated_normal = (
    RandomUniform, RandomUniform, RandomNormal, RandomNormal, TruncatedNormal,
)
variance_scaling = VarianceScaling
lecun_normal, lecun_uniform = LecunNormal, LecunUniform
glorot_normal, glorot_uniform, xavier_normal, xavier_uniform = GlorotNormal, GlorotUniform, GlorotNormal, GlorotUniform
he_normal, he_uniform, kaiming_normal, kaiming_uniform = HeNormal, HeUniform, HeNormal, HeUniform
orthogonal = Orthogonal

__all__ = [
    "Initializer", "RandomInitializer", *(cls.__name__ for cls in ALL),
    "ALL", "TRUNCATED_NORMAL_STDDEV", "compute_fans", "calculate_gain",
    "get", "serialize", "deserialize", "names", "register",
    "recommend", "check_initializer", "Recommendation", "Mismatch", "expected_std",
    "zeros", "zero", "ones", "one", "constant", "identity",
    "random_uniform", "uniform", "random_normal", "normal", "truncated_normal", "variance_scaling",
    "lecun_normal", "lecun_uniform", "glorot_normal", "glorot_uniform", "xavier_normal", "xavier_uniform",
    "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform", "orthogonal",
    "lsuv", "LSUVReport", "resolve_pending",
]
