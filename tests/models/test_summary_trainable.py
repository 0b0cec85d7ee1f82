"""summary(show_trainable=True): Keras's "Trainable" column, Y / N per layer and - for a layer without weights.

The expected marks are Keras 3.15's: ``keras.Model`` of Input -> Dense(2) -> Activation("relu") ->
Dense(3, trainable=False), printed with ``summary(show_trainable=True)``, shows ``-``, ``Y``, ``-``, ``N``.
"""

import pytest

import neurona as nr
from neurona import layers
from neurona.models.summary import summary_text


def marks(text):
    """``{layer name: last cell of its row}`` from the table, and the header line."""
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Layer (type)"))
    rows = {line.split()[0]: line.split()[-1] for line in lines if "(" in line and line.split()[1].startswith("(")
            and not line.startswith(("Layer", "Model"))}
    return header, rows


def keras_example():
    x = nr.Input((4,), name="x")
    hidden = layers.Activation("relu", name="act")(layers.Dense(2, name="d")(x))
    return nr.Model(x, layers.Dense(3, trainable=False, name="f")(hidden))


def test_model_summary_shows_the_trainable_column():
    lines = []
    keras_example().summary(print_fn=lines.append, show_trainable=True)
    header, rows = marks("\n".join(lines))
    assert header.split()[-1] == "Trainable"
    assert rows == {"x": "-", "d": "Y", "act": "-", "f": "N"}  # as Keras prints them


def test_the_column_follows_the_connections_and_is_absent_by_default():
    model = keras_example()
    header, rows = marks(summary_text(model, show_trainable=True))
    assert header.index("Connected to") < header.index("Trainable")
    assert rows == {"x": "-", "d": "Y", "act": "-", "f": "N"}
    assert "Trainable" not in summary_text(model).splitlines()[2]
    assert "Trainable" not in summary_text(model, show_trainable=False).splitlines()[2]


def test_sequential_and_nested_models():
    base = nr.Sequential([layers.Input((3,)), layers.Dense(4, name="b1"), layers.Dense(4, name="b2")], name="base")
    base.trainable = False
    model = nr.Sequential([layers.Input((3,)), base, layers.Flatten(name="flat"), layers.Dense(1, name="top")])
    header, rows = marks(summary_text(model, show_trainable=True, expand_nested=True))
    assert header.split()[-1] == "Trainable"
    assert rows == {"base": "N", "b1": "N", "b2": "N", "flat": "-", "top": "Y"}
    base.get_layer("b2").trainable = True  # each layer's own flag (Keras 3.15 prints this same column)
    assert marks(summary_text(model, show_trainable=True, expand_nested=True))[1] == \
        {"base": "N", "b1": "N", "b2": "Y", "flat": "-", "top": "Y"}


def test_show_trainable_must_be_a_bool():
    with pytest.raises(TypeError, match="show_trainable must be True or False, got 'yes'"):
        summary_text(keras_example(), show_trainable="yes")
