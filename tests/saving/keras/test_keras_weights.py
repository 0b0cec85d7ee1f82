"""Keras's HDF5 weight layouts <-> Neurona models (neurona/saving/keras/weights.py), against real Keras 3.

Each case builds a Keras model with random weights (moving statistics and adapted means included) and the
equivalent Neurona model by hand; the weights travel through Keras 3's ``.weights.h5`` layout, the legacy
whole-model ``.h5`` layout and the legacy weights-only layout, both ways, and predictions must agree.
Tests that need Keras ask for the ``keras`` fixture, so the others run without it.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before any import of keras

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import neurona as nr  # noqa: E402
from neurona import layers, models  # noqa: E402
from neurona.saving import h5_files, weights_h5  # noqa: E402
from neurona.saving.errors import FileFormatError  # noqa: E402
from neurona.saving.keras import weights as kw  # noqa: E402

ATOL = 1e-6


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


# ---- the cases: (Keras model, Neurona model, input shape) ------------------------------------------------
def _dense(k, nl, nm, inp):
    return ([k.Input((6,)), k.layers.Dense(5, activation="tanh"), k.layers.Dense(3)],
            [inp((6,)), nl.Dense(5, activation="tanh"), nl.Dense(3)])


def _conv1d(k, nl, nm, inp):
    return ([k.Input((9, 3)), k.layers.Conv1D(4, 3, activation="relu"), k.layers.Flatten(), k.layers.Dense(2)],
            [inp((9, 3)), nl.Conv1D(4, 3, activation="relu"), nl.Flatten(), nl.Dense(2)])


def _conv2d(k, nl, nm, inp):
    return ([k.Input((6, 5, 2)), k.layers.Conv2D(3, (3, 2), padding="same"), k.layers.Flatten(), k.layers.Dense(2)],
            [inp((6, 5, 2)), nl.Conv2D(3, (3, 2), padding="same"), nl.Flatten(), nl.Dense(2)])


def _batch_norm(k, nl, nm, inp):
    return ([k.Input((4,)), k.layers.Dense(6), k.layers.BatchNormalization(), k.layers.Dense(2)],
            [inp((4,)), nl.Dense(6), nl.BatchNormalization(), nl.Dense(2)])


def _layer_norm(k, nl, nm, inp):
    return ([k.Input((5, 4)), k.layers.LayerNormalization(), k.layers.Flatten(), k.layers.Dense(2)],
            [inp((5, 4)), nl.LayerNormalization(), nl.Flatten(), nl.Dense(2)])


def _group_norm(k, nl, nm, inp):
    return ([k.Input((3, 3, 4)), k.layers.GroupNormalization(groups=2), k.layers.Flatten(), k.layers.Dense(2)],
            [inp((3, 3, 4)), nl.GroupNormalization(groups=2), nl.Flatten(), nl.Dense(2)])


def _normalization(k, nl, nm, inp):
    """One adapted Normalization (Keras: mean, variance, count) and one of constants (Keras: no variables)."""
    mean, variance = [0.5, -1.0, 2.0], [4.0, 0.25, 1.5]
    return ([k.Input((3,)), k.layers.Normalization(), k.layers.Normalization(mean=mean, variance=variance),
             k.layers.Dense(2)],
            [inp((3,)), nl.Normalization(), nl.Normalization(mean=mean, variance=variance), nl.Dense(2)])


def _nested(k, nl, nm, inp):
    """A functional model calling a nested Sequential (Dense + BatchNormalization), then a Dense head."""
    def build(lib, input_fn, model_fn, sequential):
        base = sequential([input_fn((5,)), lib.Dense(8, activation="relu"), lib.BatchNormalization()], name="base")
        x = input_fn((5,))
        return model_fn(x, lib.Dense(3, name="head")(base(x)), name="outer")

    return (build(k.layers, k.Input, k.Model, k.Sequential), build(nl, inp, nm.Model, nm.Sequential))


CASES = {"dense": _dense, "conv1d": _conv1d, "conv2d": _conv2d, "batch_norm": _batch_norm,
         "layer_norm": _layer_norm, "group_norm": _group_norm, "normalization": _normalization,
         "nested": _nested}


def _randomize_keras(model, rng):
    """Non-trivial values for every float variable, positive ones for variances."""
    for var in model.weights:
        if "int" in str(var.dtype):
            continue
        shape = tuple(var.shape)
        var.assign(_random(rng, shape, "variance" in var.path, "float32"))
    for layer in model.layers:
        if hasattr(layer, "finalize_state"):  # Normalization computes what it uses from its variables here
            layer.finalize_state()


def _randomize_neurona(model, rng):
    """Random weights, but a Normalization's given mean and variance (constants of its config, as in Keras)."""
    constants = {id(w) for layer in model._all_sublayers() if isinstance(layer, layers.Normalization)
                 and layer.input_mean is not None for w in layer.weights}
    model.set_weights([w.numpy() if id(w) in constants else _random(rng, w.shape, "variance" in w.name, w.dtype)
                       for w in model.weights])


