"""Magnitude pruning: exact sparsities, masks that hold through training and files, gradual schedules."""

import h5py
import numpy as np
import pytest
from _harness.compression_models import accuracy
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import compression, layers
from neurona.compression import ConstantSparsity, PolynomialDecay, PruneWrapper, UpdatePruningStep
from neurona.compression.pruning import magnitude_masks, prune_wrappers


def _kernels(model):
    return {w.layer.name: w.layer.kernel.numpy() for w in prune_wrappers(model)}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), sparsity=st.floats(0.0, 0.99), scope=st.sampled_from(["layer", "global"]))
def test_masks_zero_exactly_the_smallest_weights(seed, sparsity, scope):
    rng = np.random.default_rng(seed)
    kernels = [rng.normal(size=(7, 5)) * 3, rng.normal(size=(3, 3, 2, 4)), np.round(rng.normal(size=(11,)), 1)]
    masks = magnitude_masks(kernels, sparsity, scope)
    assert all(m.shape == k.shape and set(np.unique(m)) <= {0.0, 1.0} for m, k in zip(masks, kernels))
    groups = [(kernels, masks)] if scope == "global" else [([k], [m]) for k, m in zip(kernels, masks)]
    for ks, ms in groups:
        magnitudes = np.concatenate([np.abs(k).ravel() for k in ks])
        kept = np.concatenate([m.ravel() for m in ms]).astype(bool)
        assert (~kept).sum() == round(sparsity * magnitudes.size)
        if kept.any() and (~kept).any():
            assert magnitudes[kept].min() >= magnitudes[~kept].max()


def test_polynomial_decay_is_zhu_and_gupta_s_cubic_and_updates_every_frequency_steps():
    schedule = PolynomialDecay(0.1, 0.9, begin_step=10, end_step=110, frequency=25)
    for step in (10, 35, 60, 110, 500):
        progress = min(1.0, (step - 10) / 100)
        assert schedule.sparsity(step) == pytest.approx(0.9 + (0.1 - 0.9) * (1 - progress) ** 3, abs=1e-12)
    assert schedule.sparsity(5) == 0.0
    assert [s for s in range(0, 200) if schedule.updates_at(s)] == [10, 35, 60, 85, 110]
    constant = ConstantSparsity(0.5, begin_step=4, frequency=3)
    assert [constant.sparsity(s) for s in (0, 4, 1000)] == [0.0, 0.5, 0.5]
    for bad in (dict(initial_sparsity=0.0, final_sparsity=1.0, begin_step=0, end_step=10),
                dict(initial_sparsity=0.0, final_sparsity=0.5, begin_step=10, end_step=5),
                dict(initial_sparsity=0.0, final_sparsity=0.5, begin_step=0, end_step=10, frequency=0)):
        with pytest.raises(ValueError):
            PolynomialDecay(**bad)


def test_one_shot_pruning_keeps_its_zeros_through_fine_tuning_and_save_load(trained_cnn, mnist_small, tmp_path):
    x_train, y_train, x_test, y_test = mnist_small
    before = [w.copy() for w in trained_cnn.get_weights()]
    pruned = compression.prune_low_magnitude(trained_cnn, 0.5)
    assert all(np.array_equal(a, b) for a, b in zip(before, trained_cnn.get_weights()))
    report = compression.sparsity_report(pruned)
    assert set(report) == {"conv2d", "conv2d_1", "dense", "dense_1"}
    sizes = {w.layer.name: w.layer.kernel.size for w in prune_wrappers(pruned)}
    assert all(report[name] == round(0.5 * sizes[name]) / sizes[name] for name in report)
    zeros = {name: kernel == 0 for name, kernel in _kernels(pruned).items()}
    pruned.compile(optimizer=nr.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy")
    pruned.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)  # no callback: the mask alone holds
    for name, kernel in _kernels(pruned).items():
        assert (kernel[zeros[name]] == 0).all() and (kernel[~zeros[name]] != 0).mean() > 0.99
    assert accuracy(pruned, x_test, y_test) > accuracy(trained_cnn, x_test, y_test) - 0.04
    pruned.save(tmp_path / "pruned")
    loaded = nr.models.load_model(tmp_path / "pruned")
    np.testing.assert_array_equal(loaded.predict(x_test[:50], verbose=0), pruned.predict(x_test[:50], verbose=0))
    loaded.fit(x_train[:512], y_train[:512], batch_size=64, epochs=1, verbose=0, callbacks=[UpdatePruningStep()])
    for name, kernel in _kernels(loaded).items():
        assert (kernel[zeros[name]] == 0).all()


