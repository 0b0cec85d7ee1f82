"""Reading and setting a model's learning rate from a callback, with errors that say what is wrong."""


def _optimizer(model, owner):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise RuntimeError(f"{owner} needs a compiled model with an optimizer, got {model!r}")
    return optimizer


def current_learning_rate(model, owner):
    """The learning rate of the model's optimizer for its next step, as a Python float."""
    return float(_optimizer(model, owner).learning_rate)


def set_learning_rate(model, value, owner):
    """Set the optimizer's learning rate to the float ``value``.

    Raises:
        TypeError: if the optimizer follows a learning-rate schedule, which a
            constant would silently replace (Keras refuses this too).
    """
    optimizer = _optimizer(model, owner)
    if getattr(optimizer, "schedule", None) is not None:
        raise TypeError(f"{owner} cannot set the learning rate of {type(optimizer).__name__}: it follows the "
                        f"schedule {optimizer.schedule!r}. Use a constant learning rate with {owner}, or only "
                        "the schedule")
    optimizer.learning_rate = float(value)
