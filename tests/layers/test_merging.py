"""Merge layers: values against NumPy, shape errors while a model is defined, a two-branch model that trains.

The harness (test_harness_merging.py) checks gradients, configs and saving; here the values are
checked against NumPy written out independently: an elementwise merge inserts size-1 axes after
the batch axis of the lower-rank inputs and broadcasts as NumPy does (Keras's rule), Concatenate
is ``np.concatenate``, and Dot is a per-sample ``np.tensordot`` over the paired axes.
"""

import os
import tempfile
from functools import reduce

import numpy as np
import pytest

import neurona as nr
from neurona import layers

RNG_SEED = 7


def draws(*shapes, seed=RNG_SEED):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def keras_aligned(arrays):
    """Size-1 axes inserted after the batch axis up to the largest rank (Keras's rule for merging ranks)."""
    rank = max(a.ndim for a in arrays)
    return [a.reshape(a.shape[:1] + (1,) * (rank - a.ndim) + a.shape[1:]) for a in arrays]


ELEMENTWISE = [
    (layers.Add, lambda xs: reduce(np.add, xs)),
    (layers.Subtract, lambda xs: xs[0] - xs[1]),
    (layers.Multiply, lambda xs: reduce(np.multiply, xs)),
    (layers.Average, lambda xs: sum(xs) / len(xs)),
    (layers.Maximum, lambda xs: reduce(np.maximum, xs)),
    (layers.Minimum, lambda xs: reduce(np.minimum, xs)),
]
SHAPES = {
    "equal": [(3, 4), (3, 4)],
    "broadcast": [(2, 3, 4), (2, 1, 4)],
    "ranks": [(2, 3, 4), (2, 4)],  # (2, 4) merges as (2, 1, 4)
    "three": [(2, 3, 4), (2, 3, 1), (2, 4)],
}


@pytest.mark.parametrize("cls,expected", ELEMENTWISE, ids=[c.__name__ for c, _ in ELEMENTWISE])
@pytest.mark.parametrize("shapes", list(SHAPES), ids=list(SHAPES))
def test_elementwise_values_match_numpy(cls, expected, shapes):
    shapes = SHAPES[shapes]
    if cls is layers.Subtract and len(shapes) != 2:
        shapes = shapes[:2]
    xs = draws(*shapes)
    layer = cls(dtype="float64")
    out = layer(xs)
    want = expected(keras_aligned(xs))
    assert out.shape == want.shape == layer.compute_output_shape(shapes)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)


def test_average_of_three_and_maximum_of_three_by_hand():
    a, b, c = np.array([[1.0, -2.0]]), np.array([[3.0, 5.0]]), np.array([[-4.0, 0.5]])
    np.testing.assert_allclose(layers.Average(dtype="float64")([a, b, c]).numpy(), [[0.0, 3.5 / 3]])
    np.testing.assert_array_equal(layers.Maximum(dtype="float64")([a, b, c]).numpy(), [[3.0, 5.0]])
    np.testing.assert_array_equal(layers.Minimum(dtype="float64")([a, b, c]).numpy(), [[-4.0, -2.0]])


@pytest.mark.parametrize("axis,shapes", [
    (-1, [(2, 3), (2, 4)]),
    (1, [(2, 2, 3), (2, 1, 3), (2, 4, 3)]),
    (-2, [(2, 1, 2), (2, 3, 2)]),
    (2, [(2, 3, 1, 2), (2, 3, 2, 2)]),
])
def test_concatenate_matches_numpy(axis, shapes):
    xs = draws(*shapes)
    layer = layers.Concatenate(axis=axis, dtype="float64")
    out = layer(xs)
    want = np.concatenate(xs, axis=axis)
    assert out.shape == want.shape == layer.compute_output_shape(shapes)
    np.testing.assert_array_equal(out.numpy(), want)


def numpy_batch_dot(x, y, p, q, normalize=False):
    """Per sample b: ``tensordot(x[b], y[b])`` over x's axis p and y's axis q (batch axis excluded);
    (batch,) results become (batch, 1); ``normalize`` divides by the L2 norms along the axes first."""
    if normalize:
        x = x / np.maximum(np.sqrt((x ** 2).sum(axis=p, keepdims=True)), 1e-7)
        y = y / np.maximum(np.sqrt((y ** 2).sum(axis=q, keepdims=True)), 1e-7)
    out = np.stack([np.tensordot(x[b], y[b], axes=(p - 1, q - 1)) for b in range(x.shape[0])])
    return out.reshape(-1, 1) if out.ndim == 1 else out


@pytest.mark.parametrize("axes,shapes,pair", [
    (1, [(3, 4), (3, 4)], (1, 1)),
    (-1, [(2, 3, 4), (2, 5, 4)], (2, 2)),
    ((1, 2), [(2, 3, 4), (2, 5, 3)], (1, 2)),
    ([2, 1], [(2, 3, 4), (2, 4, 2)], (2, 1)),
    ((1, 1), [(2, 3), (2, 3, 5)], (1, 1)),
    ((-1, 1), [(2, 3, 4, 5), (2, 5, 6)], (3, 1)),
])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_a_per_sample_tensordot(axes, shapes, pair, normalize):
    x, y = draws(*shapes)
    layer = layers.Dot(axes=axes, normalize=normalize, dtype="float64")
    out = layer([x, y])
    want = numpy_batch_dot(x, y, *pair, normalize=normalize)
    assert out.shape == want.shape == layer.compute_output_shape(shapes)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)