def _random(rng, shape, positive, dtype):
    """Values of order 1 (outputs stay near 1, where float32 resolves 1e-7): in [0.5, 1.5] for variances."""
    return (rng.uniform(0.5, 1.5, size=shape) if positive else rng.uniform(-0.3, 0.3, size=shape)).astype(dtype)


def _make(keras, case, seed=0):
    """``(keras model, neurona model, inputs)`` for ``case``; only the Keras model has random weights."""
    k_spec, n_spec = CASES[case](keras, layers, models, nr.Input)
    k_model = k_spec if isinstance(k_spec, keras.Model) else keras.Sequential(k_spec)
    n_model = n_spec if isinstance(n_spec, models.Model) else models.Sequential(n_spec)
    rng = np.random.default_rng(seed)
    _randomize_keras(k_model, rng)
    x = rng.normal(size=(4, *n_model.input_shape[1:])).astype("float32")
    return k_model, n_model, x


def _keras_predict(keras, model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def _save_keras(keras, model, layout, folder):
    """Save ``model`` in ``layout`` (keras3 / legacy_model / legacy_weights) and return the path."""
    if layout == "keras3":
        path = os.path.join(folder, "k.weights.h5")
        model.save_weights(path)
    elif layout == "legacy_model":
        path = os.path.join(folder, "k.h5")
        keras.saving.save_model(model, path)
    else:  # Keras 3's public API cannot write this Keras 2 layout: its legacy writer can
        from keras.src.legacy.saving import legacy_h5_format

        path = os.path.join(folder, "w.h5")
        with h5py.File(path, "w") as h5:
            legacy_h5_format.save_weights_to_hdf5_group(h5, model)
    return path


def _read(path, model):
    h5 = h5_files.open_h5(path, path)
    try:
        return kw.read_weights(h5, model, path)
    finally:
        h5.close()


def _write(path, fill):
    with open(path, "wb") as f:
        f.write(h5_files.image(fill))


# ---- Keras -> Neurona ------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["keras3", "legacy_model", "legacy_weights"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_keras_file_gives_the_same_predictions(keras, tmp_path, case, layout):
    k_model, n_model, x = _make(keras, case)
    path = _save_keras(keras, k_model, layout, str(tmp_path))
    with h5_files.open_h5(path, path) as h5:
        assert kw.detect_layout(h5) == layout
    n_model.set_weights(_read(path, n_model))
    np.testing.assert_allclose(n_model.predict(x, verbose=0), _keras_predict(keras, k_model, x), rtol=0, atol=ATOL)


# ---- Neurona -> Keras ------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["keras3", "legacy_weights", "legacy_model"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_neurona_file_loads_in_keras(keras, tmp_path, case, layout):
    k_model, n_model, x = _make(keras, case)
    _randomize_neurona(n_model, np.random.default_rng(7))
    if layout == "keras3":
        path = str(tmp_path / "n.weights.h5")
        _write(path, lambda h5: kw.write_keras3(h5, n_model))
        k_model.load_weights(path)
    elif layout == "legacy_weights":
        path = str(tmp_path / "n.h5")
        _write(path, lambda h5: kw.write_legacy(h5, n_model))
        k_model.load_weights(path)
    else:
        path = str(tmp_path / "m.h5")

        def fill(h5):
            h5.attrs["model_config"] = k_model.to_json()  # what the lead's writer adds
            kw.write_legacy(h5.create_group("model_weights"), n_model)

        _write(path, fill)
        k_model = keras.saving.load_model(path, compile=False)
    np.testing.assert_allclose(_keras_predict(keras, k_model, x), n_model.predict(x, verbose=0), rtol=0, atol=ATOL)


def test_keras3_file_names_every_layer(tmp_path):
    """Keras 3.15's layout: a ``vars`` group per layer with its name, datasets 0, 1, ... in Keras's order."""
    n_model = _nested_neurona()
    path = str(tmp_path / "n.weights.h5")
    _write(path, lambda h5: kw.write_keras3(h5, n_model))
    with h5py.File(path, "r") as h5:
        group = h5["layers/sequential/layers/batch_normalization/vars"]
        norm = n_model.get_layer("base").layers[1]
        assert group.attrs["name"] == norm.name and sorted(group) == ["0", "1", "2", "3"]
        np.testing.assert_array_equal(group["2"][()], norm.moving_mean.numpy())
        assert h5["layers/sequential/vars"].attrs["name"] == "base"
        assert h5["layers/dense/vars/0"].shape == (8, 3) and h5["vars"].attrs["name"] == "outer"


def _nested_neurona():
    base = models.Sequential([nr.Input((5,)), layers.Dense(8), layers.BatchNormalization()], name="base")
    x = nr.Input((5,))
    model = models.Model(x, layers.Dense(3, name="head")(base(x)), name="outer")
    _randomize_neurona(model, np.random.default_rng(3))
    return model


@pytest.mark.parametrize("layout", ["keras3", "legacy_model", "keras_archive"])
def test_compiled_keras_model_optimizer_state_is_ignored(keras, tmp_path, layout):
    """A compiled model's files also hold its optimizer's state (and training_config): only layers are read."""
    import io
    import zipfile

    k_model, n_model, x = _make(keras, "nested")
    k_model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    k_model.optimizer.build(k_model.trainable_variables)  # what fit does first (Keras's numpy backend cannot fit)
    if layout == "keras_archive":  # the weights member of a .keras zip is Keras 3's layout
        k_model.save(str(tmp_path / "m.keras"))
        with zipfile.ZipFile(tmp_path / "m.keras") as archive:
            data = archive.read("model.weights.h5")
        with h5_files.open_h5(io.BytesIO(data), "m.keras") as h5:
            assert kw.detect_layout(h5) == "keras3"
            n_model.set_weights(kw.read_weights(h5, n_model, "m.keras"))
    else:
        n_model.set_weights(_read(_save_keras(keras, k_model, layout, str(tmp_path)), n_model))
    np.testing.assert_allclose(n_model.predict(x, verbose=0), _keras_predict(keras, k_model, x), rtol=0, atol=ATOL)


# ---- subclassed models: layers at attribute names, a list of layers, a weight of the model itself ------------
class NeuronaNet(models.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = layers.Dense(4, activation="tanh")
        self.blocks = [layers.Dense(4), layers.BatchNormalization()]
        self.head = layers.Dense(2)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(2,), initializer="ones", name="scale")
        super().build(input_shape)

    def call(self, x, training=None):
        x = self.encoder(x)
        for block in self.blocks:
            x = block(x, training=training)
        return self.head(x) * self.scale


def _keras_net(keras):
    class KerasNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.encoder = keras.layers.Dense(4, activation="tanh")
            self.blocks = [keras.layers.Dense(4), keras.layers.BatchNormalization()]
            self.head = keras.layers.Dense(2)
            self.scale = self.add_weight(shape=(2,), initializer="ones", name="scale")

        def call(self, x):
            x = self.encoder(x)
            for block in self.blocks:
                x = block(x)
            return self.head(x) * self.scale

    return KerasNet()


@pytest.mark.parametrize("layout", ["keras3", "legacy_weights"])
def test_subclassed_model_both_ways(keras, tmp_path, layout):
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    k_model, n_model = _keras_net(keras), NeuronaNet()
    k_model(x), n_model(x)
    _randomize_keras(k_model, np.random.default_rng(1))
    n_model.set_weights(_read(_save_keras(keras, k_model, layout, str(tmp_path)), n_model))
    np.testing.assert_allclose(n_model.predict(x, verbose=0), _keras_predict(keras, k_model, x), rtol=0, atol=ATOL)
    _randomize_neurona(n_model, np.random.default_rng(2))
    path = str(tmp_path / ("n.weights.h5" if layout == "keras3" else "n.h5"))
    _write(path, lambda h5: (kw.write_keras3 if layout == "keras3" else kw.write_legacy)(h5, n_model))
    k_model.load_weights(path)
    np.testing.assert_allclose(_keras_predict(keras, k_model, x), n_model.predict(x, verbose=0), rtol=0, atol=ATOL)


# ---- Keras's legacy order of a nested model's variables ---------------------------------------------------
@pytest.mark.parametrize("frozen", [False, True])
def test_legacy_nested_order_trainable_first_or_frozen(keras, tmp_path, frozen):
    """A nested model whose non-trainable variables come before trainable ones: Keras's legacy files list
    trainable variables first (all in ``weights`` order when the model was frozen); other names than ours."""
    k_base = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(), keras.layers.Dense(3)])
    k_model = keras.Sequential([keras.Input((4,)), k_base, keras.layers.Dense(2)])
    _randomize_keras(k_model, np.random.default_rng(1))
    k_base.trainable = not frozen
    path = _save_keras(keras, k_model, "legacy_weights", str(tmp_path))
    n_base = models.Sequential([nr.Input((4,)), layers.BatchNormalization(name="bn"), layers.Dense(3, name="d")])
    n_model = models.Sequential([nr.Input((4,)), n_base, layers.Dense(2)])
    n_model.set_weights(_read(path, n_model))
    x = np.random.default_rng(2).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(n_model.predict(x, verbose=0), _keras_predict(keras, k_model, x), rtol=0, atol=ATOL)


