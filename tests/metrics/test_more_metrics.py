"""RootMeanSquaredError, R2Score, Sum, MeanIoU, KLDivergence, CosineSimilarity, LogCoshError (and Mean, MAPE)
streamed over batches against real Keras 3 (numpy backend) after the same update_state calls; reset, configs,
names in compile, saving with a model."""

import json
import re
import warnings

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

import neurona as nr
from neurona import layers, metrics, models
from neurona.saving import compile_settings


def _batches(kind, rng, sizes=(5, 3, 7)):
    """``[(y_true, y_pred, sample_weight), ...]`` float32 batches of several sizes for a kind of metric."""
    out = []
    for n in sizes:
        w = rng.uniform(0, 2, n).astype(np.float32)
        if kind == "regression":
            t = rng.normal(size=(n, 3))
            batch = (t, t + rng.normal(size=(n, 3)) * 0.7)
        elif kind == "sequences":
            batch = (rng.normal(size=(n, 3, 2)), rng.normal(size=(n, 3, 2)))
        elif kind == "positive":
            batch = (rng.uniform(0.5, 3, (n, 3)), rng.uniform(0, 3, (n, 3)))
        elif kind == "bits":
            batch = ((rng.random((n, 3)) < 0.5).astype(float), rng.normal(size=(n, 3)))
        elif kind == "distributions":
            batch = (rng.dirichlet(np.ones(4), n), rng.dirichlet(np.ones(4), n))
        elif kind == "labels":  # with labels outside [0, 4) (skipped) and the ignorable class 0
            batch = (rng.integers(-1, 5, (n, 2)), rng.integers(0, 4, (n, 2)))
            w = np.round(rng.uniform(0, 4, (n, 2))).astype(np.float32)  # one per label, whole: Keras's int32
            # MeanIoU truncates others
        elif kind == "scores":
            batch = (np.eye(3)[rng.integers(0, 3, n)], rng.uniform(0, 1, (n, 3)))
        elif kind == "values":
            batch = (rng.normal(size=(n, 2)), None)
        else:
            raise ValueError(kind)
        out.append((batch[0].astype(np.float32), None if batch[1] is None else batch[1].astype(np.float32), w))
    return out


# (class name, constructor kwargs, data kind)
CASES = [
    ("RootMeanSquaredError", {}, "regression"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression"),
    ("R2Score", {"class_aggregation": None}, "regression"),
    ("R2Score", {"num_regressors": 3}, "regression"),
    ("MeanAbsolutePercentageError", {}, "positive"),
    ("KLDivergence", {}, "distributions"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 1}, "sequences"),
    ("LogCoshError", {}, "regression"),
    ("MeanIoU", {"num_classes": 4}, "labels"),
    ("MeanIoU", {"num_classes": 4, "ignore_class": 0}, "labels"),
    ("MeanIoU", {"num_classes": 3, "sparse_y_true": False, "sparse_y_pred": False}, "scores"),
    ("MeanIoU", {"num_classes": 4, "dtype": "float32"}, "labels"),
    ("Poisson", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("Hinge", {}, "bits"),
    ("SquaredHinge", {}, "regression"),
    ("CategoricalHinge", {}, "scores"),
    ("Sum", {}, "values"),
    ("Mean", {}, "values"),
]
IDS = [f"{name}-{','.join(f'{k}={v}' for k, v in kwargs.items())}" for name, kwargs, _ in CASES]


def _update(metric, batch, weighted):
    y_true, y_pred, w = batch
    args = (y_true,) if y_pred is None else (y_true, y_pred)
    metric.update_state(*args, sample_weight=w if weighted else None)


def _result(metric):
    return np.asarray(metrics.result_value(metric.result()), dtype=np.float64)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=IDS)
def test_streaming_equals_keras(monkeypatch, name, kwargs, kind, weighted):
    keras = numpy_keras(monkeypatch)
    for seed in range(3):
        batches = _batches(kind, np.random.default_rng(seed))
        ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras's float-weights-on-an-int-metric warning
            for batch in batches:
                _update(ours, batch, weighted)
                _update(theirs, batch, weighted)
                np.testing.assert_allclose(_result(ours), np.asarray(theirs.result(), dtype=np.float64), rtol=2e-5,
                                           atol=2e-6, err_msg=f"{name} seed {seed}")
        ours.reset_state()
        theirs.reset_state()
        if name not in ("R2Score",):  # Keras's R2Score is NaN after a reset; ours reports 0.0
            np.testing.assert_allclose(_result(ours), np.asarray(theirs.result(), dtype=np.float64), atol=1e-7)
        _update(ours, batches[1], weighted)  # after a reset only the new batch counts
        fresh = getattr(metrics, name)(**kwargs)
        _update(fresh, batches[1], weighted)
        np.testing.assert_array_equal(_result(ours), _result(fresh))


