"""The data layer of the training loops: arrays and structures, class weights, adapters and epochs."""

import contextlib
import warnings

import numpy as np
import pytest

import neurona as nr
from neurona.models import data_adapter, data_arrays
from neurona.models.data_adapter import ArrayAdapter, EpochIterator


def _epoch(iterator):
    with contextlib.closing(iterator.epoch()) as batches:
        return [batch for _, batch in batches]


# ---- arrays and structures -----------------------------------------------------------------------------
def test_lists_of_arrays_are_structures_and_lists_of_numbers_are_data():
    a = np.zeros((4, 2))
    assert data_arrays.is_structure([a, a]) and data_arrays.is_structure({"a": a}) and data_arrays.is_structure((a,))
    assert not data_arrays.is_structure(a.tolist()) and not data_arrays.is_structure([np.float32(1), np.float32(2)])
    assert data_arrays.is_structure([[1.0, 2.0], [3.0, 4.0]], expected=2)  # a model with two inputs
    assert not data_arrays.is_structure([[1.0, 2.0], [3.0, 4.0]], expected=1)


def test_prepare_casts_by_role_and_names_places_in_errors():
    x = data_arrays.prepare({"b": np.ones((3, 2), np.int64), "a": [np.ones((3, 1), np.float64)]}, "x", "fit", "x")
    assert x["b"].dtype == np.float32 and x["a"][0].dtype == np.float32
    y = data_arrays.prepare([np.arange(3), np.ones((3, 2))], "y", "fit", "y")
    assert y[0].dtype == np.int64 and y[1].dtype == np.float32  # labels stay integers, floats become floatx
    assert data_arrays.prepare([np.ones(3), None], "y", "fit", "y")[1] is None  # an output without a target
    with pytest.raises(ValueError, match=r"fit: x\['a'\]\[1\] has dtype <U1, which holds text strings"):
        data_arrays.prepare({"a": [np.ones((2, 1)), np.full((2, 1), "s")]}, "x", "fit", "x")
    with pytest.raises(ValueError, match=r"fit: x\[1\] is empty \(shape \(0, 2\)\)"):
        data_arrays.prepare([np.ones((2, 2)), np.ones((0, 2))], "x", "fit", "x")
    with pytest.raises(ValueError, match=r"fit: x\[0\] is required"):
        data_arrays.prepare([None, np.ones((2, 2))], "x", "fit", "x")
    with pytest.raises(ValueError, match=r"evaluate: y\[0\] holds 1 non-finite"):
        data_arrays.prepare([np.array([1.0, np.inf])], "y", "evaluate", "y", expected=1, finite=True)
    with pytest.raises(ValueError, match=r"x and y\['cls'\] must have the same number of samples, got 3 and 2"):
        data_arrays.num_samples([("x", np.ones((3, 1))), ("y", {"cls": np.ones(2)})])


def test_split_validation_holds_out_the_last_samples_of_every_array():
    x = {"a": np.arange(10).reshape(10, 1), "b": np.arange(10, 20)}
    (xt, yt, wt), (xv, yv, wv) = data_arrays.split_validation((x, np.arange(10), np.linspace(0, 1, 10)), 0.3)
    np.testing.assert_array_equal(xt["a"][:, 0], np.arange(7))
    np.testing.assert_array_equal(xv["b"], [17, 18, 19])
    np.testing.assert_array_equal(yv, [7, 8, 9])
    np.testing.assert_allclose(wv, np.linspace(0, 1, 10)[7:])
    (_, y_only, w_none), _ = data_arrays.split_validation((np.ones((4, 1)), np.ones(4), None), 0.5)
    assert w_none is None and len(y_only) == 2


@pytest.mark.parametrize("y, expected", [
    (np.array([0, 2, 1, 2]), [0.5, 3.0, 1.0, 3.0]),
    (np.array([[0], [2], [1], [2]]), [0.5, 3.0, 1.0, 3.0]),
    (np.eye(3)[[0, 2, 1, 2]], [0.5, 3.0, 1.0, 3.0]),  # one-hot rows: the class of the largest entry
    (np.array([0.2, 1.8, 0.9, 2.4]), [0.5, 3.0, 1.0, 3.0]),  # float labels are rounded, as Keras
])
def test_class_weight_to_sample_weight(y, expected):
    weights = data_arrays.class_weight_to_sample_weight(y, {0: 0.5, 2: 3.0}, "fit")
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights, expected)


def test_class_weight_refuses_targets_it_cannot_read():
    with pytest.raises(ValueError, match=r"fit: class_weight needs targets of shape \(samples,\), \(samples, 1\) or "
                                         r"one-hot \(samples, classes\), got y of shape \(2, 3, 4\)"):
        data_arrays.class_weight_to_sample_weight(np.ones((2, 3, 4)), {0: 1.0}, "fit")
    assert data_arrays.check_class_weight({np.int64(1): np.float32(2)}, "fit") == {1: 2.0}


