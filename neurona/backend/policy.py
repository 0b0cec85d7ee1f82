"""Dtype policies: the dtype a layer stores its weights in, and the dtype it computes in (Keras's DTypePolicy).

Mixed precision (Micikevicius et al. 2018, "Mixed precision training") keeps a float32 master copy of every
weight, and of the optimizer state, and runs the forward and backward passes in a 16-bit float:

- ``"mixed_float16"``: compute in float16 (5 exponent bits: values beyond 65504 overflow to inf, gradients
  below 6e-8 flush to zero, hence the loss scaling of ``optimizers.LossScaleOptimizer``);
- ``"mixed_bfloat16"``: compute in bfloat16 (float32's 8 exponent bits, 7 mantissa bits: float32's range,
  so no loss scaling; Kalamkar et al. 2019);
- a plain dtype name (``"float32"``, ``"float64"``, ``"float16"``, ``"bfloat16"``): both the same.

A layer takes the global policy when it is constructed (``set_policy`` then applies to the layers made
after it, as in Keras) unless its ``dtype=`` names one. The policy is read by ``Layer``; this module only
names and checks them.
"""

from . import dtypes

MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


class Policy:
    """A dtype policy: ``Policy("mixed_float16")``, ``Policy("float32")``.

    Attributes:
        name: the policy's name.
        compute_dtype: the dtype of the layer's computations (and outputs) as a name, e.g. ``"float16"``.
        variable_dtype: the dtype of the layer's weights, e.g. ``"float32"``.
    """

    __slots__ = ("name", "compute_dtype", "variable_dtype")

    def __init__(self, name):
        if isinstance(name, Policy):
            name = name.name
        if name is None:
            raise TypeError("a dtype policy needs a name such as 'mixed_float16' or 'float32', got None")
        if name in MIXED:
            compute, variable = MIXED[name], "float32"
        else:
            try:  # a plain dtype: a name, a dtype object or a NumPy type ("int64" for an Input of ids)
                resolved = dtypes.as_dtype(name)
            except TypeError:
                raise ValueError(f"unknown dtype policy {name!r}: expected a dtype name such as 'float32' or one "
                                 f"of {', '.join(repr(n) for n in MIXED)}") from None
            if resolved.kind not in "biuf" and not dtypes.is_bfloat16(resolved):
                raise ValueError(f"dtype policy {name!r}: {resolved.name!r} is not a float, integer or bool dtype")
            compute = variable = name = resolved.name
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "compute_dtype", compute)
        object.__setattr__(self, "variable_dtype", variable)

    def __setattr__(self, key, value):
        raise AttributeError("a dtype policy is immutable: make a new one")

    @property
    def is_mixed(self):
        """Whether the computations run in another dtype than the weights are stored in."""
        return self.compute_dtype != self.variable_dtype

    def __eq__(self, other):
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f'<Policy "{self.name}">'

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(config["name"])


_policy = None  # None: floatx()'s plain policy (process-wide, as Keras's global policy)


def global_policy():
    """The policy that layers take when they are made without a ``dtype`` (``floatx()`` unless one was set)."""
    return _policy or Policy(dtypes.floatx())


def set_policy(policy):
    """Set the global dtype policy: ``set_policy("mixed_float16")``; ``None`` goes back to ``floatx()``.

    It applies to layers constructed afterwards (a built model keeps its layers' policies).
    """
    policy = None if policy is None else Policy(policy)
    if policy is not None and dtypes.is_bfloat16(policy.compute_dtype):
        dtypes.bfloat16()  # the ImportError naming ml_dtypes now, not at the first layer call
    global _policy
    _policy = policy
    return policy


def get(value):
    """The Policy of a layer's ``dtype=`` argument: None (the global policy), a name, a dtype, a Policy, or
    Keras's ``{"class_name": "DTypePolicy", "config": {"name": ...}}``."""
    if value is None:
        return global_policy()
    if isinstance(value, dict):
        config = value.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("name"), str):
            raise ValueError(f"a dtype policy dict needs {{'config': {{'name': ...}}}}, got {value!r}")
        return Policy(config["name"])
    return Policy(value)