def test_streaming_equals_the_concatenation(rng):
    batches = _batches("regression", rng)
    streamed, whole = metrics.R2Score(), metrics.R2Score()
    for t, p, w in batches:
        streamed.update_state(t, p, sample_weight=w)
    whole.update_state(*(np.concatenate([b[i] for b in batches]) for i in range(3)))
    assert streamed.result() == pytest.approx(whole.result(), rel=1e-12)


def test_hand_values():
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state([[0.0, 0.0]], [[3.0, 4.0]])  # mean squared error 12.5
    assert rmse.result() == pytest.approx(12.5**0.5)
    iou = metrics.MeanIoU(num_classes=2)
    iou.update_state([0, 0, 1, 1], [0, 1, 0, 1])  # per class 1 / 3
    assert iou.result() == pytest.approx(1 / 3, rel=1e-6)
    total = metrics.Sum()
    total.update_state([[1.0, 2.0], [3.0, 4.0]], sample_weight=[1.0, 0.5])  # 3 + 3.5
    assert total.result() == 6.5
    r2 = metrics.R2Score()
    r2.update_state([[1.0], [2.0], [3.0]], [[1.0], [2.0], [3.0]])
    assert r2.result() == 1.0


def test_argument_errors():
    with pytest.raises(ValueError, match="class_aggregation must be one of"):
        metrics.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match="num_regressors"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="num_classes"):
        metrics.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match="R2Score expects 2-d inputs"):
        metrics.R2Score().update_state(np.zeros(3), np.zeros(3))
    r2 = metrics.R2Score()
    r2.update_state(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="this batch has 2 output columns, the earlier ones had 3"):
        r2.update_state(np.zeros((2, 2)), np.ones((2, 2)))


@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=IDS)
def test_configs_round_trip_and_hold_keras_arguments(monkeypatch, name, kwargs, kind):
    keras = numpy_keras(monkeypatch)
    metric = getattr(metrics, name)(**kwargs)
    config = json.loads(json.dumps(metrics.serialize(metric)))
    clone = metrics.deserialize(config)
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    keras_config = getattr(keras.metrics, name)(**kwargs).get_config()
    assert metric.name == re.sub(r"_\d+$", "", keras_config["name"])  # Keras numbers unnamed MeanIoUs
    shared = {k: v for k, v in keras_config.items() if k in metric.get_config() and k not in ("dtype", "name")}
    assert {k: metric.get_config()[k] for k in shared} == shared


@pytest.mark.parametrize("name, cls", [
    ("root_mean_squared_error", metrics.RootMeanSquaredError), ("r2_score", metrics.R2Score),
    ("R2Score", metrics.R2Score), ("kl_divergence", metrics.KLDivergence), ("kld", metrics.KLDivergence),
    ("cosine_similarity", metrics.CosineSimilarity), ("logcosh", metrics.LogCoshError),
    ("log_cosh_error", metrics.LogCoshError), ("sum", metrics.Sum), ("mape", metrics.MeanAbsolutePercentageError),
    ("poisson", metrics.Poisson), ("msle", metrics.MeanSquaredLogarithmicError), ("hinge", metrics.Hinge),
    ("squared_hinge", metrics.SquaredHinge), ("categorical_hinge", metrics.CategoricalHinge),
])
def test_names(name, cls):
    assert type(metrics.get(name)) is cls


def _regression_model():
    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse",
                  metrics=["root_mean_squared_error", "r2_score", "cosine_similarity", "logcosh", "kl_divergence",
                           metrics.R2Score(class_aggregation="variance_weighted_average", name="r2_var"),
                           metrics.CosineSimilarity(axis=0, name="cos0")])
    return model


def test_compiled_by_name_they_report_what_the_metric_computes(rng):
    model = _regression_model()
    x, y = rng.normal(size=(16, 3)).astype(np.float32), rng.uniform(0, 1, (16, 2)).astype(np.float32)
    logs = model.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    for key, metric in [("root_mean_squared_error", metrics.RootMeanSquaredError()), ("r2_score", metrics.R2Score()),
                        ("logcosh", metrics.LogCoshError()), ("kl_divergence", metrics.KLDivergence()),
                        ("r2_var", metrics.R2Score(class_aggregation="variance_weighted_average"))]:
        metric.update_state(y, pred)
        assert logs[key] == pytest.approx(metric.result(), rel=1e-5, abs=1e-6), key