# ---- mismatches -----------------------------------------------------------------------------------------
def _mismatch_models(keras):
    k_model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name="first"), keras.layers.Dense(3)])
    _randomize_keras(k_model, np.random.default_rng(4))
    wrong_shape = models.Sequential([nr.Input((6,)), layers.Dense(4, name="mine"), layers.Dense(3)])
    missing = models.Sequential([nr.Input((6,)), layers.Dense(3, name="only")])
    no_bias = models.Sequential([nr.Input((6,)), layers.Dense(5, use_bias=False, name="nb"), layers.Dense(3)])
    return k_model, wrong_shape, missing, no_bias


@pytest.mark.parametrize("layout", ["keras3", "legacy_model", "legacy_weights"])
def test_mismatches_name_layer_variable_and_shapes(keras, tmp_path, layout):
    k_model, wrong_shape, missing, no_bias = _mismatch_models(keras)
    path = _save_keras(keras, k_model, layout, str(tmp_path))
    before = [w.copy() for w in wrong_shape.get_weights()]
    with pytest.raises(FileFormatError) as error:
        _read(path, wrong_shape)
    message = str(error.value)
    assert path in message and "'mine'" in message and "kernel" in message and "(6, 5)" in message \
        and "(6, 4)" in message
    assert ("first" in message) if layout != "keras3" else ("layers/dense" in message and "first" in message)
    assert all(np.array_equal(a, b) for a, b in zip(before, wrong_shape.get_weights()))
    with pytest.raises(FileFormatError) as error:
        _read(path, missing)
    expected = "but not in the model: [\"layers/dense_1" if layout == "keras3" else "holds weights for 2 layers"
    assert expected in str(error.value) and path in str(error.value)
    with pytest.raises(FileFormatError, match=r"'nb' \(Dense\) has 1 variables") as error:
        _read(path, no_bias)
    assert "first" in str(error.value)