def test_dot_normalize_gives_the_cosine_similarity():
    x, y = np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([[4.0, 3.0], [0.0, 2.0]])
    out = layers.Dot(axes=1, normalize=True, dtype="float64")([x, y]).numpy()
    np.testing.assert_allclose(out, [[24.0 / 25.0], [0.0]], atol=1e-12)


def test_output_shapes_with_unknown_sizes():
    assert layers.Add().compute_output_shape([(None, 3, None), (None, 1, 4)]) == (None, 3, None)
    assert layers.Add().compute_output_shape([(None, 3), (5, 3)]) == (5, 3)
    assert layers.Concatenate().compute_output_shape([(None, 3), (None, None)]) == (None, None)
    assert layers.Concatenate(axis=1).compute_output_shape([(None, 2, None), (None, 3, 4)]) == (None, 5, 4)
    assert layers.Dot(axes=(1, 2)).compute_output_shape([(None, None, 4), (None, 5, 3)]) == (None, 4, 5)
    a, b = nr.Input((None, 3)), nr.Input((4, 3))
    assert layers.Concatenate(axis=1)([a, b]).shape == (None, None, 3)


# ---- errors while the model is defined (on nr.Input tensors) --------------------------------------------

@pytest.mark.parametrize("make,shapes,words", [
    (lambda: layers.Add(name="adder"), [(3,), (4,)], ["'adder'", "Add", "(None, 3)", "(None, 4)"]),
    (lambda: layers.Multiply(name="times"), [(2, 3), (3, 3)], ["'times'", "(None, 2, 3)", "(None, 3, 3)"]),
    (lambda: layers.Maximum(name="mx"), [(3,), (3,), (5,)], ["'mx'", "(None, 3)", "(None, 5)"]),
    (lambda: layers.Subtract(name="minus"), [(3,), (3,), (3,)], ["'minus'", "exactly 2", "got 3"]),
    (lambda: layers.Concatenate(name="cat"), [(2, 3), (4, 3)], ["'cat'", "(None, 2, 3)", "(None, 4, 3)"]),
    (lambda: layers.Concatenate(name="cat2"), [(3,), (2, 3)], ["'cat2'", "one rank", "(None, 2, 3)"]),
    (lambda: layers.Concatenate(axis=3, name="cat3"), [(3,), (2,)], ["'cat3'", "axis 3", "out of range"]),
    (lambda: layers.Dot(axes=1, name="dp"), [(3,), (4,)], ["'dp'", "(None, 3)", "(None, 4)", "3 and 4"]),
    (lambda: layers.Dot(axes=0, name="dp0"), [(3,), (3,)], ["'dp0'", "batch axis"]),
    (lambda: layers.Dot(axes=(1, 3), name="dp3"), [(3,), (3, 2)], ["'dp3'", "out of range"]),
    (lambda: layers.Dot(axes=1, name="dp2"), [(3,), (3,), (3,)], ["'dp2'", "exactly 2"]),
    (lambda: layers.Average(name="avg"), [(3,)], ["'avg'", "at least 2", "got 1"]),
])
def test_incompatible_shapes_are_refused_while_the_model_is_defined(make, shapes, words):
    inputs = [nr.Input(s) for s in shapes]
    with pytest.raises(ValueError) as error:
        make()(inputs)
    for word in words:
        assert word in str(error.value), f"{word!r} not in {error.value}"