def test_unpack_x_y_sample_weight():
    x = np.ones((2, 1))
    unpack = data_adapter.unpack_x_y_sample_weight
    assert unpack(x)[1:] == (None, None) and unpack((x,))[0] is x and unpack([x, 1])[1] == 1
    assert unpack((x, 1, 2)) == (x, 1, 2)
    with pytest.raises(ValueError, match="got a tuple of 4 items"):
        unpack((x, 1, 2, 3))


# ---- adapters and epochs -----------------------------------------------------------------------------------
def test_array_batches_cover_the_data_and_shuffle_at_each_pass():
    x, y = np.arange(10).reshape(10, 1), np.arange(10)
    adapter = ArrayAdapter([x, x * 2], y, batch_size=4)
    batches = _epoch(EpochIterator(adapter))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(batches[1][0][1][:, 0], [8, 10, 12, 14])  # structures are sliced leaf by leaf
    shuffled = ArrayAdapter(x, y, batch_size=4, shuffle=True, rng=np.random.default_rng(0))
    it = EpochIterator(shuffled)
    first, second = (np.concatenate([b[1] for b in _epoch(it)]) for _ in range(2))
    order = np.random.default_rng(0)
    np.testing.assert_array_equal(first, order.permutation(10))  # one permutation drawn per pass
    np.testing.assert_array_equal(second, order.permutation(10))
    assert ArrayAdapter(x, y, steps=3).batch_size == 4  # Keras: ceil(10 / 3)


def test_steps_continue_a_pass_into_the_next_epoch():
    adapter = ArrayAdapter(np.arange(10), np.arange(10), batch_size=4)
    it = EpochIterator(adapter, steps=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        epochs = [[b[1].tolist() for b in _epoch(it)] for _ in range(3)]
    assert epochs == [[[0, 1, 2, 3], [4, 5, 6, 7]], [[8, 9]], [[0, 1, 2, 3], [4, 5, 6, 7]]]
    assert len(caught) == 1 and "ran out of data after 1 of steps=2" in str(caught[0].message)
    exact = EpochIterator(ArrayAdapter(np.arange(8), np.arange(8), batch_size=4), steps=2)
    assert [len(_epoch(exact)) for _ in range(3)] == [2, 2, 2]  # a pass that ends with the epoch restarts quietly


def _checks():
    return data_adapter._BatchChecks("generator", "fit", None, False, (None, None))


def test_a_generator_is_read_once():
    def gen():
        for i in range(3):
            yield np.full((2, 1), float(i)), np.zeros(2)

    it = EpochIterator(data_adapter.GeneratorAdapter(gen(), _checks()))
    assert it.num_batches is None
    assert [b[0][0, 0] for b in _epoch(it)] == [0.0, 1.0, 2.0] and it.last_count == 3
    assert _epoch(it) == [] and it.last_count == 0
    with_steps = EpochIterator(data_adapter.GeneratorAdapter(gen(), _checks()), steps=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [[b[0][0, 0] for b in _epoch(with_steps)] for _ in range(3)] == [[0.0, 1.0], [2.0], []]


def test_a_py_dataset_hears_of_every_epoch_even_one_left_early():
    class Data(nr.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.events = []

        def __len__(self):
            return 3

        def __getitem__(self, index):
            return np.full((2, 1), float(index)), np.zeros(2)

        def on_epoch_begin(self):
            self.events.append("begin")

        def on_epoch_end(self):
            self.events.append("end")

    data = Data()
    it = EpochIterator(data_adapter.PyDatasetAdapter(data, _checks()))
    assert it.num_batches == 3 and len(_epoch(it)) == 3
    with contextlib.closing(it.epoch()) as batches:
        next(batches)
    assert data.events == ["begin", "end", "begin", "end"]


def test_make_adapter_picks_the_source():
    x, y = np.ones((4, 2)), np.ones(4)
    assert isinstance(data_adapter.make_adapter(x, y, caller="fit"), ArrayAdapter)
    assert isinstance(data_adapter.make_adapter(iter([(x, y)]), caller="fit"), data_adapter.GeneratorAdapter)
    assert not data_adapter.is_iterator(x) and not data_adapter.is_iterator([x])
    adapter = data_adapter.make_adapter(x, y, caller="fit", class_weight={1: 3.0})
    np.testing.assert_array_equal(adapter.data[2], [3.0] * 4)
    with pytest.raises(ValueError, match=r"fit: the PyDataset Empty has no batches \(len\(\) is 0\)"):
        class Empty(nr.utils.PyDataset):
            def __len__(self):
                return 0

        data_adapter.make_adapter(Empty(), caller="fit")