def test_normalization_of_constants_against_an_adapted_one(keras, tmp_path):
    """Keras's adapted Normalization has 3 variables, one built with mean= has none: a mismatch, not a guess."""
    k_model = keras.Sequential([keras.Input((3,)), keras.layers.Normalization(), keras.layers.Dense(2)])
    path = _save_keras(keras, k_model, "keras3", str(tmp_path))
    n_model = models.Sequential([nr.Input((3,)), layers.Normalization(mean=0.0, variance=1.0), layers.Dense(2)])
    with pytest.raises(FileFormatError, match="in the file but not in the model"):
        _read(path, n_model)


def test_changed_normalization_constants_are_not_written():
    """Keras rebuilds a Normalization given mean= from its config: other values in its weights would be lost."""
    model = models.Sequential([nr.Input((3,)), layers.Normalization(mean=1.0, variance=2.0), layers.Dense(2)])
    model.layers[0].adapt(np.random.default_rng(0).normal(size=(10, 3)))
    for write in (kw.write_keras3, kw.write_legacy):
        with pytest.raises(ValueError, match="mean="):
            h5_files.image(lambda h5, write=write: write(h5, model))


# ---- files that are refused (no Keras needed) -----------------------------------------------------------
def _legacy_weights_file(path, datasets, layer_names=None, **dataset_options):
    """A hand-written Keras 2 weights-only file: ``datasets`` = {layer name: [(weight name, array)]}."""
    with h5py.File(path, "w") as h5:
        h5.attrs["layer_names"] = np.array([n.encode() for n in (layer_names or list(datasets))])
        h5.attrs["backend"] = b"tensorflow"
        h5.attrs["keras_version"] = b"2.15.0"
        for name, weights in datasets.items():
            group = h5.create_group(name)
            group.attrs["weight_names"] = np.array([w.encode() for w, _ in weights])
            for weight, array in weights:
                group.create_dataset(weight, data=array, **dataset_options)


