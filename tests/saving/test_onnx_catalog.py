"""export_onnx of issue 21's catalog: onnx's checker passes and onnxruntime reproduces Neurona's predictions."""

import numpy as np
import pytest

from neurona import layers, models, saving

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install 'neurona[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install 'neurona[onnx]'")

MODELS = {
    "sequence": ((6, 3), [layers.ZeroPadding1D((1, 2)), layers.Cropping1D((2, 0)), layers.UpSampling1D(3),
                          layers.SpatialDropout1D(0.5, seed=0), layers.GaussianNoise(0.5, seed=0),
                          layers.AlphaDropout(0.2, seed=0), layers.Permute((2, 1)), layers.UnitNormalization(axis=1),
                          layers.ActivityRegularization(l2=0.1)]),
    "channels_first_sequence": ((3, 5), [layers.ZeroPadding1D(2, data_format="channels_first"),
                                         layers.UnitNormalization(axis=[1, 2])]),
    "vector": ((4,), [layers.RepeatVector(3), layers.GaussianDropout(0.3, seed=0)]),
    "images": ((5, 7, 3), [layers.Rescaling([1.0, 0.5, 2.0], offset=-0.25), layers.ZeroPadding2D(((1, 0), (2, 1))),
                           layers.Cropping2D(((0, 1), (1, 1))), layers.UpSampling2D((2, 3)),
                           layers.UpSampling2D(2, interpolation="bilinear"), layers.SpatialDropout2D(0.3, seed=1),
                           layers.Resizing(9, 11), layers.Resizing(4, 5, interpolation="nearest"),
                           layers.CenterCrop(3, 3)]),
    "aspect": ((6, 9, 2), [layers.Resizing(4, 4, crop_to_aspect_ratio=True), layers.ZeroPadding2D((0, 2)),
                           layers.Resizing(5, 5, pad_to_aspect_ratio=True, fill_value=0.5),
                           layers.Resizing(7, 3, interpolation="nearest"), layers.CenterCrop(8, 4)]),
    "channels_first": ((2, 6, 5), [layers.ZeroPadding2D(1, data_format="channels_first"),
                                   layers.Cropping2D((1, 2), data_format="channels_first"),
                                   layers.UpSampling2D(2, data_format="channels_first", interpolation="bilinear"),
                                   layers.Resizing(3, 7, data_format="channels_first"),
                                   layers.CenterCrop(2, 4, data_format="channels_first")]),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_catalog_layers_match_onnxruntime(name, tmp_path):
    shape, stack = MODELS[name]
    model = models.Sequential([layers.Input(shape), *stack])
    path = tmp_path / f"{name}.onnx"
    saving.export_onnx(model, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 3):  # the batch axis stays symbolic
        x = np.random.default_rng(batch).standard_normal((batch, *shape)).astype("float32")
        expected = model.predict(x)
        got = session.run(None, {"input": x})[0]
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_antialiased_downsampling_is_refused(tmp_path):
    model = models.Sequential([layers.Input((6, 6, 1)), layers.Resizing(3, 3, antialias=True)])
    with pytest.raises(ValueError, match=r"antialias=True.*opset 18"):
        saving.export_onnx(model, tmp_path / "m.onnx")
