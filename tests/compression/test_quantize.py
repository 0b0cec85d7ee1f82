"""quantize / quantize_dynamic / quantize_aware: accuracy kept, the float model untouched, files and ONNX."""

import numpy as np
import pytest
from _harness.compression_models import accuracy, small_cnn
from _harness.custom_layers import SubclassedDense

import neurona as nr
from neurona import compression, layers
from neurona.compression import QuantizeWrapper

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install 'neurona[onnx]'")


def _run_onnx(path, x):
    return ort.InferenceSession(str(path)).run(None, {"input": x})[0]


def _wrappers(model):
    return [layer for layer in model.layers if isinstance(layer, QuantizeWrapper)]


@pytest.mark.parametrize("calibration", ["minmax", "percentile"])
def test_post_training_int8_keeps_accuracy_and_leaves_the_float_model_alone(trained_cnn, mnist_small, calibration):
    x_train, _, x_test, y_test = mnist_small
    before = [w.copy() for w in trained_cnn.get_weights()]
    quantized = compression.quantize(trained_cnn, x_train[:256], calibration=calibration)
    assert [type(layer.layer).__name__ for layer in _wrappers(quantized)] == ["Conv2D", "Conv2D", "Dense", "Dense"]
    float_accuracy, int8_accuracy = accuracy(trained_cnn, x_test, y_test), accuracy(quantized, x_test, y_test)
    assert float_accuracy > 0.8 and abs(float_accuracy - int8_accuracy) <= 0.01
    assert all(np.array_equal(a, b) for a, b in zip(before, trained_cnn.get_weights()))
    # the simulation really is on the grid: the first conv's effective kernel takes at most 255 values per channel
    wrapper = _wrappers(quantized)[0]
    codes = wrapper.layer.kernel.numpy() / wrapper.weight_scale()
    assert np.abs(np.round(codes)).max() == 127
    prediction = quantized.predict(x_test[:64], verbose=0)
    assert not np.allclose(prediction, trained_cnn.predict(x_test[:64], verbose=0), atol=1e-6)


def test_the_qdq_onnx_graph_runs_integer_ops_and_matches_the_simulation_within_one_step(trained_cnn, mnist_small,
                                                                                          tmp_path):
    x_train, _, x_test, _ = mnist_small
    # a last layer without softmax, whose output is quantized too: its step is the unit of comparison
    logits = _with_linear_head(trained_cnn)
    quantized = compression.quantize(logits, x_train[:256])
    path = tmp_path / "int8.onnx"
    nr.saving.export_onnx(quantized, path)
    expected = quantized.predict(x_test[:300], verbose=0)
    got = _run_onnx(path, x_test[:300])
    step, _ = _wrappers(quantized)[-1].activation_params("output")
    assert np.abs(got - expected).max() <= step * (1 + 1e-5)
    assert (np.abs(got - expected) > step / 2).mean() < 0.01  # and nearly always exactly equal
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(path), options)
    import onnx

    ops = {node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node}
    assert {"QLinearConv"} <= ops and ops & {"QGemm", "QLinearMatMul", "MatMulIntegerToFloat"}
    float_path = tmp_path / "float.onnx"
    nr.saving.export_onnx(logits, float_path)
    # the weights take a quarter of the bytes; the graph's own few kilobytes (node names, the Q/DQ pairs'
    # scales) weigh more in a model this small than in the MNIST CNN of docs/compression.md
    def weight_bytes(file):
        return sum(len(t.raw_data) or t.ByteSize() for t in onnx.load(str(file)).graph.initializer)

    assert weight_bytes(path) * 3.5 < weight_bytes(float_path)
    assert path.stat().st_size * 2.5 < float_path.stat().st_size


def _with_linear_head(model):
    """``model`` with its softmax layer replaced by a linear one holding the same weights."""
    config = model.layers[-1].get_config()
    head = layers.Dense.from_config({**config, "activation": "linear"})
    copy = nr.Sequential([layers.Input((28, 28, 1)), *[nr.models.cloning.clone_layer(layer)
                                                       for layer in model.layers[:-1]], head])
    for original, new in zip(model.layers, copy.layers):
        new.set_weights(original.get_weights())
    return copy


