"""The input checks the two attention layers share."""


def check_sequences(layer, query, value, key):
    """A ValueError naming the layer unless query, value and key are (batch, steps, features) and key and value
    have the same number of steps."""
    kind = type(layer).__name__
    for name, tensor in (("query", query), ("value", value), ("key", key)):
        if tensor.ndim != 3:
            raise ValueError(f"layer {layer.name!r} ({kind}) expects {name} of shape (batch, steps, features), got "
                             f"shape {tuple(tensor.shape)}")
    if key.shape[1] != value.shape[1]:
        raise ValueError(f"layer {layer.name!r} ({kind}): key and value must have the same number of steps, got "
                         f"{key.shape[1]} and {value.shape[1]}")
