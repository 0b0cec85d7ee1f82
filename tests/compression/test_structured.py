"""prune_filters: the smaller model computes what the original does with the weakest filters zeroed."""

import numpy as np
import pytest
from _harness.compression_models import accuracy

import neurona as nr
from neurona import compression, layers
from neurona.compression.structured import filter_norms


def _zeroed_copy(model, fraction):
    """``model`` with the weakest ``fraction`` of each kernel layer's filters zeroed (kernel columns and biases),
    and the next kernel layer's weights reading those channels zeroed too. With ReLU after it, a zero filter
    outputs zeros, which is what the pruned model's missing channel contributes; the norms are taken layer
    after layer on these zeroed kernels, as prune_filters ranks on kernels whose removed inputs are gone."""
    copy = nr.models.clone_model(model)
    copy.set_weights(model.get_weights())
    removed, channels = None, None
    kernel_layers = [layer for layer in copy.layers if getattr(layer, "kernel", None) is not None]
    for layer in kernel_layers:
        kernel, bias = layer.get_weights()
        if removed is not None:  # zero the rows reading removed channels (Dense after Flatten: p * C + c)
            rows = removed if kernel.ndim > 2 else (np.arange(kernel.shape[0] // channels)[:, None] * channels
                                                    + removed[None, :]).ravel()
            kernel[..., rows, :] = 0.0
        if layer is not kernel_layers[-1]:
            norms = filter_norms(kernel)
            removed, channels = np.argsort(norms)[: int(round(fraction * norms.size))], norms.size
            kernel[..., removed] = 0.0
            bias[removed] = 0.0
        layer.set_weights([kernel, bias])
    return copy


def test_a_pruned_model_equals_the_original_with_its_weakest_filters_zeroed(trained_cnn, mnist_small):
    x_test, y_test = mnist_small[2], mnist_small[3]
    pruned = compression.prune_filters(trained_cnn, 0.5)
    shapes = [tuple(w.shape) for w in pruned.get_weights()]
    assert shapes == [(3, 3, 1, 4), (4,), (3, 3, 4, 8), (8,), (288, 16), (16,), (16, 10), (10,)]
    assert pruned.count_params() < trained_cnn.count_params() / 3
    expected = _zeroed_copy(trained_cnn, 0.5).predict(x_test[:200], verbose=0)
    np.testing.assert_allclose(pruned.predict(x_test[:200], verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert accuracy(pruned, x_test, y_test) > 0.1
    assert pruned.optimizer is not None and pruned.optimizer is not trained_cnn.optimizer


def test_batch_normalization_statistics_follow_their_channels():
    nr.seed(3)
    model = nr.Sequential([layers.Input((6, 6, 2)), layers.Conv2D(6, 3, activation="relu"),
                           layers.BatchNormalization(), layers.GlobalAveragePooling2D(), layers.Dense(3)])
    x = np.random.default_rng(0).normal(size=(16, 6, 6, 2)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((16, 3), "float32"), epochs=2, verbose=0)
    same = compression.prune_filters(model, 0.0)
    np.testing.assert_allclose(same.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    pruned = compression.prune_filters(model, 1 / 3)
    kept = np.sort(np.argsort(-filter_norms(model.layers[0].kernel.numpy()))[:4])
    for original, new in zip(model.layers[1].get_weights(), pruned.layers[1].get_weights()):
        np.testing.assert_array_equal(new, original[kept])


def test_what_cannot_be_followed_is_refused(trained_cnn):
    with pytest.raises(ValueError, match="last kernel layer"):
        compression.prune_filters(trained_cnn, 0.5, layers=["dense_1"])
    with pytest.raises(ValueError, match=r"\['nope'\] are not"):
        compression.prune_filters(trained_cnn, 0.5, layers=["nope"])
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\)"):
        compression.prune_filters(trained_cnn, 1.0)
    odd = nr.Sequential([layers.Input((4,)), layers.Dense(6), layers.LayerNormalization(), layers.Dense(2)])
    with pytest.raises(ValueError, match="cannot follow channels through layer 'layer_normalization'"):
        compression.prune_filters(odd, 0.5)
    inputs = nr.Input((4,))
    functional = nr.Model(inputs, layers.Dense(2)(layers.Dense(3)(inputs)))
    with pytest.raises(TypeError, match="takes a Sequential model"):
        compression.prune_filters(functional, 0.5)