def _small_model():
    model = models.Sequential([nr.Input((3,)), layers.Dense(2, name="dense_9")])
    _randomize_neurona(model, np.random.default_rng(5))
    return model


def test_hand_written_keras2_file_is_read(tmp_path):
    """Keras 2's names (``dense/kernel:0``) and byte-string attributes; names differ, so order decides."""
    rng = np.random.default_rng(6)
    kernel, bias = rng.normal(size=(3, 2)), rng.normal(size=(2,))
    path = str(tmp_path / "w.h5")
    _legacy_weights_file(path, {"input_1": [], "dense": [("dense/kernel:0", kernel), ("dense/bias:0", bias)]})
    arrays = _read(path, _small_model())
    assert [a.dtype for a in arrays] == [np.float32, np.float32]  # float64 in the file, cast to the weights'
    np.testing.assert_allclose(arrays[0], kernel.astype("float32"))
    np.testing.assert_allclose(arrays[1], bias.astype("float32"))


def test_external_link_is_refused(tmp_path):
    other = str(tmp_path / "other.h5")
    with h5py.File(other, "w") as h5:
        h5.create_dataset("kernel", data=np.zeros((3, 2)))
    path = str(tmp_path / "w.h5")
    _legacy_weights_file(path, {"dense": [("dense/bias:0", np.zeros(2))]})
    with h5py.File(path, "a") as h5:
        h5["dense/dense/kernel:0"] = h5py.ExternalLink(other, "kernel")
    with pytest.raises(FileFormatError, match="external link"):
        h5_files.open_h5(path, path)
    with h5py.File(path, "r") as h5, pytest.raises(FileFormatError, match="external link"):
        kw.read_weights(h5, _small_model(), path)  # even when not opened through open_h5


def test_non_numeric_and_oversized_datasets_are_refused_before_reading(tmp_path):
    path = str(tmp_path / "strings.h5")
    _legacy_weights_file(path, {"dense": [("dense/kernel:0", np.array([b"ab"] * 6).reshape(3, 2)),
                                          ("dense/bias:0", np.zeros(2))]})
    with pytest.raises(FileFormatError, match="numeric array"):
        _read(path, _small_model())
    path = str(tmp_path / "bomb.h5")  # declares 40 GB, stores a few bytes: refused from its shape, never read
    with h5py.File(path, "w") as h5:
        h5.attrs["layer_names"] = np.array([b"dense"])
        group = h5.create_group("dense")
        group.attrs["weight_names"] = np.array([b"dense/kernel:0", b"dense/bias:0"])
        group.create_dataset("dense/kernel:0", shape=(100000, 100000), dtype="float32", chunks=(1000, 1000),
                             compression="gzip")
        group.create_dataset("dense/bias:0", data=np.zeros(2, "float32"))
    with pytest.raises(FileFormatError, match=r"\(100000, 100000\).*expects \(3, 2\)"):
        _read(path, _small_model())


def test_absolute_weight_names_are_refused(tmp_path):
    path = str(tmp_path / "w.h5")
    _legacy_weights_file(path, {"dense": [("dense/kernel:0", np.zeros((3, 2))), ("dense/bias:0", np.zeros(2))]})
    with h5py.File(path, "a") as h5:
        h5["dense"].attrs["weight_names"] = np.array([b"/dense/dense/kernel:0", b"dense/bias:0"])
    with pytest.raises(FileFormatError, match="not a relative HDF5 path"):
        _read(path, _small_model())


def test_neurona_file_is_not_a_keras_layout(tmp_path):
    model = _small_model()
    path = str(tmp_path / "own.h5")
    _write(path, lambda h5: weights_h5.write_weights(h5, model))
    with h5_files.open_h5(path, path) as h5:
        assert kw.detect_layout(h5) is None
        with pytest.raises(FileFormatError, match="not a Keras weights file"):
            kw.read_weights(h5, model, path)


