"""The functional API: symbolic inputs, graphs of layers, shared layers, feature extractors, graph errors."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers


@pytest.fixture
def float64():
    nr.set_floatx("float64")
    yield
    nr.set_floatx("float32")


def test_input_is_symbolic_with_shape_and_dtype():
    x = nr.Input((28, 28, 1), name="pixels")
    assert x.shape == (None, 28, 28, 1) and x.dtype == "float32" and x.ndim == 4
    assert nr.Input((5,), batch_size=8).shape == (8, 5)
    assert nr.Input(shape=(None,), dtype="int32").dtype == "int32"
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)


def test_functional_model_matches_the_same_layers_called_by_hand(rng):
    inputs = nr.Input((6,))
    hidden, head = layers.Dense(4, activation="relu"), layers.Dense(3, activation="softmax")
    model = nr.Model(inputs, head(hidden(inputs)), name="mlp")
    assert [layer.name for layer in model.layers][1:] == [hidden.name, head.name]
    assert model.count_params() == 6 * 4 + 4 + 4 * 3 + 3
    x = rng.standard_normal((5, 6)).astype(np.float32)
    np.testing.assert_array_equal(model(x).numpy(), head(hidden(x)).numpy())
    np.testing.assert_array_equal(model.predict(x, verbose=0), head(hidden(x)).numpy())
    assert model.output_shape == (None, 3) and model.input_shape == (None, 6)


def test_several_inputs_and_outputs_as_lists_and_dicts(rng):
    a, b = nr.Input((3,), name="a"), nr.Input((2,), name="b")
    joined = layers.Dense(4)(a) + layers.Dense(4)(b)
    out1, out2 = layers.Dense(1, name="score")(joined), layers.Dense(2, name="kind")(joined)
    model = nr.Model([a, b], [out1, out2])
    xa, xb = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    y1, y2 = model([xa, xb])
    assert y1.shape == (4, 1) and y2.shape == (4, 2)
    by_name = model({"a": xa, "b": xb})  # a dict keyed by input name works for list inputs too, as in Keras
    np.testing.assert_array_equal(by_name[0].numpy(), y1.numpy())
    dict_model = nr.Model({"a": a, "b": b}, {"score": out1, "kind": out2})
    outputs = dict_model({"b": xb, "a": xa})
    assert set(outputs) == {"score", "kind"}
    np.testing.assert_array_equal(outputs["kind"].numpy(), y2.numpy())
    with pytest.raises(ValueError, match=r"needs inputs \['b'\]"):
        dict_model({"a": xa})
    with pytest.raises(ValueError, match=r"has 2 input\(s\) \['a', 'b'\], got 1"):
        model(xa)


def test_a_shared_layer_has_one_set_of_weights_and_the_gradient_is_the_sum_over_its_uses(float64, rng):
    shared = layers.Dense(3, activation="tanh", name="shared")
    a, b = nr.Input((4,)), nr.Input((4,))
    model = nr.Model([a, b], shared(a) * shared(b))
    assert len(shared._inbound_nodes) == 2 and model.count_params() == shared.count_params() == 15
    xa, xb = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    out = model([xa, xb]).sum()
    model.zero_grad()
    out.backward()
    kernel = shared.kernel
    analytic = kernel.grad.copy()

    def objective(w):
        saved = kernel.numpy()
        kernel.assign(w)
        value = float(model([xa, xb]).sum().item())
        kernel.assign(saved)
        return value

    numeric = np.zeros_like(analytic)
    w0 = kernel.numpy()
    for index in np.ndindex(w0.shape):
        step = np.zeros_like(w0)
        step[index] = 1e-6
        numeric[index] = (objective(w0 + step) - objective(w0 - step)) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    # and it is the sum of the two uses' gradients, each computed alone
    per_use = []
    for first in (True, False):
        kernel.grad = None
        ya, yb = shared(xa), shared(xb)
        (ya * (yb.detach()) if first else ya.detach() * yb).sum().backward()
        per_use.append(kernel.grad.copy())
    np.testing.assert_allclose(analytic, per_use[0] + per_use[1], rtol=1e-12)


def test_the_input_gradient_reaches_the_input(float64, rng):
    inputs = nr.Input((3,))
    model = nr.Model(inputs, layers.Dense(2, activation="tanh")(layers.Dense(4, activation="tanh")(inputs)))
    x = nr.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert nr.gradcheck(lambda t: model(t), x)
    model(x).sum().backward()
    assert x.grad is not None and np.abs(x.grad).sum() > 0


def test_feature_extractor_from_a_layer_output(rng):
    inputs = nr.Input((5,))
    hidden = layers.Dense(4, name="hidden")(inputs)
    model = nr.Model(inputs, layers.Dense(2)(hidden))
    extractor = nr.Model(model.inputs, model.get_layer("hidden").output)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_array_equal(extractor(x).numpy(), model.get_layer("hidden")(x).numpy())
    assert model.get_layer(index=-1) is model.layers[-1]
    assert model.get_layer("hidden").input is inputs
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")


def test_sequential_layers_have_outputs_for_feature_extraction(rng):
    model = nr.Sequential([nr.Input((4,)), layers.Dense(3, name="first"), layers.Dense(2)])
    extractor = nr.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    x = rng.standard_normal((2, 4)).astype(np.float32)
    first, last = extractor(x)
    np.testing.assert_array_equal(last.numpy(), model(x).numpy())
    np.testing.assert_array_equal(first.numpy(), model.get_layer("first")(x).numpy())


def test_operators_and_slices_on_symbolic_tensors(rng):
    inputs = nr.Input((4,))
    y = layers.Dense(4)(inputs)
    out = (y + inputs) * 2.0 - inputs[:, :1]
    model = nr.Model(inputs, out)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    dense = model.layers[1]
    expected = (dense(x).numpy() + x) * 2.0 - x[:, :1]
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)


def test_shape_errors_at_graph_building_name_the_layer_and_shapes():
    a, b = nr.Input((3,)), nr.Input((3, 2))
    with pytest.raises(ValueError, match=r"'conv' \(Conv2D\).*\(None, 3\)"):
        layers.Conv2D(2, 3, name="conv")(a)
    with pytest.raises(ValueError, match=r"'flat_first' \(Dense\).*"):
        layers.Dense(2, name="flat_first", input_shape=(5,))(b)


def test_a_disconnected_graph_is_refused():
    a, b = nr.Input((3,), name="a"), nr.Input((3,), name="b")
    out = layers.Dense(2)(a) + layers.Dense(2)(b)
    with pytest.raises(ValueError, match="disconnected.*'b'"):
        nr.Model(a, out)
    with pytest.raises(TypeError, match="symbolic tensors"):
        nr.Model(a, np.ones(3))


def test_summary_shows_what_each_layer_is_connected_to():
    a, b = nr.Input((3,), name="left"), nr.Input((3,), name="right")
    total = layers.Dense(2, name="d1")(a) + layers.Dense(2, name="d2")(b)
    lines = []
    nr.Model([a, b], total).summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "d1[0][0], d2[0][0]" in text and "left[0][0]" in text


def test_functional_config_round_trip_rebuilds_the_graph(rng):
    a = nr.Input((3,), name="a")
    shared = layers.Dense(3, name="shared")
    out = shared(shared(a)) + a
    model = nr.Model(a, out, name="twice")
    rebuilt = type(model).from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
    assert rebuilt.name == "twice" and len(rebuilt.get_layer("shared")._inbound_nodes) == 2


def test_a_built_layer_called_on_inputs_of_another_shape_fails_while_the_graph_is_built():
    dense = layers.Dense(2, name="fc")
    dense.build_for((None, 4))
    with pytest.raises(ValueError, match=r"'fc' \(Dense\) cannot be called on inputs of shape \(None, 3\)"):
        dense(nr.Input((3,)))
    conv = layers.Conv2D(2, 3)
    conv(nr.Input((8, 8, 1)))
    assert conv(nr.Input((10, 10, 1))).shape == (None, 8, 8, 2)  # a convolution takes any image size
