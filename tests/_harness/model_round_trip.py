"""One model through ``model.save``/``load_model`` (bit-identical predictions) and ``export_onnx`` (onnxruntime
within ``atol``), and a Keras model through its ``.keras`` file into Neurona (Keras's outputs)."""

import numpy as np
import pytest

from neurona import models, saving


def check_saved_and_exported(model, x, folder, atol=1e-5):
    expected = model.predict(x, verbose=0)
    model.save(folder / "m")
    np.testing.assert_array_equal(models.load_model(folder / "m").predict(x, verbose=0), expected)
    ort = pytest.importorskip("onnxruntime")
    saving.export_onnx(model, folder / "m.onnx")
    session = ort.InferenceSession(str(folder / "m.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: x})[0], expected, atol=atol)


def check_keras_file(keras_model, x, folder, name="k"):
    keras_model.save(folder / f"{name}.keras")
    np.testing.assert_allclose(models.load_model(folder / f"{name}.keras").predict(x, verbose=0),
                               np.asarray(keras_model(x)), rtol=1e-5, atol=1e-5)
