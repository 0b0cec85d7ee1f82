"""summary(): the "Initialization advice:" block below the table, one line per mismatched kernel initializer."""

import numpy as np

import neurona as nr
from neurona import layers
from neurona.initializers.advice import check_initializer
from neurona.models.summary import advice_lines, summary_text

HEADER = "Initialization advice:"


def advice(model, **kwargs):
    """The advice lines of the summary text (empty when there is no block), after checking it is at the end."""
    lines = summary_text(model, **kwargs).splitlines()
    if HEADER not in lines:
        return []
    at = lines.index(HEADER)
    assert lines[at - 1].startswith("=") and lines[at - 2].startswith("Non-trainable params")  # below the totals
    return lines[at + 1:]


def mlp(*hidden):
    return nr.Sequential([layers.Input((8,)), *hidden, layers.Dense(3, activation="softmax", name="out")])


def test_relu_with_glorot_is_flagged_with_its_reason():
    lines = advice(mlp(layers.Dense(16, activation="relu", name="dense_3")))
    reason = check_initializer("relu", "glorot_uniform").reason
    assert lines == [f"  dense_3: relu with GlorotUniform -> suggest he_normal: {reason}"]
    assert "He et al., 2015" in reason


def test_relu_with_he_normal_prints_no_block():
    model = mlp(layers.Dense(16, activation="relu", kernel_initializer="he_normal"))
    assert HEADER not in summary_text(model)
    collected = []
    model.summary(print_fn=collected.append)
    assert HEADER not in collected[0] and collected[0].rstrip().endswith("=")


def test_tanh_with_he_and_selu_with_glorot_are_flagged():
    model = mlp(layers.Dense(16, activation="tanh", kernel_initializer="he_uniform", name="t"),
                layers.Dense(16, activation="selu", name="s"),
                layers.Dense(16, activation="selu", kernel_initializer="lecun_normal", name="fine"))
    lines = advice(model)
    assert [line.split(" -> ")[0] for line in lines] == ["  t: tanh with HeUniform", "  s: selu with GlorotUniform"]
    assert lines[0].split(" -> ")[1].startswith("suggest glorot_uniform: He's Var(W) = 2 / fan_in")
    assert "suggest lecun_normal" in lines[1] and "Klambauer et al., 2017" in lines[1]


def test_an_activation_layer_after_a_linear_kernel_layer_is_what_the_kernel_feeds():
    model = mlp(layers.Dense(16, name="d"), layers.Activation("relu", name="act"),
                layers.Dense(16, kernel_initializer="he_normal", name="ok"), layers.Activation("relu"),
                layers.Dense(16, name="lin"), layers.Activation("softmax"))
    assert [line.split(":")[0] for line in advice(model)] == ["  d"]
    assert "relu with GlorotUniform -> suggest he_normal" in advice(model)[0]
    # a kernel layer with an activation of its own keeps it, whatever follows
    assert advice(mlp(layers.Dense(16, activation="tanh", kernel_initializer="he_normal", name="own"),
                      layers.Activation("relu")))[0].startswith("  own: tanh with HeNormal")


def test_functional_and_conv_models():
    x = nr.Input((8, 8, 3))
    h = layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    h = layers.Dense(5, kernel_initializer="he_normal", name="pre")(layers.Flatten()(h))
    model = nr.Model(x, layers.Dense(2, activation="sigmoid", name="head")(layers.Activation("relu")(h)))
    assert [line.split(":")[0] for line in advice(model)] == ["  conv"]


def test_nested_models_are_checked_whether_expanded_or_not():
    inner = nr.Sequential([layers.Input((8,)), layers.Dense(4, activation="tanh", kernel_initializer="he_normal",
                                                            name="t")], name="inner")
    model = nr.Sequential([layers.Input((8,)), inner, layers.Dense(2, activation="gelu", name="top")], name="mid")
    expected = ["  inner/t: tanh with HeNormal", "  top: gelu with GlorotUniform"]
    assert [line.split(" -> ")[0] for line in advice(model)] == expected
    assert [line.split(" -> ")[0] for line in advice(model, expand_nested=True)] == expected
    outer = nr.Sequential([layers.Input((8,)), model], name="outer")  # two levels deep
    assert [line.split(" -> ")[0] for line in advice_lines(outer)] == \
        ["  mid/inner/t: tanh with HeNormal", "  mid/top: gelu with GlorotUniform"]


def _tenths(shape, dtype=None):
    return np.full(shape, 0.1, dtype or "float32")


def test_custom_activations_and_initializers_are_not_judged():
    model = mlp(layers.Dense(4, activation=lambda t: t * 2, name="custom_act"),
                layers.Dense(4, activation="relu", kernel_initializer=_tenths, name="custom_init"))
    assert advice(model) == []


class _OddLayer(nr.Layer):
    """A user layer whose ``activation`` and ``kernel_initializer`` attributes are no activation or initializer."""

    activation, kernel_initializer = "a mode of its own", 3

    def call(self, inputs, training=None):
        return inputs


def test_a_user_layer_with_unreadable_attributes_gets_no_advice_and_no_error():
    model = mlp(_OddLayer(name="odd"), layers.Dense(4, activation="relu", name="r"))
    assert [line.split(":")[0] for line in advice(model)] == ["  r"]
