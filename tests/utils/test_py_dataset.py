"""PyDataset (alias Sequence): Keras 3's contract for subclasses, iteration, settings and batch unpacking."""

import math
import warnings

import numpy as np
import pytest

from neurona.utils import PyDataset, Sequence, unpack_batch


class Batches(PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.epochs_ended = x, y, batch_size, 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1
        order = np.random.default_rng(self.epochs_ended).permutation(len(self.x))
        self.x, self.y = self.x[order], self.y[order]


def test_subclass_batches_iteration_and_epoch_hook():
    x, y = np.arange(10.0)[:, None], np.arange(10)
    data = Batches(x, y, batch_size=4, workers=2, max_queue_size=3)
    assert len(data) == data.num_batches == 3
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (2, False, 3)
    batches = list(data)
    assert [len(b[1]) for b in batches] == [4, 4, 2]  # the last batch is smaller
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    data.on_epoch_end()
    assert data.epochs_ended == 1 and sorted(data.y.tolist()) == list(range(10))
    assert np.array_equal(data.x[:, 0], data.y)  # the pairs stay together
    assert Sequence is PyDataset and isinstance(data, Sequence)
    data.on_epoch_begin()  # the base's hooks exist and do nothing


def test_endless_dataset_and_missing_methods():
    class Endless(PyDataset):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return np.full((2, 1), index)

    it = iter(Endless())
    assert [int(next(it)[0, 0]) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        PyDataset()[0]
    with pytest.raises(NotImplementedError, match="must define __len__"):
        _ = PyDataset().num_batches


def test_forgotten_super_init_warns_and_uses_defaults():
    class NoSuper(PyDataset):
        def __init__(self):
            pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert NoSuper().workers == 1
    assert "should call super().__init__(**kwargs)" in str(caught[0].message)


@pytest.mark.parametrize("kwargs, match", [
    ({"workers": -1}, r"PyDataset: workers must be an integer >= 0, got -1"),
    ({"workers": 1.5}, r"workers .* got 1.5 \(float\)"),
    ({"max_queue_size": 0}, "PyDataset: max_queue_size must be an integer >= 1, got 0"),
])
def test_setting_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PyDataset(**kwargs)


def test_setting_type_error():
    with pytest.raises(TypeError, match="PyDataset: use_multiprocessing must be True or False, got 'yes'"):
        PyDataset(use_multiprocessing="yes")


def test_unpack_batch():
    x, y, w = np.zeros((2, 3)), np.ones(2), np.full(2, 0.5)
    assert unpack_batch(x) == (x, None, None)
    assert unpack_batch((x,)) == (x, None, None)
    assert unpack_batch([x, y]) == (x, y, None)
    assert unpack_batch((x, y, w)) == (x, y, w)
    assert unpack_batch({"a": x})[0] == {"a": x}
    with pytest.raises(ValueError, match="PyDataset batch 3 is a tuple of 4 items; expected x, \\(x,\\)"):
        unpack_batch((x, y, w, w), index=3)
    with pytest.raises(ValueError, match="PyDataset batch 0 must be x, \\(x,\\), \\(x, y\\)"):
        unpack_batch(None, index=0)
    with pytest.raises(ValueError, match="is a tuple of 0 items"):
        unpack_batch(())
