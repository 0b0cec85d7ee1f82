"""fit/evaluate/predict read any re-iterable batch source (a PyTorch DataLoader) and other libraries' arrays."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.integers(0, 3, n)]


def _model(seed=1):
    nr.seed(seed)
    model = nr.Sequential([nr.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(3, activation="softmax")])
    model.compile(nr.optimizers.SGD(0.1), "categorical_crossentropy", metrics=["accuracy"])
    return model


class Batches:
    """An iterable (not an iterator) of (x, y) batches, read anew at every pass, like a DataLoader."""

    def __init__(self, x, y, size, with_len=True):
        self.x, self.y, self.size, self.with_len, self.passes = x, y, size, with_len, 0

    def __iter__(self):
        self.passes += 1
        for start in range(0, len(self.x), self.size):
            yield self.x[start:start + self.size], self.y[start:start + self.size]

    def __len__(self):
        if not self.with_len:
            raise TypeError("no length")
        return -(-len(self.x) // self.size)


def _same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("with_len", [True, False])
def test_an_iterable_is_read_anew_each_epoch_and_trains_like_the_arrays(with_len):
    x, y = _data()
    arrays, iterable = _model(), _model()
    source = Batches(x, y, 5, with_len)
    arrays.fit(x, y, batch_size=5, epochs=3, shuffle=False, verbose=0)
    history = iterable.fit(source, epochs=3, validation_data=source, verbose=0)
    assert _same_weights(arrays, iterable)
    assert source.passes == 6 and len(history.history["val_loss"]) == 3  # 3 training + 3 validation passes
    assert iterable.optimizer.iterations == 9
    np.testing.assert_allclose(iterable.evaluate(source, verbose=0), arrays.evaluate(x, y, batch_size=5, verbose=0),
                               rtol=1e-6)
    np.testing.assert_array_equal(iterable.predict(Batches(x, y, 5, with_len), verbose=0), iterable.predict(x))


def test_an_iterable_with_a_length_gives_the_progress_bar_its_steps(capsys):
    x, y = _data()
    _model().fit(Batches(x, y, 5), epochs=1, verbose=1)
    assert "3/3" in capsys.readouterr().out


def test_an_iterable_that_yields_no_batch_or_no_data_is_named():
    model = _model()
    with pytest.raises(ValueError, match=r"fit: range batch 0: x must have a batch axis"):
        model.fit(range(3), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"the Batches has no batches \(len\(\) is 0\)"):
        model.fit(Batches(np.zeros((0, 3), "float32"), np.zeros((0, 3), "float32"), 5), verbose=0)
    with pytest.raises(ValueError, match="y must not be given"):
        model.fit(Batches(*_data(), 5), np.zeros((12, 3)), verbose=0)


def test_predict_shows_a_progress_bar_by_default_as_keras_does(capsys):
    x, _ = _data()
    model = _model()
    model.predict(x, batch_size=4)
    assert "3/3" in capsys.readouterr().out
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


class ForeignArray:
    """Another library's array: its own dtype object, NumPy's array protocol (like torch.Tensor)."""

    def __init__(self, values):
        self.values = values
        self.shape, self.ndim, self.dtype = values.shape, values.ndim, object()

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    def __len__(self):
        return len(self.values)


def test_arrays_of_other_libraries_are_read_through_the_array_protocol():
    x, y = _data()
    arrays, foreign = _model(), _model()
    arrays.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    foreign.fit(ForeignArray(x), ForeignArray(y), batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert _same_weights(arrays, foreign)
    np.testing.assert_array_equal(foreign.predict(ForeignArray(x), verbose=0), foreign.predict(x, verbose=0))


def test_a_torch_dataloader_and_torch_tensors():
    torch = pytest.importorskip("torch")
    x, y = _data()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                         batch_size=5, shuffle=False)
    arrays, torched = _model(), _model()
    arrays.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    torched.fit(loader, epochs=2, verbose=0)
    assert _same_weights(arrays, torched)
    grad_tensor = torch.from_numpy(x).requires_grad_(True)  # refuses __array__ until detached
    np.testing.assert_array_equal(torched.predict(grad_tensor, verbose=0), torched.predict(x, verbose=0))


def test_a_dict_batch_into_a_sequential_model_is_named():
    model = _model()
    batches = [{"x": np.zeros((4, 3), "float32"), "y": np.zeros((4, 3), "float32")}]
    with pytest.raises(ValueError, match=r"takes one input array, got a dict with keys \['x', 'y'\]"):
        model.fit(iter(batches), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"takes one input array, got a list of 2"):
        model([np.zeros((4, 3)), np.zeros((4, 3))])
