"""Forward, pre-activation and backward hooks on layers and models, checked against closed-form gradients."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers


def _data(n=6, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _functional():
    inp = nr.Input((3,))
    h = layers.Dense(5, activation="tanh", name="hidden")(inp)
    out = layers.Dense(2, name="out")(h)
    return nr.Model(inp, out)


def _sequential():
    return nr.Sequential([nr.Input((3,)), layers.Dense(5, activation="tanh", name="hidden"),
                          layers.Dense(2, name="out")])


class _Subclassed(nr.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(5, activation="tanh", name="hidden")
        self.out = layers.Dense(2, name="out")

    def call(self, x):
        return self.out(self.hidden(x))


def _nested():
    inner = _sequential()
    inp = nr.Input((3,))
    return nr.Model(inp, layers.Identity()(inner(inp))), inner


def _hidden(model):
    return model.hidden if isinstance(model, _Subclassed) else model.get_layer("hidden")


@pytest.mark.parametrize("make", [_functional, _sequential, _Subclassed], ids=["functional", "sequential", "sub"])
def test_forward_hook_sees_the_layer_output_in_every_kind_of_model(make):
    model, x = make(), _data()
    model(x)
    seen = []
    hidden = _hidden(model)
    with hidden.register_forward_hook(lambda layer, args, out: seen.append((layer, args[0].numpy(), out.numpy()))):
        model(x)
    assert len(seen) == 1 and seen[0][0] is hidden
    expected = np.tanh(x @ hidden.kernel.numpy() + hidden.bias.numpy())
    np.testing.assert_allclose(seen[0][1], x)
    np.testing.assert_allclose(seen[0][2], expected, rtol=1e-5, atol=1e-6)
    model(x)
    assert len(seen) == 1  # removed at the end of the with block


def test_hooks_fire_in_nested_models_and_on_the_model_itself():
    model, inner = _nested()
    names = []
    handles = [layer.register_forward_hook(lambda layer, a, o: names.append(layer.name))
               for layer in (model, inner, inner.get_layer("hidden"))]
    model(_data())
    assert names == ["hidden", inner.name, model.name]  # inner layers finish first
    for handle in handles:
        handle.remove()


def test_forward_hook_and_pre_hook_may_replace_values():
    model, x = _functional(), _data()
    hidden = model.get_layer("hidden")
    with hidden.register_forward_pre_hook(lambda layer, args: args[0] * 0.0):
        out_zero_input = model(x).numpy()
    out = model.get_layer("out")
    np.testing.assert_allclose(out_zero_input, np.broadcast_to(
        np.tanh(hidden.bias.numpy()) @ out.kernel.numpy() + out.bias.numpy(), out_zero_input.shape), atol=1e-6)
    with out.register_forward_hook(lambda layer, args, output: output + 1.0):
        shifted = model(x).numpy()
    np.testing.assert_allclose(shifted, model(x).numpy() + 1.0, rtol=1e-6)


def test_preactivation_hook_gets_x_w_plus_b_and_restores_the_activation():
    model, x = _functional(), _data()
    hidden = model.get_layer("hidden")
    original = hidden.activation
    seen = []
    with hidden.register_preactivation_hook(lambda layer, z: seen.append(z.numpy())):
        model(x)
    np.testing.assert_allclose(seen[0], x @ hidden.kernel.numpy() + hidden.bias.numpy(), rtol=1e-5, atol=1e-6)
    assert hidden.activation is original
    with pytest.raises(TypeError, match="no activation"):
        layers.Flatten().register_preactivation_hook(lambda layer, z: None)


def test_preactivation_hook_on_a_fused_relu_convolution():
    conv = layers.Conv2D(4, 3, activation="relu")
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 3)).astype("float32")
    plain = conv(x).numpy()
    seen = []
    with conv.register_preactivation_hook(lambda layer, z: seen.append(z.numpy())):
        tapped = conv(x).numpy()
    np.testing.assert_allclose(tapped, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.maximum(seen[0], 0.0), plain, rtol=1e-5, atol=1e-6)
    assert (seen[0] < 0).any()


def test_backward_hook_gradients_match_the_chain_rule():
    model, x = _functional(), _data()
    hidden, out = model.get_layer("hidden"), model.get_layer("out")
    got = {}
    hidden.register_backward_hook(lambda layer, gi, go: got.__setitem__("hidden", (gi, go)))
    out.register_backward_hook(lambda layer, gi, go: got.__setitem__("out", (gi, go)))
    xt = nr.Tensor(x, requires_grad=True)
    y = model(xt)
    (y * y).sum().backward()  # dL/dy = 2y
    dy = 2.0 * y.numpy()
    w2 = out.kernel.numpy()
    a = np.tanh(x @ hidden.kernel.numpy() + hidden.bias.numpy())
    np.testing.assert_allclose(got["out"][1][0].numpy(), dy, rtol=1e-5)
    np.testing.assert_allclose(got["out"][0][0].numpy(), dy @ w2.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["hidden"][1][0].numpy(), dy @ w2.T, rtol=1e-5, atol=1e-6)
    dz = (dy @ w2.T) * (1 - a ** 2)
    np.testing.assert_allclose(got["hidden"][0][0].numpy(), dz @ hidden.kernel.numpy().T, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(xt.grad, dz @ hidden.kernel.numpy().T, rtol=1e-4, atol=1e-6)


def test_backward_hook_of_a_layer_on_data_gets_none_for_the_input():
    model, x = _functional(), _data()
    got = []
    model.get_layer("hidden").register_backward_hook(lambda layer, gi, go: got.append((gi, go)))
    model(x).sum().backward()
    assert len(got) == 1 and got[0][0] == (None,) and got[0][1][0].shape == (6, 5)


def test_backward_hook_sees_only_its_share_of_a_residual_input():
    dense = layers.Dense(3, use_bias=False)
    xt = nr.Tensor(_data(), requires_grad=True)
    got = []
    dense.register_backward_hook(lambda layer, gi, go: got.append(gi[0].numpy()))
    (dense(xt) + xt).sum().backward()
    share = np.ones((6, 3)) @ dense.kernel.numpy().T
    np.testing.assert_allclose(got[0], share, rtol=1e-5)
    np.testing.assert_allclose(xt.grad, share + 1.0, rtol=1e-5)


def test_backward_hook_may_replace_the_input_gradient():
    model, x = _functional(), _data()
    model.get_layer("out").register_backward_hook(lambda layer, gi, go: (gi[0] * 0.0,))
    model(x).sum().backward()
    assert np.all(model.get_layer("hidden").kernel.grad == 0)
    assert np.any(model.get_layer("out").kernel.grad != 0)


def test_backward_hook_of_a_two_input_layer():
    add = layers.Add()
    a, b = (nr.Tensor(_data(seed=s), requires_grad=True) for s in (1, 2))
    got = []
    add.register_backward_hook(lambda layer, gi, go: got.append(gi))
    (add([a, b]) * 3.0).sum().backward()
    assert len(got) == 1 and len(got[0]) == 2
    for g in got[0]:
        np.testing.assert_allclose(g.numpy(), np.full((6, 3), 3.0))
    add.register_backward_hook(lambda layer, gi, go: (gi[0] * 0.0, gi[1] * 0.0))
    with pytest.raises(RuntimeError, match="one input tensor"):
        (add([a, b]) * 3.0).sum().backward()


def test_hooks_run_during_fit_and_not_when_a_functional_model_is_defined():
    calls = {"forward": 0, "backward": 0}
    dense = layers.Dense(2)
    dense.register_forward_hook(lambda layer, a, o: calls.__setitem__("forward", calls["forward"] + 1))
    dense.register_backward_hook(lambda layer, gi, go: calls.__setitem__("backward", calls["backward"] + 1))
    inp = nr.Input((3,))
    model = nr.Model(inp, dense(inp))
    assert calls == {"forward": 0, "backward": 0}
    model.compile(optimizer="sgd", loss="mse")
    model.fit(_data(n=8), np.zeros((8, 2), "float32"), batch_size=4, epochs=1, verbose=0)
    assert calls == {"forward": 2, "backward": 2}


def test_register_refuses_a_non_callable():
    with pytest.raises(TypeError, match="callable"):
        layers.Dense(2).register_forward_hook(None)


def test_backward_hook_fires_on_every_pass_through_a_retained_graph():
    dense = layers.Dense(3)
    xt = nr.Tensor(_data(), requires_grad=True)
    got = []
    dense.register_backward_hook(lambda layer, gi, go: got.append(gi[0].numpy()))
    loss = dense(xt).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert len(got) == 2  # as torch's full backward hooks
    np.testing.assert_allclose(got[0], got[1])


def test_preactivation_tap_survives_threads_calling_one_layer():
    import threading

    dense = layers.Dense(8, activation="tanh")
    x = _data(n=64)
    dense(x)
    original, calls = dense.activation, []
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for _ in range(20):
            dense(x)

    with dense.register_preactivation_hook(lambda layer, z: calls.append(1)):
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert dense.activation is original and len(calls) == 80


def test_silenced_hides_the_calls_of_this_thread_only():
    import threading

    from neurona.layers.hooks import silenced

    seen = []
    dense = layers.Dense(2)
    dense.register_forward_hook(lambda layer, a, o: seen.append(threading.current_thread().name))
    x = nr.Tensor(_data(n=2))
    with silenced():
        dense(x)
        worker = threading.Thread(target=dense, args=(x,), name="other")
        worker.start()
        worker.join()
    dense(x)
    assert seen == ["other", threading.current_thread().name]


def test_fits_own_summary_pass_of_a_classifier_is_not_seen_by_hooks():
    calls = []
    inp = nr.Input((3,))
    dense = layers.Dense(2, activation="softmax")
    model = nr.Model(inp, dense(inp))
    dense.register_forward_hook(lambda layer, a, o: calls.append(a[0].shape[0]))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(_data(n=8), np.eye(2, dtype="float32")[[0, 1] * 4], batch_size=4, epochs=1, verbose=0)
    assert model.reference_statistics is not None and calls == [4, 4]


def test_hooks_with_kwargs_see_and_replace_the_call_keywords():
    """PyTorch's with_kwargs=True: the pre-hook gets the keyword arguments and may return new (args, kwargs);
    the forward hook gets them beside the output."""
    layer = nr.layers.Dropout(0.5, seed=1)
    seen = []
    x = nr.Tensor(np.ones((2, 8)))

    def pre(module, args, kwargs):
        seen.append(dict(kwargs))
        return args, {**kwargs, "training": False}  # dropout off whatever the caller asked

    with layer.register_forward_pre_hook(pre, with_kwargs=True), layer.register_forward_hook(
            lambda module, args, kwargs, out: seen.append(sorted(kwargs)), with_kwargs=True):
        out = layer(x, training=True)
    np.testing.assert_array_equal(out.numpy(), x.numpy())
    assert seen[0] == {"training": True} and seen[1] == ["training"]
    assert not np.array_equal(layer(x, training=True).numpy(), x.numpy())  # removed: dropout applies again
    with layer.register_forward_pre_hook(lambda module, args, kwargs: args, with_kwargs=True):
        with pytest.raises(TypeError, match=r"return None or \(args, kwargs\)"):
            layer(x)
    with pytest.raises(TypeError, match="with_kwargs must be True or False"):
        layer.register_forward_hook(lambda *a: None, with_kwargs="yes")
