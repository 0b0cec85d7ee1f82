"""fit's reference statistics wait for their first read (neurona/models/reference.py, issue 16): what fit does at
its end, what waits, and that waiting changes nothing a user can see (values, saves, checkpoints, errors)."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models, saving
from neurona.models import reference
from neurona.serving import reference_statistics as drift_pca
from neurona.serving.drift import ReferenceStatistics

N_FEATURES, N_CLASSES = 6, 3


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    return x, np.eye(N_CLASSES, dtype=np.float32)[labels]


def _classifier():
    model = models.Sequential([layers.Input((N_FEATURES,)), layers.Dense(8, activation="relu"),
                               layers.Dense(N_CLASSES, activation="softmax")], name="clf")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def _expected(model, x, max_samples=2000):
    if len(x) > 2 * max_samples:
        x = x[np.sort(np.random.default_rng(0).choice(len(x), 2 * max_samples, replace=False))]
    return ReferenceStatistics.from_arrays(x, model.predict(x, batch_size=256, verbose=0), components=32,
                                           max_samples=max_samples)


def _same(a, b):
    assert (a.input_shape, a.n_classes, a.n_components) == (b.input_shape, b.n_classes, b.n_components)
    for name, array in a.to_arrays().items():
        np.testing.assert_array_equal(array, b.to_arrays()[name], err_msg=name)


@pytest.fixture
def pca_calls(monkeypatch):
    calls = []
    summary = drift_pca._pca_summary
    monkeypatch.setattr(drift_pca, "_pca_summary", lambda *args: calls.append(1) or summary(*args))
    return calls


@pytest.mark.parametrize("n", [120, 4500])
def test_fit_leaves_the_pca_to_the_first_read(n, pca_calls):
    x, y = _data(n)
    model = _classifier()
    model.fit(x, y, epochs=1, batch_size=500, verbose=0)
    stats = model.reference_statistics
    assert pca_calls == [] and stats.n_classes == N_CLASSES and stats.entropies.size == min(n, 2000)
    expected = _expected(model, x)  # from_arrays: its own PCA
    pca_calls.clear()
    _same(stats, expected)
    assert pca_calls == [1]
    _same(stats, expected)
    assert pca_calls == [1]


def test_an_unread_statistics_is_never_computed(pca_calls):
    x, y = _data(100)
    model = _classifier()
    for _ in range(3):  # fit(epochs=1) once per epoch, as Keras programs do
        model.fit(x, y, epochs=1, verbose=0)
    assert pca_calls == []
    model.reference_statistics.to_arrays()
    assert pca_calls == [1]


def test_later_writes_to_the_data_do_not_reach_the_statistics():
    for n in (150, 4500):  # all rows (copied), a sample (drawn)
        x, y = _data(n)
        model = _classifier()
        model.fit(x, y, epochs=1, batch_size=500, verbose=0, validation_split=0.2)
        x_val = x[int(n * 0.8):].copy()
        x[:] = 7.0  # in place: fit held out a view of these rows
        _same(model.reference_statistics, _expected(model, x_val))


def test_deferred_and_immediate_statistics_are_equal(monkeypatch):
    x, y = _data(300)
    model = _classifier()
    model.fit(x, y, epochs=1, verbose=0)
    lazy = model.compute_reference_statistics(x)
    assert "_pending" in vars(lazy)
    monkeypatch.setattr(reference, "LAZY_MAX_BYTES", 0)  # nothing kept: computed at once
    now = model.compute_reference_statistics(x)
    assert type(now) is ReferenceStatistics
    _same(lazy, now)


def test_unread_statistics_save_load_and_checkpoint_as_computed_ones(tmp_path):
    x, y = _data(200)
    model = _classifier()
    model.fit(x, y, epochs=1, verbose=0)
    assert "_pending" in vars(model.reference_statistics)
    model.save(tmp_path / "m")
    expected = _expected(model, x)
    loaded = models.load_model(tmp_path / "m").reference_statistics
    assert type(loaded) is ReferenceStatistics
    _same(loaded, expected)
    model.fit(x, y, epochs=1, verbose=0)  # new, unread statistics
    saving.save_checkpoint(model, tmp_path / "ckpt", epoch=1)
    _same(saving.load_checkpoint(tmp_path / "ckpt").model.reference_statistics, _expected(model, x))


def test_clone_and_config_carry_no_statistics_as_before():
    x, y = _data(80)
    model = _classifier()
    model.fit(x, y, epochs=1, verbose=0)
    assert models.clone_model(model).reference_statistics is None
    assert "reference_statistics" not in repr(model.get_config())


def test_inputs_that_could_overflow_are_refused_in_the_call_and_skipped_by_fit():
    class Ignores(models.Model):  # probabilities whatever the inputs: only the statistics can fail
        def __init__(self):
            super().__init__(name="ignores")
            self.out = layers.Dense(N_CLASSES, activation="softmax")

        def call(self, x):
            return self.out(x * 0.0)

    x = (np.sign(np.random.default_rng(1).normal(size=(40, N_FEATURES))) * 3e38).astype(np.float32)
    model = Ignores()
    with pytest.raises(ValueError, match=r"compute_reference_statistics: the reference projections came out "
                                         r"non-finite"):
        model.compute_reference_statistics(x)
    assert model.reference_statistics is None
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    earlier = model.compute_reference_statistics(x / 1e38)
    model.fit(x, _data(40)[1], epochs=1, verbose=0)
    assert model.reference_statistics is earlier  # left as it was


def test_an_explicit_call_still_refuses_nan_outside_the_sample():
    x, _ = _data(4500)
    x[np.setdiff1d(np.arange(4500), reference.sample_rows(4500, 2000, 0))[0], 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _classifier().compute_reference_statistics(x)


def test_fit_end_work_does_not_touch_the_library_generator():
    x, y = _data(4500)
    draws = []
    for flag in (True, False):
        nr.seed(3)
        model = _classifier()
        model.fit(x, y, epochs=1, batch_size=500, verbose=0, reference_statistics=flag)
        if flag:
            model.reference_statistics.to_arrays()  # the deferred PCA draws nothing either
        draws.append(nr.backend.get_generator().integers(0, 2**62, size=2))
    np.testing.assert_array_equal(*draws)


def test_statistics_do_not_depend_on_the_thread_count(monkeypatch):
    x, y = _data(4500)
    model = _classifier()
    model.fit(x, y, epochs=1, batch_size=500, verbose=0, reference_statistics=False)
    results = []
    for threads in ("1", "2"):
        monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
        stats = model.compute_reference_statistics(x)
        stats.to_arrays()  # the deferred PCA, under this setting too
        results.append(stats)
    _same(*results)