def test_stripped_models_predict_the_same_and_their_files_shrink(trained_cnn, mnist_small, tmp_path):
    x_test = mnist_small[2]
    pruned = compression.prune_low_magnitude(trained_cnn, 0.9, scope="global")
    masks = [w.mask.numpy() for w in prune_wrappers(pruned)]
    assert sum((m == 0).sum() for m in masks) == round(0.9 * sum(m.size for m in masks))
    plain = compression.strip_pruning(pruned)
    assert not any(isinstance(layer, PruneWrapper) for layer in plain.layers)
    np.testing.assert_allclose(plain.predict(x_test[:64], verbose=0), pruned.predict(x_test[:64], verbose=0),
                               rtol=1e-6, atol=1e-7)
    trained_cnn.save(tmp_path / "float", include_optimizer=False)
    plain.save(tmp_path / "sparse", include_optimizer=False)
    dense_size = (tmp_path / "float" / "model.h5").stat().st_size
    sparse_size = (tmp_path / "sparse" / "model.h5").stat().st_size
    assert sparse_size < 0.35 * dense_size
    with h5py.File(tmp_path / "sparse" / "model.h5", "r") as sparse, \
            h5py.File(tmp_path / "float" / "model.h5", "r") as dense:
        assert sparse["weights/dense/kernel"].compression == "gzip"
        assert dense["weights/dense/kernel"].compression is None
    reloaded = nr.models.load_model(tmp_path / "sparse")
    for a, b in zip(reloaded.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_gradual_pruning_follows_the_schedule_and_resumes_after_a_reload(trained_cnn, mnist_small, tmp_path):
    x_train, y_train, x_test, y_test = mnist_small
    schedule = PolynomialDecay(0.0, 0.8, begin_step=0, end_step=60, frequency=10)
    pruned = compression.prune_low_magnitude(trained_cnn, schedule=schedule, scope="global")
    pruned.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    seen = []

    class Watch(nr.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append({name: kernel == 0 for name, kernel in _kernels(pruned).items()})

    pruned.fit(x_train[:1920], y_train[:1920], batch_size=64, epochs=1, verbose=0,
               callbacks=[UpdatePruningStep(), Watch()])  # 30 steps: halfway
    wrappers = prune_wrappers(pruned)
    total = sum(w.mask.numpy().size for w in wrappers)
    overall = sum(w.mask.numpy().size * w.sparsity() for w in wrappers) / total
    assert overall == pytest.approx(schedule.sparsity(30), abs=1.0 / total + 1e-9)
    for earlier, later in zip(seen, seen[1:]):  # once pruned, a weight stays pruned
        assert all((later[name] | ~earlier[name]).all() for name in earlier)
    pruned.save(tmp_path / "half")
    resumed = nr.models.load_model(tmp_path / "half")
    assert int(prune_wrappers(resumed)[0].pruning_step.numpy()) == 30
    resumed.fit(x_train[:2560], y_train[:2560], batch_size=64, epochs=1, verbose=0, callbacks=[UpdatePruningStep()])
    wrappers = prune_wrappers(resumed)
    overall = sum(w.mask.numpy().size * w.sparsity() for w in wrappers) / total
    assert overall == pytest.approx(0.8, abs=1.0 / total + 1e-9)
    assert accuracy(resumed, x_test, y_test) > 0.6


def test_the_onnx_export_of_a_pruned_model_matches(trained_cnn, mnist_small, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    x = mnist_small[2][:32]
    pruned = compression.prune_low_magnitude(trained_cnn, 0.5)
    nr.saving.export_onnx(pruned, tmp_path / "pruned.onnx")
    got = ort.InferenceSession(str(tmp_path / "pruned.onnx")).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, pruned.predict(x, verbose=0), atol=1e-5)


def test_bad_arguments_are_refused(trained_cnn):
    with pytest.raises(ValueError, match="either sparsity="):
        compression.prune_low_magnitude(trained_cnn)
    with pytest.raises(ValueError, match="either sparsity="):
        compression.prune_low_magnitude(trained_cnn, 0.5, schedule=ConstantSparsity(0.5))
    for bad in (1.0, -0.1, "half", True):
        with pytest.raises(ValueError, match="fraction in"):
            compression.prune_low_magnitude(trained_cnn, bad)
    with pytest.raises(ValueError, match="scope must be one of"):
        compression.prune_low_magnitude(trained_cnn, 0.5, scope="network")
    model = nr.Sequential([layers.Input((4,)), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="no PruneWrapper layers"):
        model.fit(np.zeros((4, 4)), np.zeros((4, 3)), verbose=0, callbacks=[UpdatePruningStep()])