def test_a_single_tensor_or_different_batch_sizes_are_refused():
    with pytest.raises(ValueError, match=r"'plus' \(Add\) must be called on a list .* single input of shape"):
        layers.Add(name="plus")(nr.Input((3,)))
    with pytest.raises(ValueError, match=r"single input of shape \(2, 3\)"):
        layers.Add()(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"different batch sizes: got shapes \[\(2, 3\), \(3, 3\)\]"):
        layers.Add()([np.ones((2, 3)), np.ones((3, 3))])
    add = layers.Add(name="reused")
    add([np.ones((2, 3)), np.ones((2, 3))])  # built for (3,) features; a later call is checked again
    with pytest.raises(ValueError, match=r"'reused'.*\[\(2, 3\), \(2, 4\)\]"):
        add([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"'reused'.*single tensor of shape \(2, 3\)"):
        add(np.ones((2, 3)))


def test_constructor_arguments_are_checked():
    with pytest.raises(TypeError, match="Dot axes must be an int or a pair of ints, got 'last'"):
        layers.Dot(axes="last")
    with pytest.raises(ValueError, match=r"Dot axes .* got \(1, 2, 3\)"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="Dot axes"):
        layers.Dot(axes=(1, 2.0))
    with pytest.raises(TypeError, match="normalize must be True or False, got 'yes'"):
        layers.Dot(axes=1, normalize="yes")
    with pytest.raises(TypeError, match="Concatenate axis must be an integer, got 1.0"):
        layers.Concatenate(axis=1.0)


# ---- in models -------------------------------------------------------------------------------------------

def two_branch_model(dtype="float32", model_dtype=None):
    a, b = nr.Input((4,), dtype=dtype), nr.Input((2,), dtype=dtype)
    left = layers.Dense(3, dtype=dtype, name="left")(a)
    right = layers.Dense(3, dtype=dtype, name="right")(b)
    return nr.Model([a, b], layers.Add(dtype=dtype)([left, right]), **({"dtype": model_dtype} if model_dtype else {}))


def test_a_two_branch_model_trains_with_gradient_reaching_both_branches():
    nr.seed(0)
    model = two_branch_model()
    xa, xb = draws((16, 4), (16, 2))
    target = xa[:, :3] - 2.0 * xb[:, :1]  # reachable: a linear function of both inputs
    opt = nr.optimizers.SGD(learning_rate=0.1)
    before = {w.name: w.numpy() for w in model.trainable_weights}
    losses = []
    for _ in range(30):
        out = model([xa.astype("float32"), xb.astype("float32")], training=True)
        loss = nr.ops.mean(nr.ops.square(out - target.astype("float32")))
        model.zero_grad()
        loss.backward()
        for w in model.trainable_weights:
            assert w.grad is not None and np.abs(w.grad).max() > 0, f"no gradient reached {w.name}"
        opt.apply(model.trainable_weights)
        losses.append(float(loss.item()))
    assert losses[-1] < 0.2 * losses[0]
    assert all(not np.array_equal(before[w.name], w.numpy()) for w in model.trainable_weights)
    assert {w.name.split("/")[0] for w in model.trainable_weights} == {"left", "right"}


def test_the_model_input_gradient_matches_finite_differences():
    model = two_branch_model("float64", model_dtype="float64")
    xa, xb = draws((3, 4), (3, 2))
    assert nr.gradcheck(lambda a, b: model([a, b]), nr.Tensor(xa, requires_grad=True),
                        nr.Tensor(xb, requires_grad=True))


def test_a_functional_model_keeps_its_float64_inputs_in_float64():
    model = two_branch_model("float64")
    xa, xb = draws((3, 4), (3, 2))
    assert nr.gradcheck(lambda a, b: model([a, b]), nr.Tensor(xa, requires_grad=True),
                        nr.Tensor(xb, requires_grad=True))


def test_functional_forms_build_the_layer_with_its_arguments():
    xs = draws((2, 3), (2, 3))
    for form, cls in [(layers.add, layers.Add), (layers.subtract, layers.Subtract),
                      (layers.multiply, layers.Multiply), (layers.average, layers.Average),
                      (layers.maximum, layers.Maximum), (layers.minimum, layers.Minimum)]:
        np.testing.assert_array_equal(form(xs, dtype="float64").numpy(), cls(dtype="float64")(xs).numpy())
    x, y = draws((2, 3, 4), (2, 5, 3))
    np.testing.assert_array_equal(layers.concatenate([x, x], axis=1, dtype="float64").numpy(),
                                  np.concatenate([x, x], axis=1))
    np.testing.assert_allclose(layers.dot([x, y], axes=(1, 2), dtype="float64").numpy(),
                               numpy_batch_dot(x, y, 1, 2), rtol=1e-12)
    np.testing.assert_allclose(layers.dot([x, y], (1, 2), normalize=True, dtype="float64").numpy(),
                               numpy_batch_dot(x, y, 1, 2, normalize=True), rtol=1e-12)
    a, b = nr.Input((3,)), nr.Input((3,))
    out = layers.add([a, b], name="summed")
    assert out.shape == (None, 3) and out.layer.name == "summed" and type(out.layer) is layers.Add
    assert layers.dot([a, b], axes=1).shape == (None, 1)
    assert layers.concatenate([a, b]).shape == (None, 6)


def test_a_model_with_every_merge_layer_round_trips_through_its_config_and_a_save():
    a, b, c = nr.Input((3,)), nr.Input((3,)), nr.Input((2, 3))
    merged = [layers.Add()([a, b]), layers.Subtract()([a, b]), layers.Multiply()([a, b, a]),
              layers.Average()([a, b]), layers.Maximum()([a, c]), layers.Minimum()([c, b])]
    flat = [layers.Flatten()(m) if len(m.shape) == 3 else m for m in merged]
    joined = layers.Concatenate()(flat)
    out = layers.Dot(axes=(1, 2), normalize=True)([joined, layers.Reshape((2, 24))(
        layers.Concatenate()([joined, joined]))])
    model = nr.Model([a, b, c], out)
    assert model.layers[-1].output.shape == (None, 2)
    data = draws((2, 3), (2, 3), (2, 2, 3))
    data = [d.astype("float32") for d in data]
    expected = model(data).numpy()
    rebuilt = type(model).from_config(model.get_config())
    np.testing.assert_array_equal(rebuilt(data).numpy(), expected)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "merged")
        model.save(path)
        loaded = nr.models.load_model(path)
    np.testing.assert_array_equal(loaded(data).numpy(), expected)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