def test_a_quantized_model_saves_loads_and_exports_after_reloading(trained_cnn, mnist_small, tmp_path):
    x_train, _, x_test, _ = mnist_small
    quantized = compression.quantize(trained_cnn, x_train[:128], weight_bits=4, activation_bits=6)
    quantized.save(tmp_path / "q")
    loaded = nr.models.load_model(tmp_path / "q")
    np.testing.assert_array_equal(loaded.predict(x_test[:50], verbose=0), quantized.predict(x_test[:50], verbose=0))
    wrapper = _wrappers(loaded)[0]
    assert (wrapper.weight_bits, wrapper.activation_bits, wrapper.activations) == (4, 6, "static")
    nr.saving.export_onnx(loaded, tmp_path / "q.onnx")
    np.testing.assert_allclose(_run_onnx(tmp_path / "q.onnx", x_test[:50]), loaded.predict(x_test[:50], verbose=0),
                               atol=2e-2)


def test_dynamic_quantization_needs_no_data_and_onnxruntime_computes_the_same(trained_cnn, mnist_small, tmp_path):
    _, _, x_test, y_test = mnist_small
    dynamic = compression.quantize_dynamic(trained_cnn)
    dense_names = [layer.name for layer in trained_cnn.layers if isinstance(layer, layers.Dense)]
    assert [layer.layer.name for layer in _wrappers(dynamic)] == dense_names
    assert abs(accuracy(dynamic, x_test, y_test) - accuracy(trained_cnn, x_test, y_test)) <= 0.01
    nr.saving.export_onnx(dynamic, tmp_path / "dynamic.onnx")
    batch = x_test[:128]  # one batch: the input range is the batch's, in both
    np.testing.assert_allclose(_run_onnx(tmp_path / "dynamic.onnx", batch),
                               dynamic.predict(batch, batch_size=128, verbose=0), atol=1e-5)


@pytest.mark.parametrize("bits", [8, 4])
def test_quantization_aware_training_fine_tunes_on_the_grid_and_moves_the_ranges(trained_cnn, mnist_small, bits):
    x_train, y_train, x_test, y_test = mnist_small
    nr.seed(1)
    aware = compression.quantize_aware(trained_cnn, weight_bits=bits, activation_bits=bits)
    aware.compile(optimizer=nr.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    first = _wrappers(aware)[0]
    aware.fit(x_train[:1024], y_train[:1024], batch_size=64, epochs=1, verbose=0)
    start = first.input_range.numpy().copy()
    assert start[1] > 0.9  # set from the pixels' [0, 1] range by the first batches
    history = aware.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert accuracy(aware, x_test, y_test) >= accuracy(trained_cnn, x_test, y_test) - (0.02 if bits == 8 else 0.05)
    frozen = first.input_range.numpy().copy()
    aware.predict(x_test[:10], verbose=0)  # inference never moves a range
    np.testing.assert_array_equal(first.input_range.numpy(), frozen)


def test_the_straight_through_gradient_reaches_the_float_kernel(trained_cnn, mnist_small):
    x_train, y_train, _, _ = mnist_small
    aware = compression.quantize_aware(trained_cnn, calibration_x=x_train[:64])
    loss = nr.losses.sparse_categorical_crossentropy(y_train[:32], aware(x_train[:32], training=True)).mean()
    aware.zero_grad()
    loss.backward()
    grads = [w.grad for w in aware.trainable_weights]
    assert all(g is not None and np.abs(np.asarray(g)).sum() > 0 for g in grads)
    assert len(grads) == len(trained_cnn.trainable_weights)


def test_bad_models_and_arguments_are_refused_with_what_was_expected(trained_cnn, mnist_small):
    x_train = mnist_small[0][:32]

    with pytest.raises(TypeError, match="Sequential or functional"):
        compression.quantize(SubclassedDense(), x_train)
    with pytest.raises(ValueError, match="calibration_x is required"):
        compression.quantize(trained_cnn, None)
    with pytest.raises(ValueError, match="calibration must be one of"):
        compression.quantize(trained_cnn, x_train, calibration="entropy")
    with pytest.raises(ValueError, match=r"\['nope'\] are not"):
        compression.quantize(trained_cnn, x_train, layers=["nope"])
    with pytest.raises(ValueError, match="integer from 2 to 8"):
        compression.quantize(trained_cnn, x_train, weight_bits=16)
    last = trained_cnn.layers[-1].name
    quantized = compression.quantize(trained_cnn, x_train, layers=[last])
    assert [w.layer.name for w in _wrappers(quantized)] == [last]
    with pytest.raises(ValueError, match="already transformed"):
        compression.quantize(quantized, x_train)
    with pytest.raises(TypeError, match="wraps a layer with a kernel"):
        QuantizeWrapper(layers.Flatten())
    with pytest.raises(ValueError, match="not built"):
        compression.quantize(small_cnn().__class__([layers.Dense(3)]), x_train)
    uncalibrated = compression.quantize_aware(trained_cnn)
    with pytest.raises(ValueError, match="has no input range yet"):
        uncalibrated.predict(x_train, verbose=0)
