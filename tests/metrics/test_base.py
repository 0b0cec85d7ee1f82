"""The streaming core: weighted running sums, batch-split invariance, reset, wrappers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neurona as nr
from neurona import metrics


def test_mean_hand_values(device):
    m = metrics.Mean()
    assert m.result() == 0.0  # nothing seen yet (Keras returns 0, not NaN)
    m.update_state([1.0, 2.0, 3.0])
    m.update_state(nr.Tensor([10.0]))
    assert m.result() == pytest.approx(4.0)
    m.update_state([4.0, 6.0], sample_weight=[0.5, 1.5])  # adds 2 + 9 with weight 2
    assert m.result() == pytest.approx((16 + 11) / 6)
    assert isinstance(m.result(), float)
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(7.0)  # a scalar is one sample
    assert m.result() == 7.0


def test_values_with_extra_axes_are_averaged_per_sample():
    m = metrics.Mean()
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=[1.0, 3.0])  # per-sample means 2 and 6
    assert m.result() == pytest.approx((2 + 18) / 4)
    m = metrics.Mean()
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=[[1.0, 0.0], [0.0, 1.0]])  # per element
    assert m.result() == pytest.approx((1 + 7) / 2)
    m = metrics.Mean()
    m.update_state(np.array([1.0, 2.0, 4.0]), sample_weight=2.0)  # a scalar weight applies to every sample
    assert m.result() == pytest.approx(7 / 3)


def test_mismatched_weights_are_rejected():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(2,\) does not broadcast .*\(3,\)"):
        metrics.Mean().update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="more axes"):
        metrics.Mean().update_state([1.0, 2.0], sample_weight=np.ones((2, 2, 2)))


batches = st.lists(
    st.tuples(
        hnp.arrays(np.float64, st.integers(1, 9), elements=st.floats(-1e3, 1e3)),
        st.integers(0, 2**31 - 1),
    ),
    min_size=1, max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(batches, st.booleans())
def test_streaming_mean_equals_the_mean_of_the_concatenation(batches, weighted):
    m = metrics.Mean()
    values, weights = [], []
    for v, seed in batches:
        w = np.random.default_rng(seed).uniform(0.1, 2.0, v.shape) if weighted else None
        m.update_state(v, sample_weight=w)
        values.append(v)
        weights.append(w if weighted else np.ones_like(v))
    v, w = np.concatenate(values), np.concatenate(weights)
    expected = (v * w).sum() / w.sum()
    assert m.result() == pytest.approx(expected, rel=1e-9, abs=1e-9)
    whole = metrics.Mean()
    whole.update_state(v, sample_weight=w if weighted else None)
    assert m.result() == pytest.approx(whole.result(), rel=1e-9, abs=1e-9)


def test_float32_values_accumulate_in_float64():
    m = metrics.Mean()
    for _ in range(100):
        m.update_state(np.full(1000, 0.1, dtype=np.float32))
    assert m.result() == pytest.approx(float(np.float32(0.1)), rel=1e-12)  # no float32 round-off drift


def test_mean_metric_wrapper_and_call(device):
    def double_error(y_true, y_pred, scale=2.0):
        return scale * abs(nr.Tensor(y_pred) - nr.Tensor(y_true))  # returns a Tensor: fine

    m = metrics.MeanMetricWrapper(double_error, scale=3.0)
    assert m.name == "double_error" and m.get_config() == {"name": "double_error", "scale": 3.0}
    assert m([1.0, 2.0], [2.0, 2.0]) == pytest.approx(1.5)  # __call__ updates and returns the result
    assert m([0.0], [1.0]) == pytest.approx(2.0)
    with pytest.raises(TypeError, match="callable"):
        metrics.MeanMetricWrapper("mse")


def test_wrapped_functions_do_not_extend_the_graph():
    seen = []

    def spy(y_true, y_pred):
        out = y_pred * 2.0
        seen.append(out.requires_grad)
        return out

    metrics.MeanMetricWrapper(spy).update_state([1.0], nr.Tensor([1.0], requires_grad=True))
    assert seen == [False]


@pytest.mark.parametrize("values,weights,what", [("x", None, "values"), (np.array(["a", "b"]), None, "values"),
                                                  ([1.0, 2.0], ["a", "b"], "sample_weight")])
def test_mean_refuses_non_numeric_values_and_weights(values, weights, what):
    # used to fail deep inside NumPy ("the resolved dtypes are not compatible with add.reduce")
    m = metrics.Mean()
    with pytest.raises(TypeError, match=rf"metric {what} must be numeric \(bool, int or float\), got an array of "
                                        r"dtype <U1"):
        m.update_state(values, sample_weight=weights)
    assert m.result() == 0.0


@pytest.mark.parametrize("config,message", [
    ({"class_name": "AUC", "config": {"curves": "PR"}},
     r"config of metric class AUC does not fit its constructor: unexpected 'curves'"),
    ({"class_name": "Mean", "config": 3}, r"Mean.from_config needs a dict of constructor arguments, got 3"),
])
def test_deserialize_names_what_does_not_fit_the_constructor(config, message):
    # used to be Python's raw "AUC.__init__() got an unexpected keyword argument 'curves'"
    with pytest.raises(ValueError, match=message):
        metrics.deserialize(config)
    assert metrics.deserialize({"class_name": "AUC", "config": {"curve": "PR"}}).curve == "PR"

