"""Metric names, serialization, and compile's resolution of "accuracy"."""

import json

import pytest

from neurona import losses, metrics


@pytest.mark.parametrize(
    "name, cls",
    [
        ("acc", metrics.Accuracy), ("accuracy", metrics.Accuracy), ("mse", metrics.MeanSquaredError),
        ("mae", metrics.MeanAbsoluteError), ("categorical_accuracy", metrics.CategoricalAccuracy),
        ("SparseCategoricalAccuracy", metrics.SparseCategoricalAccuracy),
        ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
        ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
        ("binary_accuracy", metrics.BinaryAccuracy), ("mean", metrics.Mean),
        ("binary_crossentropy", metrics.BinaryCrossentropy),
    ],
)
def test_get_by_name(name, cls):
    assert type(metrics.get(name)) is cls


@pytest.mark.parametrize("cls", metrics.ALL)
def test_serialize_round_trip(cls):
    metric = cls(name="custom", **({"num_classes": 3} if cls is metrics.MeanIoU else {}))
    config = json.loads(json.dumps(metrics.serialize(metric)))
    clone = metrics.deserialize(config)
    assert type(clone) is cls and clone.get_config() == metric.get_config()


@pytest.mark.parametrize(
    "loss, output_shape, target_shape, expected",
    [
        ("binary_crossentropy", (None, 3), None, metrics.BinaryAccuracy),
        (losses.BinaryCrossentropy(from_logits=True), (None, 1), None, metrics.BinaryAccuracy),
        (losses.binary_crossentropy, None, None, metrics.BinaryAccuracy),
        ("mse", (None, 1), None, metrics.BinaryAccuracy),  # one output unit
        (None, (None, 1), None, metrics.BinaryAccuracy),
        ("sparse_categorical_crossentropy", (None, 10), None, metrics.SparseCategoricalAccuracy),
        (losses.SparseCategoricalCrossentropy, (None, 10), None, metrics.SparseCategoricalAccuracy),
        ("SparseCategoricalCrossentropy", None, None, metrics.SparseCategoricalAccuracy),
        ("categorical_crossentropy", (None, 10), None, metrics.CategoricalAccuracy),
        (losses.CategoricalCrossentropy(), (None, 10), None, metrics.CategoricalAccuracy),
        (None, None, None, metrics.CategoricalAccuracy),
        ("mse", (None, 10), (None, 10), metrics.CategoricalAccuracy),
        (lambda y, p: p, (None, 10), (None,), metrics.SparseCategoricalAccuracy),  # labels, custom loss
        (lambda y, p: p, (None, 10), (None, 1), metrics.SparseCategoricalAccuracy),
    ],
)
def test_resolve_accuracy(loss, output_shape, target_shape, expected):
    metric = metrics.resolve("accuracy", loss=loss, output_shape=output_shape, target_shape=target_shape)
    assert type(metric) is expected and metric.name == "accuracy"


def test_resolve_names_follow_the_identifier():
    assert metrics.resolve("acc", loss="categorical_crossentropy").name == "acc"  # as Keras: History key 'acc'
    assert type(metrics.resolve("mse")) is metrics.MeanSquaredError and metrics.resolve("mse").name == "mse"
    assert metrics.resolve("top_k_categorical_accuracy").name == "top_k_categorical_accuracy"
    existing = metrics.TopKCategoricalAccuracy(k=2, name="top2")
    assert metrics.resolve(existing) is existing
    assert type(metrics.resolve("categorical_accuracy", loss="binary_crossentropy")) is metrics.CategoricalAccuracy


def test_resolve_wraps_plain_functions():
    metric = metrics.resolve(losses.mean_absolute_error)
    assert isinstance(metric, metrics.MeanMetricWrapper) and metric.name == "mean_absolute_error"
    metric.update_state([[1.0], [2.0]], [[2.0], [2.0]])
    assert metric.result() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        metrics.resolve("f1")
