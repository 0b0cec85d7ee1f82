"""Keras 3's activation layers and activation names in Keras's JSON <-> Neurona, against real Keras
(test_keras_config's check: same predictions with Keras's weights, and Keras's JSON back option for option)."""

import json

import numpy as np
import pytest
from _harness.op_harness import sibling_module

keras = pytest.importorskip("keras")
interop = sibling_module(__file__, "test_keras_config")
KL = keras.layers


def test_activation_layers_and_names_round_trip_through_keras_json():
    model = keras.Sequential([
        keras.Input((3, 6)),
        KL.Dense(6, activation="celu"), KL.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5),
        KL.Dense(6, activation="log_sigmoid"), KL.LeakyReLU(negative_slope=0.05),
        KL.PReLU(shared_axes=[1], alpha_regularizer=keras.regularizers.L2(0.01)), KL.ELU(),
        KL.Dense(8, activation="glu"), KL.Softmax(axis=1),
    ], name="activations")
    rebuilt = interop.check_model(model, interop.data(5, 3, 6))
    assert [type(layer).__name__ for layer in rebuilt.layers][1::2] == ["ReLU", "LeakyReLU", "ELU", "Softmax"]
    prelu = rebuilt.layers[4]
    assert prelu.shared_axes == [1] and prelu.alpha.shape == (1, 6) and prelu.alpha_regularizer.l2 == \
        pytest.approx(0.01)


def test_elu_alpha_is_read_from_a_keras_2_config():
    written = json.loads(keras.Sequential([keras.Input((4,)), KL.ELU(name="elu")]).to_json())
    written["config"]["layers"][-1]["config"]["alpha"] = 0.5  # Keras 3.15's ELU forgets it; tf.keras 2 wrote it
    model = interop.json_config.model_from_config(interop.config.from_keras(written, "m.json"), "m.json")
    assert model.layers[-1].alpha == 0.5
    np.testing.assert_allclose(model.predict(np.array([[-1.0, 0, 1, -20]], "float32")),
                               [[0.5 * np.expm1(-1.0), 0, 1, -0.5]], rtol=1e-6)