# ---- Neurona -> Neurona through Keras's layouts (no Keras needed) ----------------------------------------
@pytest.mark.parametrize("writer", ["keras3", "legacy"])
def test_round_trip_without_keras(tmp_path, writer):
    source, copy = _nested_neurona(), _nested_neurona()
    _randomize_neurona(copy, np.random.default_rng(11))
    path = str(tmp_path / "r.h5")
    write = kw.write_keras3 if writer == "keras3" else kw.write_legacy
    _write(path, lambda h5: write(h5, source))
    copy.set_weights(_read(path, copy))
    for a, b in zip(copy.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_keras3_layers_found_by_name_before_path(tmp_path):
    """Where every name agrees, names decide: two Dense groups swapped in the file still land right."""
    source, copy = _nested_neurona(), _nested_neurona()
    path = str(tmp_path / "n.weights.h5")
    _write(path, lambda h5: kw.write_keras3(h5, source))
    copy.get_layer("base").layers[0].name = source.get_layer("base").layers[0].name  # names agree everywhere
    copy.get_layer("base").layers[1].name = source.get_layer("base").layers[1].name
    with h5py.File(path, "a") as h5:  # the outer Dense and the nested model trade places
        h5.move("layers/dense", "layers/tmp")
        h5.move("layers/sequential", "layers/dense")
        h5.move("layers/tmp", "layers/sequential")
    for a, b in zip(_read(path, copy), source.get_weights()):
        np.testing.assert_array_equal(a, b)
    copy.get_layer("head").name = "other"  # one name differs: paths decide, and they now disagree
    with pytest.raises(FileFormatError, match="does not match"):
        _read(path, copy)


def test_keras_2_13_layer_checkpoint_dependencies(tmp_path):
    """Keras 2.13's ``.keras`` weights say ``_layer_checkpoint_dependencies`` where Keras 3 says ``layers``."""
    source, copy = _nested_neurona(), _nested_neurona()
    path = str(tmp_path / "old.weights.h5")
    _write(path, lambda h5: kw.write_keras3(h5, source))
    with h5py.File(path, "a") as h5:
        h5.move("layers/sequential/layers", "layers/sequential/_layer_checkpoint_dependencies")
        h5.move("layers", "_layer_checkpoint_dependencies")
    copy.get_layer("head").name = "renamed"  # names disagree: the structural paths must be found
    for a, b in zip(_read(path, copy), source.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unbuilt_model_is_refused(tmp_path):
    path = str(tmp_path / "w.h5")
    _legacy_weights_file(path, {"dense": [("dense/kernel:0", np.zeros((3, 2))), ("dense/bias:0", np.zeros(2))]})
    model = models.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        _read(path, model)
    with pytest.raises(ValueError, match="not built"):
        h5_files.image(lambda h5: kw.write_keras3(h5, model))


def test_legacy_layers_found_by_name_before_order(tmp_path):
    source = models.Sequential([nr.Input((3,)), layers.Dense(4, name="a"), layers.Dense(4, name="b")])
    _randomize_neurona(source, np.random.default_rng(8))
    path = str(tmp_path / "n.h5")
    _write(path, lambda h5: kw.write_legacy(h5, source))
    with h5py.File(path, "a") as h5:
        h5.attrs["layer_names"] = np.array([b"b", b"a"])  # listed in the other order
    copy = models.Sequential([nr.Input((3,)), layers.Dense(4, name="a"), layers.Dense(4, name="b")])
    for a, b in zip(_read(path, copy), source.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_long_name_lists_are_split_as_keras_does(keras, tmp_path, monkeypatch):
    from keras.src.legacy.saving import legacy_h5_format

    monkeypatch.setattr(kw, "HEADER_LIMIT", 20)
    model = models.Sequential([nr.Input((3,)), *[layers.Dense(3, name=f"layer_number_{i}") for i in range(6)]])
    path = str(tmp_path / "n.h5")
    _write(path, lambda h5: kw.write_legacy(h5, model))
    with h5py.File(path, "r") as h5:
        assert "layer_names" not in h5.attrs and "layer_names0" in h5.attrs
        names = legacy_h5_format.load_attributes_from_hdf5_group(h5, "layer_names")
    assert names == [layer.name for layer in model.layers]
    assert all(np.array_equal(a, b) for a, b in zip(_read(path, model), model.get_weights()))
