"""Gradient hooks on tensors: called once with the complete gradient, may replace it, removable."""

import numpy as np
import pytest

import neurona as nr
from neurona import ops


def _leaf(shape=(3, 4), seed=0):
    return nr.Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)


def test_hook_on_intermediate_sees_the_summed_gradient_of_all_its_consumers():
    x = _leaf()
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy()))
    (h * 3.0 + h * h).sum().backward()  # d/dh = 3 + 2h
    assert len(seen) == 1  # once, after both consumers contributed
    np.testing.assert_allclose(seen[0], 3.0 + 2.0 * h.numpy())


def test_a_returned_gradient_replaces_the_one_flowing_on():
    x = _leaf()
    h = x * 2.0
    h.register_hook(lambda g: g * 10.0)
    h.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(x.shape, 20.0))


def test_leaf_hooks_run_on_the_whole_pass_gradient_before_accumulation():
    x = _leaf()
    calls = []

    def hook(g):
        calls.append(g.numpy().copy())
        return g * 0.0

    x.register_hook(hook)
    (x * 2.0 + x * 3.0).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], np.full(x.shape, 5.0))
    np.testing.assert_array_equal(x.grad, np.zeros(x.shape))


def test_hooks_run_in_registration_order_and_chain():
    x = _leaf()
    y = x * 1.0
    order = []
    y.register_hook(lambda g: (order.append("a"), g + 1.0)[1])
    y.register_hook(lambda g: (order.append("b"), g * 2.0)[1])
    y.sum().backward()
    assert order == ["a", "b"]
    np.testing.assert_allclose(x.grad, np.full(x.shape, 4.0))  # (1 + 1) * 2


def test_remove_and_context_manager_detach_the_hook():
    x = _leaf()
    seen = []
    handle = x.register_hook(lambda g: seen.append(1))
    handle.remove()
    handle.remove()  # twice is harmless
    x.sum().backward()
    assert seen == []
    with x.register_hook(lambda g: seen.append(2)):
        x.sum().backward()
    x.sum().backward()
    assert seen == [2]


def test_root_hook_sees_the_seed():
    x = _leaf()
    y = ops.sum(x * x)
    seen = []
    y.register_hook(lambda g: seen.append(float(g.item())))
    y.backward()
    assert seen == [1.0]


def test_bad_hooks_are_refused():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nr.Tensor(np.ones(3)).register_hook(lambda g: None)
    with pytest.raises(TypeError, match="callable"):
        _leaf().register_hook("not a function")
    x = _leaf()
    y = x * 1.0
    y.register_hook(lambda g: np.ones((7,)))
    with pytest.raises(ValueError, match="same shape"):
        y.sum().backward()


def test_a_failed_backward_leaves_no_pending_callbacks():
    from neurona.autograd import engine

    x = _leaf()
    y = x * 1.0
    h = y * 1.0
    h.register_hook(lambda g: engine.queue_callback(lambda: pytest.fail("a callback of a failed pass ran")))
    y.register_hook(lambda g: np.ones((7,)))
    with pytest.raises(ValueError):
        h.sum().backward()
    (x * 1.0).sum().backward()  # the next pass runs nothing left over
    with pytest.raises(RuntimeError, match="during backward"):
        engine.queue_callback(lambda: None)


def test_a_backward_inside_a_hook_keeps_the_outer_passes_callbacks():
    from neurona.autograd import engine

    x = _leaf()
    order = []

    def hook(g):
        engine.queue_callback(lambda: order.append("outer"))
        inner = _leaf(seed=3)
        (inner * 2.0).sum().backward()  # a nested pass runs only its own callbacks
        order.append("inner done")

    y = x * 1.0
    y.register_hook(hook)
    y.sum().backward()
    assert order == ["inner done", "outer"]
