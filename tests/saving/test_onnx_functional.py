"""export_onnx of functional graphs: shared layers (one initializer per weight), merge layers, several inputs and
outputs, nested models inlined, ops on symbolic tensors; onnxruntime agrees with model.predict within 1e-5."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models, saving

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install 'neurona[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install 'neurona[onnx]'")


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _agree(model, feeds, path):
    """Export, check, run in onnxruntime; the outputs match ``model.predict`` within 1e-5. Returns the proto."""
    proto = saving.export_onnx(model, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    names = [i.name for i in proto.graph.input]
    x = [feeds[n] for n in names] if len(names) > 1 else feeds[names[0]]
    expected = [np.asarray(e) for e in nr.nest.flatten(model.predict(x))]
    got = _session(path).run(None, feeds)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-5)
    return proto


def _brief_model():
    """A shared layer, a merge, two outputs and a nested Sequential, on two inputs."""
    a, b = nr.Input((6,), name="a"), nr.Input((4,), name="b")
    encoder = models.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                                 layers.Dropout(0.5), layers.Dense(5, activation="tanh")], name="encoder")
    shared = layers.Dense(5, activation="gelu", name="shared")
    left = shared(encoder(a))
    right = shared(layers.Dense(5, name="lift")(b))
    merged = layers.Concatenate(name="merged")([layers.Add()([left, right]), layers.Multiply()([left, right])])
    scores = layers.Dense(3, activation="softmax", name="scores")(merged)
    gap = layers.Subtract(name="gap")([left, right])
    return models.Model([a, b], [scores, gap], name="two_heads")


def _trained_brief_model():
    model = _brief_model()
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(16, 6)).astype(np.float32), rng.normal(size=(16, 4)).astype(np.float32)]
    encoder = model.get_layer("encoder")
    encoder.compile(optimizer="sgd", loss="mse")  # moving statistics away from their initial values
    encoder.fit(x[0], rng.normal(size=(16, 5)).astype(np.float32), batch_size=4, epochs=2, verbose=0)
    return model, x


def test_shared_layer_merge_two_outputs_and_nested_sequential_match_onnxruntime(tmp_path):
    model, x = _trained_brief_model()
    proto = _agree(model, {"a": x[0], "b": x[1]}, tmp_path / "m.onnx")
    assert [i.name for i in proto.graph.input] == ["a", "b"]
    assert [o.name for o in proto.graph.output] == ["scores", "gap"]
    kernel = model.get_layer("shared").kernel.numpy()
    stored = [init for init in proto.graph.initializer
              if onnx.numpy_helper.to_array(init).shape == kernel.shape
              and np.array_equal(onnx.numpy_helper.to_array(init), kernel)]
    assert len(stored) == 1  # the shared layer's kernel: one initializer, read by both calls
    matmuls = [n for n in proto.graph.node if n.op_type == "MatMul" and stored[0].name in n.input]
    assert len(matmuls) == 2
    for batch in (1, 7):  # the batch size stays symbolic
        feeds = {"a": x[0][:batch], "b": x[1][:batch]}
        got = _session(tmp_path / "m.onnx").run(None, feeds)
        np.testing.assert_allclose(got[0], model.predict([feeds["a"], feeds["b"]])[0], rtol=0, atol=1e-5)


def test_every_merge_layer_with_broadcasting_and_dot_axes(tmp_path):
    seq, vec = nr.Input((3, 4), name="seq"), nr.Input((4,), name="vec")
    other = nr.Input((5, 4), name="other")
    outputs = [
        layers.Add()([seq, vec]),  # (batch, 4) gets an axis after the batch axis: (batch, 1, 4)
        layers.Subtract()([vec, seq]),
        layers.Multiply()([seq, vec, seq]),
        layers.Average()([seq, vec]),
        layers.Maximum()([seq, vec]),
        layers.Minimum()([vec, seq]),
        layers.Concatenate(axis=1)([seq, other]),
        layers.Dot(axes=(2, 2))([seq, other]),  # (batch, 3, 5)
        layers.Dot(axes=(1, 2), normalize=True)([vec, seq]),  # (batch, 3)
        layers.Dot(axes=1)([vec, vec]),  # (batch, 1)
    ]
    model = models.Model([seq, vec, other], outputs, name="merges")
    rng = np.random.default_rng(1)
    feeds = {"seq": rng.normal(size=(2, 3, 4)).astype(np.float32), "vec": rng.normal(size=(2, 4)).astype(np.float32),
             "other": rng.normal(size=(2, 5, 4)).astype(np.float32)}
    _agree(model, feeds, tmp_path / "merges.onnx")


def test_ops_on_symbolic_tensors(tmp_path):
    x = nr.Input((4, 6), name="x")
    y = nr.Input((6,), name="y")
    outputs = [x[:, 1], x[:, -1, ::2], x[..., None, 1:5:2], x[:, ::-1, -3:], x[:, 2:0:-1, -1],
               (x * 2.0 - y[:, None]) / 3.0 + 1.0, 1.0 - abs(-y), y @ np.eye(6, 2, dtype=np.float32), x ** 2.0]
    model = models.Model([x, y], outputs, name="ops")
    rng = np.random.default_rng(2)
    feeds = {"x": rng.normal(size=(3, 4, 6)).astype(np.float32), "y": rng.normal(size=(3, 6)).astype(np.float32)}
    _agree(model, feeds, tmp_path / "ops.onnx")


def test_nested_functional_models_are_inlined_and_dict_outputs_named_by_key(tmp_path):
    inner_in = nr.Input((4,))
    inner = models.Model(inner_in, [layers.Dense(3)(inner_in), layers.Dense(2)(inner_in)], name="inner")
    inputs = nr.Input((4,))
    first, second = inner(inputs)
    again, _ = inner(layers.Dense(4, name="mix")(inputs))  # the nested model called twice
    model = models.Model(inputs, {"sum": layers.Add()([first, again]), "second": layers.Identity()(second)})
    x = np.random.default_rng(3).normal(size=(5, 4)).astype(np.float32)
    proto = saving.export_onnx(model, tmp_path / "n.onnx")
    assert [o.name for o in proto.graph.output] == ["second", "sum"]  # sorted keys, as the outputs flatten
    got = dict(zip(["second", "sum"], _session(tmp_path / "n.onnx").run(None, {"input": x})))
    expected = model.predict(x)
    for key in got:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-5)
    assert len([n for n in proto.graph.node if n.op_type == "MatMul"]) == 5  # 2 per call of inner, 1 for mix


def test_a_subclassed_model_and_unsupported_ops_are_refused_clearly(tmp_path):
    class Sub(nr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Sub()
    model(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"is a subclassed Sub, whose graph is in its Python code"):
        saving.export_onnx(model, tmp_path / "s.onnx")
    x = nr.Input((4,))
    gathered = models.Model(x, x[:, [0, 2]])
    with pytest.raises(ValueError, match=r"indexes with \[0, 2\]; only constant ints, slices, None and \.\.\."):
        saving.export_onnx(gathered, tmp_path / "g.onnx")
    summed = models.Model(x, nr.ops.sum(x, axis=1))
    with pytest.raises(ValueError, match=r"applies neurona.ops.sum .*no ONNX converter"):
        saving.export_onnx(summed, tmp_path / "t.onnx")
    assert not any(tmp_path.iterdir())
