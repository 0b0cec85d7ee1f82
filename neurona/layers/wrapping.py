"""What layers that hold another layer share (TimeDistributed, Bidirectional, the compression wrappers)."""

from ..registry import snake_case
from .base import Layer


def prefix_weights(owner, *inner):
    """Name the inner layers' weights by their path under ``owner`` (``bidirectional/forward_lstm/...``)."""
    for layer in inner:
        for weight in layer.weights:
            if not weight.name.startswith(f"{owner.name}/"):
                weight.name = f"{owner.name}/{weight.name}"


def layer_from(entry, what, dtype=None):
    """A layer, or one rebuilt from its serialized entry (taking the wrapper's ``dtype`` unless it states one)."""
    from . import deserialize  # the registry of layers sits in the package above this module

    if isinstance(entry, dict):
        config = dict(entry.get("config") or {})
        if dtype is not None and "dtype" not in config:
            config["dtype"] = dtype
        if not config.get("name") and isinstance(entry.get("class_name"), str):
            config["name"] = snake_case(entry["class_name"])  # equal configs give equal layers
        return deserialize({**entry, "config": config})
    if not isinstance(entry, Layer):
        raise TypeError(f"{what} must be a layer (or a serialized one), got {entry!r}")
    return entry
