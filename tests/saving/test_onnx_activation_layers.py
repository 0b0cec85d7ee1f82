"""export_onnx of the activation layers (ReLU's options, LeakyReLU, PReLU, ELU, Softmax) and of the activations
celu, glu and log_sigmoid: onnxruntime reproduces Neurona's predictions (test_onnx_export's check)."""

import numpy as np
import pytest
from _harness.op_harness import sibling_module

from neurona import layers, models

pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install 'neurona[onnx]'")
check_matches = sibling_module(__file__, "test_onnx_export")._check_matches

X = 3 * np.random.default_rng(0).normal(size=(10, 3, 4)).astype(np.float32)


@pytest.mark.parametrize("layer, op_types", [
    (lambda: layers.ReLU(), {"Relu"}), (lambda: layers.ReLU(negative_slope=0.2), {"LeakyRelu"}),
    (lambda: layers.ReLU(max_value=6.0), {"Relu", "Clip"}),
    (lambda: layers.ReLU(threshold=0.5), {"Greater", "Where"}),
    (lambda: layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=1.0), {"Where", "Clip", "Relu", "Sub", "Mul"}),
    (lambda: layers.ReLU(max_value=1.5, negative_slope=0.3), {"Relu", "Clip", "Sub"}),
    (lambda: layers.LeakyReLU(), {"LeakyRelu"}), (lambda: layers.ELU(alpha=0.5), {"Elu"}),
    (lambda: layers.PReLU(alpha_initializer="he_normal"), {"PRelu"}),
    (lambda: layers.PReLU(shared_axes=[1], alpha_initializer="he_normal"), {"PRelu"}),
    (lambda: layers.Softmax(), {"Softmax"}), (lambda: layers.Softmax(axis=1), {"Softmax"}),
    (lambda: layers.Softmax(axis=[1, 2]), {"ReduceLogSumExp", "Exp"}),
    (lambda: layers.Activation("celu"), {"Celu"}), (lambda: layers.Activation("glu"), {"Split", "Sigmoid"}),
    (lambda: layers.Activation("log_sigmoid"), {"Softplus"}),
])
def test_activation_layer_matches_onnxruntime(tmp_path, layer, op_types):
    model = models.Sequential([layers.Input((3, 4)), layers.Dense(4), layer()])
    proto = check_matches(model, X, tmp_path / "a.onnx")
    assert op_types <= {node.op_type for node in proto.graph.node}


def test_new_activation_names_in_dense_match_onnxruntime(tmp_path):
    model = models.Sequential([layers.Input((3, 4)), layers.Dense(8, activation="glu"),
                               layers.Dense(5, activation="celu"), layers.Dense(4, activation="log_sigmoid")])
    assert model.output_shape == (None, 3, 4)
    check_matches(model, X, tmp_path / "d.onnx")