def test_saved_with_the_model(tmp_path, rng):
    model = _regression_model()
    x, y = rng.normal(size=(16, 3)).astype(np.float32), rng.uniform(0, 1, (16, 2)).astype(np.float32)
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    assert compile_settings.compile_config(loaded)["metrics"] == compile_settings.compile_config(model)["metrics"]
    after = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert after == pytest.approx(before, rel=1e-6)


def test_mean_iou_in_a_classifier_saves_and_loads(tmp_path, rng):
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    iou = metrics.MeanIoU(num_classes=3, sparse_y_pred=False, ignore_class=2, name="iou")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[iou])
    x, y = rng.normal(size=(12, 4)).astype(np.float32), rng.integers(0, 3, 12)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    direct = metrics.MeanIoU(num_classes=3, sparse_y_pred=False, ignore_class=2)
    direct.update_state(y, model.predict(x, verbose=0))
    assert logs["iou"] == pytest.approx(direct.result(), rel=1e-6)
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    assert compile_settings.compile_config(loaded)["metrics"] == compile_settings.compile_config(model)["metrics"]
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(logs, rel=1e-6)


def test_state_is_declared_for_data_parallel_sums():
    for metric in (metrics.Sum(), metrics.R2Score(), metrics.MeanIoU(2), metrics.RootMeanSquaredError(),
                   metrics.KLDivergence()):
        assert type(metric)._additive_state, type(metric).__name__
        for attribute in type(metric)._additive_state:
            assert hasattr(metric, attribute)
    assert nr.metrics.Sum()._additive_state == ("total",)


def test_keras_compile_config_rebuilds_the_metrics(monkeypatch):
    keras = numpy_keras(monkeypatch)
    from neurona.saving.keras.compile_config import compile_from_keras

    given = [keras.metrics.MeanIoU(num_classes=5, ignore_class=4, sparse_y_pred=False),
             keras.metrics.R2Score(class_aggregation=None, num_regressors=2), keras.metrics.RootMeanSquaredError(),
             keras.metrics.CosineSimilarity(), keras.metrics.LogCoshError(), keras.metrics.KLDivergence()]
    settings = compile_from_keras({"optimizer": "adam", "loss": "mse",
                                   "metrics": [keras.metrics.serialize(m) for m in given] + ["r2_score"]}, "test")
    rebuilt = settings["metrics"]
    assert [type(m).__name__ for m in rebuilt[:-1]] == [type(m).__name__ for m in given]
    assert (rebuilt[0].num_classes, rebuilt[0].ignore_class, rebuilt[0].sparse_y_pred) == (5, 4, False)
    assert (rebuilt[1].class_aggregation, rebuilt[1].num_regressors) == (None, 2)
    assert rebuilt[-1] == "r2_score"


def test_two_processes_reduce_to_the_metrics_of_all_samples(rng):
    """Data-parallel training sums the declared state (neurona/distributed/metric_sync.py): split over two
    simulated processes, the reduced results equal one process's on all the samples."""
    from pathlib import Path

    from _harness.op_harness import sibling_module

    from neurona.distributed import metric_sync

    fakes = Path(__file__).parent.parent / "distributed" / "fakes.py"
    simulate = sibling_module(fakes, "fakes").simulate
    data = {"t": rng.normal(size=(9, 3)), "p": rng.normal(size=(9, 3)), "w": rng.uniform(0.5, 2, 9),
            "labels": rng.integers(0, 3, 9), "guess": rng.integers(0, 3, 9)}

    def make():
        return [metrics.Sum(), metrics.RootMeanSquaredError(), metrics.R2Score(), metrics.MeanIoU(3),
                metrics.CosineSimilarity(), metrics.R2Score(class_aggregation="variance_weighted_average", name="r2v"),
                metrics.R2Score(num_regressors=2, name="r2_adjusted")]

    def update(items, rows):
        for metric in items:
            if isinstance(metric, metrics.Sum):
                metric.update_state(data["t"][rows], sample_weight=data["w"][rows])
            elif isinstance(metric, metrics.MeanIoU):
                metric.update_state(data["labels"][rows], data["guess"][rows])
            else:
                metric.update_state(data["t"][rows], data["p"][rows], sample_weight=data["w"][rows])

    whole = make()
    update(whole, slice(0, 9))
    expected = {m.name: m.result() for m in whole}

    def run(comm):
        items = make()
        update(items, slice(0, 4) if comm.rank == 0 else slice(4, 9))
        return metric_sync.reduced_results(comm, items)

    for reduced in simulate(2, run):
        assert set(reduced) == set(expected)
        for name, value in expected.items():
            assert reduced[name] == pytest.approx(value, rel=1e-10), name
